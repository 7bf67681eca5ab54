"""The moderation API: members report, moderators work the queue."""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, require
from community.errors import NotFound
from community.pagination import CursorPagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from moderation import selectors, services
from moderation.serializers import CaseDecisionIn, CaseFilterIn, CaseOut, ReportIn, ReportOut

TAGS = ["moderation"]
_COMMUNITY_ID = OpenApiParameter("community_id", str, OpenApiParameter.PATH)
_CASE_ID = OpenApiParameter("case_id", str, OpenApiParameter.PATH)
MODERATORS = gettext_lazy(
    "Moderator tiers and holders of the moderate-content capability (403 `tier_too_low`)."
)


class ReportListView(GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = ReportOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="reportContentOrMember",
        tags=TAGS,
        summary=gettext_lazy("Report content or a member"),
        description=(
            gettext_lazy(
                "Reports of the same target merge into one case; reporting it again returns my "
                "first report (201 either way). I learn the outcome by notification and in "
                "`listMyReports`, never who decided."
            )
        ),
        parameters=[_COMMUNITY_ID],
        request=ReportIn,
        responses={201: ReportOut},
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        data = ReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_create(actor=actor, **data.validated_data)
        with community_time(actor.community):
            return Response(ReportOut(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="listMyReports",
        tags=TAGS,
        summary=gettext_lazy("My reports and their outcome"),
        description=gettext_lazy("Newest first."),
        parameters=[_COMMUNITY_ID],
        responses={200: ReportOut(many=True)},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        page = self.paginate_queryset(selectors.report_list_mine(actor=actor))
        with community_time(actor.community):
            return self.get_paginated_response(ReportOut(page, many=True).data)


class CaseListView(GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = CaseOut

    @extend_schema(
        operation_id="listModerationCases",
        tags=TAGS,
        summary=gettext_lazy("The moderation queue"),
        description=format_lazy(
            "{}{}", gettext_lazy("Cases newest first, with their number of reports. "), MODERATORS
        ),
        parameters=[_COMMUNITY_ID, CaseFilterIn],
        responses={200: CaseOut(many=True)},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MODERATE_CONTENT)
        filters = CaseFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.case_list(actor=actor, status=filters.validated_data.get("status"))
        )
        with community_time(actor.community):
            return self.get_paginated_response(CaseOut(page, many=True).data)


class CaseDecisionView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="decideModerationCase",
        tags=TAGS,
        summary=gettext_lazy("Decide a case"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Hide or restore the content, warn, mute for `mute_days` (ends by itself), ban or "
                    "dismiss, with a reason. Once per case (409 `case_decided`). Every reporter is "
                    "told the outcome once. "
                ),
                MODERATORS,
            )
        ),
        parameters=[_CASE_ID],
        request=CaseDecisionIn,
        responses={200: CaseOut},
    )
    def post(self, request, case_id: str):
        community_id = selectors.case_community(case_id=case_id)
        if community_id is None:
            raise NotFound(_("Case not found."), code="case_not_found")
        actor = require(request.user, community_id, Action.MODERATE_CONTENT)
        data = CaseDecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_decide(actor=actor, case_id=case_id, **data.validated_data)
        with community_time(actor.community):
            return Response(CaseOut(case).data)
