"""URLs of the events app under /api/v1/."""

from django.urls import path

from events import api

urlpatterns = [
    path("communities/<str:community_id>/events", api.EventListView.as_view(), name="event-list"),
    path("events/<str:event_id>", api.EventDetailView.as_view(), name="event-detail"),
    path("events/<str:event_id>/cancel", api.EventCancelView.as_view(), name="event-cancel"),
    path(
        "events/<str:event_id>/registration",
        api.MyRegistrationView.as_view(),
        name="event-registration",
    ),
    path(
        "events/<str:event_id>/registrations",
        api.RegistrationListView.as_view(),
        name="event-registrations",
    ),
    path(
        "events/<str:event_id>/registrations/<str:registration_id>/approve",
        api.ApproveRegistrationView.as_view(),
        name="event-registration-approve",
    ),
    path(
        "events/<str:event_id>/registrations/<str:registration_id>/reject",
        api.RejectRegistrationView.as_view(),
        name="event-registration-reject",
    ),
    path(
        "events/<str:event_id>/registrations/<str:registration_id>/remove",
        api.RemoveRegistrationView.as_view(),
        name="event-registration-remove",
    ),
    path(
        "events/<str:event_id>/organizers",
        api.OrganizerListView.as_view(),
        name="event-organizers",
    ),
    path(
        "events/<str:event_id>/organizers/<str:user_id>",
        api.OrganizerDetailView.as_view(),
        name="event-organizer",
    ),
]

# Check-in, calendar files, the 接龙 text and the share card (events2).
from events.urls_edges import urlpatterns as _edges  # noqa: E402

urlpatterns += _edges
