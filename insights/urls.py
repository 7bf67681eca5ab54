"""URLs of the insights app under /api/v1/."""

from django.urls import path

from insights import api

urlpatterns = [
    path("communities/<str:community_id>/insights", api.DashboardView.as_view(), name="insights"),
    path(
        "communities/<str:community_id>/insights/figures/<str:figure>.csv",
        api.FigureCsvView.as_view(),
        name="insights-figure-csv",
    ),
    path(
        "communities/<str:community_id>/insights/weekly-digest",
        api.WeeklyDigestView.as_view(),
        name="insights-weekly-digest",
    ),
    path(
        "communities/<str:community_id>/insights/top-members",
        api.TopMembersView.as_view(),
        name="insights-top-members",
    ),
    path(
        "communities/<str:community_id>/insights/members/<str:user_id>/timeline",
        api.TimelineView.as_view(),
        name="insights-timeline",
    ),
    path(
        "communities/<str:community_id>/insights/members/<str:user_id>/timeline.csv",
        api.TimelineCsvView.as_view(),
        name="insights-timeline-csv",
    ),
    path(
        "communities/<str:community_id>/insights/message-counts",
        api.MessageCountsView.as_view(),
        name="insights-message-counts",
    ),
    path(
        "communities/<str:community_id>/insights/inactive-members",
        api.CleanupListView.as_view(),
        name="insights-inactive-members",
    ),
    path(
        "communities/<str:community_id>/insights/inactive-members/removals",
        api.RemovalView.as_view(),
        name="insights-inactive-removals",
    ),
    path(
        "communities/<str:community_id>/insights/still-here",
        api.StillHereView.as_view(),
        name="insights-still-here",
    ),
]
