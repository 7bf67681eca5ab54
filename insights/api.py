"""The insights API: the dashboard for the admin tiers and holders of the analytics
capability, CSV exports of every figure, the month's most active members (members see them
when the admin allows it, and only above the community's floor k), one member's timeline
(admin tiers only) and the chat-count import."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, can, ensure, require, visible_membership
from community.errors import NotFound
from community.openapi import COMMUNITY_ID
from community.throttling import WriteThrottle
from community.timezones import community_time
from insights import figures, selectors
from insights.digest import weekly_digest
from insights.serializers import (
    CleanupListOut,
    DashboardOut,
    ImportReportOut,
    MessageCountsIn,
    RemovalIn,
    RemovalOut,
    StillHereOut,
    TimelineOut,
    TopMembersOut,
    WeeklyDigestOut,
)
from insights.services import inactive
from insights.services.imports import messages_import

TAGS = ["insights"]
ANALYSTS = gettext_lazy(
    "Admin tiers and holders of the view-analytics capability (403 `tier_too_low`)."
)
CSV = OpenApiResponse(response=bytes, description=gettext_lazy("CSV file (UTF-8 with BOM)"))


class CsvRenderer(BaseRenderer):
    """Lets a client that asks for ``text/csv`` only be served; errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str):
            return data
        return JSONRenderer().render(data)


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class DashboardView(APIView):
    @extend_schema(
        operation_id="getInsightsDashboard",
        tags=TAGS,
        summary=gettext_lazy("The activity dashboard"),
        description=format_lazy(
            "{}{}",
            gettext_lazy(
                "Active members (DAU/WAU/MAU and their ratio, daily series of 30 days), joins per "
                "week, participation of the latest polls, surveys and events, the weekday x hour "
                "heatmap, member segments (counts over 30 days, and up to 20 members of each; the "
                "segments export lists them all), retention by join month and the month's most "
                "active members, in the community's calendar. The figures come from the summary "
                "the hourly job computes (`as_of`), or are counted on the spot before it first "
                "ran. "
            ),
            ANALYSTS,
        ),
        parameters=[COMMUNITY_ID],
        responses={200: DashboardOut},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW_ANALYTICS)
        community = actor.community
        data = selectors.dashboard(community=community, today=selectors.local_today(community))
        with community_time(community):
            return Response(DashboardOut(data).data)


class FigureCsvView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="exportInsightsFigure",
        tags=TAGS,
        summary=gettext_lazy("One dashboard figure as CSV"),
        description=format_lazy(
            "{}{}",
            gettext_lazy("The figure to export, as the dashboard shows it. "),
            ANALYSTS,
        ),
        parameters=[
            COMMUNITY_ID,
            OpenApiParameter(
                "figure",
                str,
                OpenApiParameter.PATH,
                enum=list(figures.FIGURES),
                description=format_lazy(
                    "{}{}",
                    gettext_lazy("The figure: "),
                    ", ".join(f"`{f}`" for f in figures.FIGURES),
                ),
            ),
        ],
        responses={(200, "text/csv"): CSV},
    )
    def get(self, request, community_id: str, figure: str):
        actor = require(request.user, community_id, Action.VIEW_ANALYTICS)
        if figure not in figures.FIGURES:
            raise NotFound(_("No such figure."), code="unknown_figure")
        community = actor.community
        text = figures.figure_csv(
            community=community, figure=figure, today=selectors.local_today(community)
        )
        return _csv_response(text, f"{figure}.csv")


class TopMembersView(APIView):
    @extend_schema(
        operation_id="getTopMembers",
        tags=TAGS,
        summary=gettext_lazy("The month's most active members (for thanks)"),
        description=gettext_lazy(
            "Analysts always; other members only when the community shows it to them, and "
            "then only when at least k (the community's floor) members were active "
            "(`hidden` otherwise). 403 `tier_too_low` when not shown to members."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: TopMembersOut},
    )
    def get(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        community = membership.community
        rules = selectors.insights_settings_for(community)
        analyst = can(membership, Action.VIEW_ANALYTICS)
        if not analyst and not rules.members_see_top:
            ensure(membership, Action.VIEW_ANALYTICS)  # the precise 403
        rows = selectors.top_members(community=community, today=selectors.local_today(community))
        hidden = not analyst and len(rows) < rules.member_floor
        return Response(TopMembersOut({"hidden": hidden, "members": [] if hidden else rows}).data)


class TimelineView(APIView):
    @extend_schema(
        operation_id="getMemberTimeline",
        tags=TAGS,
        summary=gettext_lazy("One member's activity timeline (admin tiers)"),
        description=gettext_lazy(
            "Their member-days of the last 90 days, newest first, then rolled-up weeks and "
            "months. Admin tiers only (403 `tier_too_low`); 404 `member_not_found`."
        ),
        parameters=[
            COMMUNITY_ID,
            OpenApiParameter(
                "user_id",
                str,
                OpenApiParameter.PATH,
                description=gettext_lazy("User id of the member (as in `user_id` of the lists)"),
            ),
        ],
        responses={200: TimelineOut},
    )
    def get(self, request, community_id: str, user_id: str):
        actor = require(request.user, community_id, Action.VIEW_MEMBER_TIMELINE)
        community = actor.community
        if not community.memberships.filter(user_id=user_id).exists():
            raise NotFound(_("Member not found."), code="member_not_found")
        data = selectors.member_timeline(
            community=community, user_id=user_id, today=selectors.local_today(community)
        )
        return Response(TimelineOut(data).data)


class TimelineCsvView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="exportMemberTimeline",
        tags=TAGS,
        summary=gettext_lazy("One member's activity timeline as CSV (admin tiers)"),
        description=gettext_lazy(
            "Their member-days of the last 90 days, newest first, one line per day. Admin "
            "tiers only (403 `tier_too_low`); 404 `member_not_found`."
        ),
        parameters=[
            COMMUNITY_ID,
            OpenApiParameter(
                "user_id",
                str,
                OpenApiParameter.PATH,
                description=gettext_lazy("User id of the member (as in `user_id` of the lists)"),
            ),
        ],
        responses={(200, "text/csv"): CSV},
    )
    def get(self, request, community_id: str, user_id: str):
        actor = require(request.user, community_id, Action.VIEW_MEMBER_TIMELINE)
        community = actor.community
        if not community.memberships.filter(user_id=user_id).exists():
            raise NotFound(_("Member not found."), code="member_not_found")
        text = figures.timeline_csv(
            community=community, user_id=user_id, today=selectors.local_today(community)
        )
        return _csv_response(text, "timeline.csv")


