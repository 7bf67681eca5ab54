"""Communities: mine, detail, joining, leaving, rules and settings."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.api.serializers import (
    AcceptRulesIn,
    CommunityDetailOut,
    CommunityUpdateIn,
    InviteJoinIn,
    MyCommunityOut,
    MyMembershipOut,
    ShareTicketJoinIn,
)
from community.authz import Action, can, require, visible_membership
from community.models import Membership
from community.pagination import cursor_pagination
from community.selectors import active_member_count, memberships_of_user
from community.services import communities as services
from community.services.communities import membership_touch
from community.throttling import WriteThrottle
from community.timezones import community_time
from community.wechat import WeChatError, as_domain_error, get_client


def community_detail_response(membership: Membership, *, status_code: int = 200) -> Response:
    community = membership.community
    community.member_count = active_member_count(community_id=community.pk)
    with community_time(community):
        body = CommunityDetailOut(
            community,
            context={
                "membership": membership,
                "show_invite_code": can(membership, Action.MANAGE),
            },
        ).data
    return Response(body, status=status_code)


def _joined_response(membership: Membership) -> Response:
    with community_time(membership.community):
        body = MyCommunityOut({"community": membership.community, "membership": membership}).data
    return Response(body, status=status.HTTP_200_OK)


class MyCommunitiesView(GenericAPIView):
    serializer_class = MyCommunityOut
    pagination_class = cursor_pagination("-joined_at", "pk")

    @extend_schema(
        operation_id="listMyCommunities",
        tags=["communities"],
        summary=_("My communities"),
        description=(
            _(
                "Communities I belong to, including those waiting for approval; newest first, "
                "cursor-paginated."
            )
        ),
        responses={200: MyCommunityOut(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(memberships_of_user(user=request.user))
        body = []
        for m in page:  # each in the time zone of its own community
            with community_time(m.community):
                body.append(MyCommunityOut({"community": m.community, "membership": m}).data)
        return self.get_paginated_response(body)


class JoinByShareTicketView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="joinByShareTicket",
        tags=["communities"],
        summary=_("Join from the group's share card"),
        description=(
            _(
                "Send `encryptedData` and `iv` from `wx.getGroupEnterInfo` (or `wx.getShareInfo`). "
                "The server decrypts them with your session and joins (or creates) the community "
                "of that WeChat group. The membership is `pending` when the community requires "
                "approval. Errors: `invalid_encrypted_data`, `wrong_appid`, `invite_only`, `banned`."
            )
        ),
        request=ShareTicketJoinIn,
        responses={200: MyCommunityOut},
    )
    def post(self, request):
        data = ShareTicketJoinIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.community_join_by_share_ticket(
            user=request.user, **data.validated_data
        )
        return _joined_response(membership)


class JoinByInviteView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="joinByInvite",
        tags=["communities"],
        summary=_("Join with an invite code"),
        request=InviteJoinIn,
        responses={200: MyCommunityOut},
        examples=[OpenApiExample("Invite", value={"invite_code": "K7mP2xQa"}, request_only=True)],
    )
    def post(self, request):
        data = InviteJoinIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.community_join_by_invite(
            user=request.user, invite_code=data.validated_data["invite_code"]
        )
        return _joined_response(membership)


class CommunityDetailView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getCommunity",
        tags=["communities"],
        summary=_("Community detail"),
        description=_("With my membership; `invite_code` only for admins and the owner."),
        responses={200: CommunityDetailOut},
    )
    def get(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        membership_touch(membership=membership)
        return community_detail_response(membership)

    @extend_schema(
        operation_id="updateCommunity",
        tags=["communities"],
        summary=_("Edit the community (admins)"),
        description=_("Changing `rules_text` publishes a new rules version every member accepts."),
        request=CommunityUpdateIn,
        responses={200: CommunityDetailOut},
    )
    def patch(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE)
        data = CommunityUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.community_update(actor=actor, **data.validated_data)
        return community_detail_response(actor)


class LeaveView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="leaveCommunity",
        tags=["communities"],
        summary=_("Leave the community"),
        request=None,
        responses={204: None},
    )
    def post(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        services.community_leave(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AcceptRulesView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="acceptGroupRules",
        tags=["communities"],
        summary=_("Accept the group rules"),
        description=_(
            "Send the `rules_version` shown; 409 `rules_version_changed` if it moved on."
        ),
        request=AcceptRulesIn,
        responses={200: MyMembershipOut},
    )
    def post(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        data = AcceptRulesIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.community_accept_rules(
            membership=membership, version=data.validated_data["version"]
        )
        with community_time(membership.community):
            return Response(MyMembershipOut(membership).data)


class RegenerateInviteView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="regenerateInviteCode",
        tags=["communities"],
        summary=_("Regenerate the invite code (admins)"),
        description=_("The old code stops working at once."),
        request=None,
        responses={200: CommunityDetailOut},
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE)
        services.community_regenerate_invite(actor=actor)
        return community_detail_response(actor)


class ShareCodeView(APIView):
    @extend_schema(
        operation_id="getShareCode",
        tags=["communities"],
        summary=_("Mini-program code that invites to the community (admins)"),
        description=(
            _(
                "A WeChat mini-program code (JPEG) whose `scene` is `i=<invite_code>`; scanning it "
                "opens the join page. Regenerating the invite code invalidates printed codes."
            )
        ),
        responses={
            (200, "image/jpeg"): OpenApiResponse(response=bytes, description=_("JPEG image")),
        },
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE)
        try:
            image = get_client().get_unlimited_qrcode(
                scene=f"i={actor.community.invite_code}", page="pages/join/index"
            )
        except WeChatError as exc:
            raise as_domain_error(exc) from exc
        return HttpResponse(image, content_type="image/jpeg")
