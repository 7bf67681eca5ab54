"""URLs of the moderation app under /api/v1/."""

from django.urls import path

from moderation import api

urlpatterns = [
    path(
        "communities/<str:community_id>/reports",
        api.ReportListView.as_view(),
        name="report-list",
    ),
    path(
        "communities/<str:community_id>/moderation-cases",
        api.CaseListView.as_view(),
        name="moderation-case-list",
    ),
    path(
        "moderation-cases/<str:case_id>/decision",
        api.CaseDecisionView.as_view(),
        name="moderation-case-decision",
    ),
    path(
        "communities/<str:community_id>/me/sanctions",
        api.MySanctionListView.as_view(),
        name="my-sanction-list",
    ),
    path(
        "communities/<str:community_id>/warning-rule",
        api.WarningRuleView.as_view(),
        name="warning-rule",
    ),
    path(
        "communities/<str:community_id>/audit-log",
        api.AuditLogView.as_view(),
        name="audit-log",
    ),
    path(
        "moderation-cases/<str:case_id>/appeal",
        api.AppealView.as_view(),
        name="moderation-case-appeal",
    ),
    path(
        "moderation-cases/<str:case_id>/appeal/decision",
        api.AppealDecisionView.as_view(),
        name="moderation-case-appeal-decision",
    ),
]
