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
from community.openapi import COMMUNITY_ID
from community.pagination import CursorPagination, cursor_pagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from moderation import selectors, services
from moderation.serializers import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    AuditEntryOut,
    AuditFilterIn,
    CaseDecisionIn,
    CaseListFilterIn,
    CaseOut,
    ReportIn,
    ReportOut,
    SanctionOut,
    WarningRuleIn,
    WarningRuleOut,
)

TAGS = ["moderation"]
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
        parameters=[COMMUNITY_ID],
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
        parameters=[COMMUNITY_ID],
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
            "{}{}",
            gettext_lazy(
                "Cases newest first, with their number of reports and the status of their appeal "
                "(`?appeal=open`: appeals waiting for a decision). "
            ),
            MODERATORS,
        ),
        parameters=[COMMUNITY_ID, CaseListFilterIn],
        responses={200: CaseOut(many=True)},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MODERATE_CONTENT)
        filters = CaseListFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.case_list(
                actor=actor,
                status=filters.validated_data.get("status"),
                appeal=filters.validated_data.get("appeal"),
            )
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


def _case_actor(request, case_id: str, action: Action):
    community_id = selectors.case_community(case_id=case_id)
    if community_id is None:
        raise NotFound(_("Case not found."), code="case_not_found")
    return require(request.user, community_id, action)


class MySanctionListView(GenericAPIView):
    pagination_class = cursor_pagination("-decided_at", "-id")
    serializer_class = SanctionOut

    @extend_schema(
        operation_id="listMySanctions",
        tags=TAGS,
        summary=gettext_lazy("My warnings, mutes and hidden content"),
        description=gettext_lazy(
            "Decisions about me, newest first, with their reason, the end of a mute, the mute "
            "a warning led to by the community's rule (`escalation`), and my appeal. Never "
            "who decided. Muted members see theirs too."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: SanctionOut(many=True)},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        page = self.paginate_queryset(selectors.sanction_list_mine(actor=actor))
        with community_time(actor.community):
            return self.get_paginated_response(SanctionOut(page, many=True).data)


class AppealView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="appealModerationDecision",
        tags=TAGS,
        summary=gettext_lazy("Appeal a decision about me"),
        description=gettext_lazy(
            "Once per case (409 `appeal_exists`); only decisions about me that sanction me "
            "(hide, warn, mute). The appeal waits in the moderation queue; another moderator "
            "of the same tier as the one who decided, or higher, upholds or overturns it, and "
            "I am told once."
        ),
        parameters=[_CASE_ID],
        request=AppealIn,
        responses={201: AppealOut},
    )
    def post(self, request, case_id: str):
        actor = _case_actor(request, case_id, Action.VIEW)
        data = AppealIn(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_create(actor=actor, case_id=case_id, **data.validated_data)
        with community_time(actor.community):
            return Response(AppealOut(appeal).data, status=status.HTTP_201_CREATED)


class AppealDecisionView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="decideAppeal",
        tags=TAGS,
        summary=gettext_lazy("Decide an appeal"),
        description=gettext_lazy(
            "`uphold` keeps the decision; `overturn` undoes it (content shown again, warning "
            "withdrawn and any mute it led to lifted, the case's mute ended). Decided by a "
            "moderator other than the one who decided the case, of the same tier or higher "
            "(403 `appeal_needs_another_moderator`); the owner's decisions go back to the "
            "owner. The member is told once."
        ),
        parameters=[_CASE_ID],
        request=AppealDecisionIn,
        responses={200: AppealOut},
    )
    def post(self, request, case_id: str):
        actor = _case_actor(request, case_id, Action.MODERATE_CONTENT)
        data = AppealDecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_decide(actor=actor, case_id=case_id, **data.validated_data)
        with community_time(actor.community):
            return Response(AppealOut(appeal).data)


def _rule_out(rule) -> dict:
    return WarningRuleOut(rule).data


class WarningRuleView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getWarningRule",
        tags=TAGS,
        summary=gettext_lazy("How warnings escalate here"),
        description=gettext_lazy(
            "The community's rule (default: 3 warnings within 30 days mute for 7 days) and "
            "its sentence for the group rules page. Every member."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: WarningRuleOut},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        return Response(_rule_out(selectors.warning_rule_of(community_id=actor.community_id)))

    @extend_schema(
        operation_id="updateWarningRule",
        tags=TAGS,
        summary=gettext_lazy("Change how warnings escalate"),
        description=gettext_lazy("The admin tiers. Applies to the next warning."),
        parameters=[COMMUNITY_ID],
        request=WarningRuleIn,
        responses={200: WarningRuleOut},
    )
    def put(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE)
        data = WarningRuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.warning_rule_update(actor=actor, **data.validated_data)
        return Response(_rule_out(rule))


class AuditLogView(GenericAPIView):
    pagination_class = cursor_pagination("-at", "-id")
    serializer_class = AuditEntryOut

    @extend_schema(
        operation_id="listAuditLog",
        tags=TAGS,
        summary=gettext_lazy("The audit log"),
        description=gettext_lazy(
            "Every moderation decision, appeal, escalation, change of the warning rule, of a "
            "member's tier or status and of a role term: who, to whom, what, why, when; "
            "newest first. The admin tiers."
        ),
        parameters=[COMMUNITY_ID, AuditFilterIn],
        responses={200: AuditEntryOut(many=True)},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW_AUDIT_LOG)
        filters = AuditFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.audit_list(actor=actor, action=filters.validated_data.get("action"))
        )
        with community_time(actor.community):
            return self.get_paginated_response(AuditEntryOut(page, many=True).data)
