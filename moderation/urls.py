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
]