class MessageCountsView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="importMessageCounts",
        tags=TAGS,
        summary=gettext_lazy("Import chat message counts from a CSV"),
        description=format_lazy(
            "{}{}",
            gettext_lazy(
                "Lines of `date, nickname or openid, messages` (a header line optional). All or "
                "nothing: when a row names no member (or a nickname two members share), nothing "
                "is written and `unmatched` lists those rows (`applied` false). 400 `invalid_csv` "
                "for a malformed file. "
            ),
            ANALYSTS,
        ),
        parameters=[COMMUNITY_ID],
        request=MessageCountsIn,
        examples=[
            OpenApiExample(
                "Counts",
                value={"csv": "date,nickname,messages\n2026-11-02,小明,12\n"},
                request_only=True,
            )
        ],
        responses={200: ImportReportOut},
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW_ANALYTICS)
        data = MessageCountsIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = messages_import(actor=actor, text=data.validated_data["csv"])
        return Response(ImportReportOut(report).data)


class CleanupListView(APIView):
    @extend_schema(
        operation_id="listInactiveMembers",
        tags=TAGS,
        summary=gettext_lazy("Inactive members to clean up (admin tiers)"),
        description=gettext_lazy(
            'Members asked "still there?" more than the grace period ago and still inactive, '
            "longest inactive first, and the same as text with their nicknames (to remove "
            "them by hand in the WeChat group). Admin tiers only (403 `tier_too_low`)."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: CleanupListOut},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE_INACTIVE)
        rows = [
            {
                "membership_id": r.membership_id,
                "user_id": r.user_id,
                "nickname": str(r.user),
                "last_active_at": r.last_active_at,
                "asked_at": r.started_at,
            }
            for r in inactive.cleanup_list(actor=actor)
        ]
        text = inactive.cleanup_text(actor=actor)
        with community_time(actor.community):
            return Response(CleanupListOut({"members": rows, "text": text}).data)


class RemovalView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="removeInactiveMembers",
        tags=TAGS,
        summary=gettext_lazy("Mark inactive members removed (admin tiers)"),
        description=gettext_lazy(
            "Each listed member of the clean-up list leaves the community (roles ended), the "
            "reason recorded; members not on the list are skipped. Reversible: they may come "
            "back by the share card or the invite code, history kept."
        ),
        parameters=[COMMUNITY_ID],
        request=RemovalIn,
        responses={200: RemovalOut},
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE_INACTIVE)
        data = RemovalIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = inactive.inactive_remove(actor=actor, **data.validated_data)
        return Response(RemovalOut(result).data)


class WeeklyDigestView(APIView):
    @extend_schema(
        operation_id="getWeeklyDigest",
        tags=TAGS,
        summary=gettext_lazy("The weekly digest (admin tiers)"),
        description=gettext_lazy(
            "The figures of the Monday digest, as of now: active members of last week (Monday "
            "to Sunday, the community's calendar) and the change against the week before, "
            "participation of the polls, surveys and events created last week, events starting "
            "in the next 7 days, open tasks past their due time and the inactive-member "
            "candidates. The admins get it as a subscribe message (`weekly_digest`) on Mondays "
            "from 08:00, once per week. Admin tiers only (403 `tier_too_low`)."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: WeeklyDigestOut},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW_WEEKLY_DIGEST)
        data = weekly_digest(community=actor.community)
        with community_time(actor.community):
            return Response(WeeklyDigestOut(data).data)


class StillHereView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getStillHere",
        tags=TAGS,
        summary=gettext_lazy('My "still there?" question'),
        description=gettext_lazy(
            'The in-app page of the "still there?" message (`still_here`), for members who '
            "gave no consent for the subscribe message too: whether I was asked and have not "
            "answered, and whether I came back after a clean-up (`welcome_back`). Any member."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: StillHereOut},
    )
    def get(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        return Response(StillHereOut(inactive.still_here_state(membership=membership)).data)

    @extend_schema(
        operation_id="confirmStillHere",
        tags=TAGS,
        summary=gettext_lazy("I'm here"),
        description=gettext_lazy(
            'Answers "still there?": counts as activity and takes me off the inactive-member '
            "list at once. Safe to repeat. Any member."
        ),
        parameters=[COMMUNITY_ID],
        request=None,
        responses={200: StillHereOut},
    )
    def post(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        return Response(StillHereOut(inactive.still_here_confirm(membership=membership)).data)
