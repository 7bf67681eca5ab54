"""Member list and moderation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.api.serializers import MemberFilterIn, MemberOut, TierIn
from community.authz import Action, require, visible_membership
from community.pagination import cursor_pagination
from community.selectors import member_list
from community.services import communities as services
from community.throttling import WriteThrottle
from community.timezones import community_time


class MemberListView(GenericAPIView):
    serializer_class = MemberOut
    pagination_class = cursor_pagination("-joined_at", "pk")

    @extend_schema(
        operation_id="listMembers",
        tags=["members"],
        summary=_("Members of the community"),
        description=(
            _(
                "Cursor-paginated, newest first. Members see active and muted members; moderators and "
                "above see every status and can filter by it."
            )
        ),
        parameters=[MemberFilterIn],
        responses={200: MemberOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = visible_membership(request.user, community_id)
        filters = MemberFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(member_list(viewer=viewer, **filters.validated_data))
        with community_time(viewer.community):
            return self.get_paginated_response(MemberOut(page, many=True).data)


_MEMBER_ID = OpenApiParameter(
    "member_id", str, OpenApiParameter.PATH, description=_("Membership id")
)


class _MemberActionView(APIView):
    """POST on one member; subclasses name the service and the summary."""

    throttle_classes = [WriteThrottle]
    action = Action.MODERATE
    service = None

    def post(self, request, community_id: str, member_id: str):
        actor = require(request.user, community_id, self.action)
        target = type(self).service(actor=actor, target_id=member_id)
        with community_time(actor.community):
            return Response(MemberOut(target).data)


def _member_action(name: str, service, operation_id: str, summary: str, description: str):
    @extend_schema(
        operation_id=operation_id,
        tags=["members"],
        summary=summary,
        description=description,
        request=None,
        parameters=[_MEMBER_ID],
        responses={200: MemberOut},
    )
    def post(self, request, community_id: str, member_id: str):
        return _MemberActionView.post(self, request, community_id, member_id)

    return type(name, (_MemberActionView,), {"service": staticmethod(service), "post": post})


ApproveView = _member_action(
    "ApproveView",
    services.membership_approve,
    "approveMember",
    _("Approve a pending member (moderators, approve-joins role)"),
    _(
        "Lets a member who asked to join in. Moderators and above, and holders of a role with "
        "the `approve_joins` capability."
    ),
)
ApproveView.action = Action.APPROVE_JOINS
MuteView = _member_action(
    "MuteView",
    services.membership_mute,
    "muteMember",
    _("Mute a member (moderators)"),
    _("A muted member keeps reading but cannot vote, answer or post."),
)
BanView = _member_action(
    "BanView",
    services.membership_ban,
    "banMember",
    _("Ban a member (moderators)"),
    _("The community disappears for them and their sign-in is revoked."),
)
RestoreView = _member_action(
    "RestoreView",
    services.membership_restore,
    "restoreMember",
    _("Unmute or unban a member (moderators)"),
    _("Back to active."),
)


class TierView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="changeMemberTier",
        tags=["members"],
        summary=_("Change a member's tier (admins)"),
        description=(
            _(
                "Admins give tiers below their own; `owner` hands ownership over (the old owner "
                "becomes an admin)."
            )
        ),
        request=TierIn,
        parameters=[_MEMBER_ID],
        responses={200: MemberOut},
    )
    def post(self, request, community_id: str, member_id: str):
        actor = require(request.user, community_id, Action.MANAGE)
        data = TierIn(data=request.data)
        data.is_valid(raise_exception=True)
        target = services.membership_change_tier(
            actor=actor, target_id=member_id, tier=data.validated_data["tier"]
        )
        with community_time(actor.community):
            return Response(MemberOut(target).data)
