"""URLs of the announcements app under /api/v1/."""

from django.urls import path

from announcements import api

urlpatterns = [
    path(
        "communities/<str:community_id>/announcement-categories",
        api.CategoryListView.as_view(),
        name="announcement-category-list",
    ),
    path(
        "announcement-categories/<str:category_id>",
        api.CategoryDetailView.as_view(),
        name="announcement-category-detail",
    ),
    path(
        "announcement-categories/<str:category_id>/follow",
        api.CategoryFollowView.as_view(),
        name="announcement-category-follow",
    ),
    path(
        "communities/<str:community_id>/announcements",
        api.AnnouncementListView.as_view(),
        name="announcement-list",
    ),
    path(
        "communities/<str:community_id>/content-calendar",
        api.CalendarView.as_view(),
        name="content-calendar",
    ),
    path(
        "announcements/<str:announcement_id>",
        api.AnnouncementDetailView.as_view(),
        name="announcement-detail",
    ),
    path(
        "announcements/<str:announcement_id>/confirmation",
        api.ConfirmationView.as_view(),
        name="announcement-confirmation",
    ),
    path(
        "announcements/<str:announcement_id>/readers",
        api.ReadersView.as_view(),
        name="announcement-readers",
    ),
    path(
        "announcements/<str:announcement_id>/reminder",
        api.ReminderView.as_view(),
        name="announcement-reminder",
    ),
]
