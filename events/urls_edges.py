"""URLs of check-in, calendar files, the 接龙 text and the share card (appended to
``events.urls``)."""

from django.urls import path

from events import api_checkin, api_feeds

urlpatterns = [
    path(
        "events/<str:event_id>/check-ins", api_checkin.CheckInView.as_view(), name="event-checkins"
    ),
    path(
        "events/<str:event_id>/check-ins/<str:registration_id>",
        api_checkin.CheckInUndoView.as_view(),
        name="event-checkin-undo",
    ),
    path(
        "events/<str:event_id>/self-check-in",
        api_checkin.SelfCheckInView.as_view(),
        name="event-self-checkin",
    ),
    path("events/<str:event_id>/ticket", api_checkin.TicketView.as_view(), name="event-ticket"),
    path(
        "events/<str:event_id>/ticket/qr",
        api_checkin.TicketQrView.as_view(),
        name="event-ticket-qr",
    ),
    path(
        "events/<str:event_id>/door-code",
        api_checkin.DoorCodeView.as_view(),
        name="event-door-code",
    ),
    path(
        "events/<str:event_id>/door-code/qr",
        api_checkin.DoorCodeQrView.as_view(),
        name="event-door-code-qr",
    ),
    path(
        "events/<str:event_id>/check-in-codes/rotate",
        api_checkin.RotateCodesView.as_view(),
        name="event-checkin-rotate",
    ),
    path(
        "events/<str:event_id>/no-shows",
        api_checkin.NoShowListView.as_view(),
        name="event-no-shows",
    ),
    path("events/<str:event_id>/calendar.ics", api_feeds.EventIcsView.as_view(), name="event-ics"),
    path("events/<str:event_id>/jielong", api_feeds.JielongView.as_view(), name="event-jielong"),
    path("events/<str:event_id>/share", api_feeds.EventShareView.as_view(), name="event-share"),
    path("events/<str:event_id>/join", api_feeds.EventJoinView.as_view(), name="event-join"),
    path(
        "communities/<str:community_id>/events.ics",
        api_feeds.CommunityIcsView.as_view(),
        name="community-events-ics",
    ),
    path(
        "communities/<str:community_id>/calendar-feed",
        api_feeds.CalendarFeedView.as_view(),
        name="community-calendar-feed",
    ),
    path(
        "calendar-feeds/<str:token>/events.ics",
        api_feeds.CalendarFeedReadView.as_view(),
        name="event-calendar-feed",
    ),
]
