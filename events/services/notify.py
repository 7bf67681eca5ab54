"""What members of an event are told, through the outbox (exactly once per dedupe key)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from community.services.notifications import notification_enqueue_many
from community.timezones import localize
from events.models import Event, Registration
from events.services.common import (
    NOTIFY_CANCELLED,
    NOTIFY_CHANGED,
    NOTIFY_CONFIRMED,
    NOTIFY_OFFER,
    NOTIFY_PROMOTED,
    event_object_key,
    event_page,
)


def _when(event: Event, value) -> str:
    return localize(value, event.community).strftime("%Y-%m-%d %H:%M")


def _event_data(event: Event) -> dict[str, str]:
    return {
        "thing1": event.title[:20],
        "time2": _when(event, event.starts_at),
        "thing3": (event.location_name or "-")[:20],
    }


def _one(event: Event, user_ids: Iterable[int], kind: str, key: str, data: dict) -> list[int]:
    return notification_enqueue_many(
        community_id=event.community_id,
        recipient_ids=user_ids,
        kind=kind,
        object_key=event_object_key(event.pk),
        data=data,
        page=event_page(event.pk),
        dedupe_key=key,
    )


def notify_confirmed(event: Event, registration: Registration) -> None:
    """ "You are in": once per registration and confirmation (a member who cancels and signs
    up again is confirmed again, a new key through ``confirmed_at``)."""
    stamp = int(registration.confirmed_at.timestamp()) if registration.confirmed_at else 0
    _one(
        event,
        [registration.user_id],
        NOTIFY_CONFIRMED,
        f"{NOTIFY_CONFIRMED}:{registration.pk}:{stamp}",
        {**_event_data(event), "phrase4": _("Confirmed")},
    )


def notify_promoted(event: Event, registration: Registration) -> None:
    """Moved from the waitlist to confirmed."""
    stamp = int(registration.confirmed_at.timestamp()) if registration.confirmed_at else 0
    _one(
        event,
        [registration.user_id],
        NOTIFY_PROMOTED,
        f"{NOTIFY_PROMOTED}:{registration.pk}:{stamp}",
        {**_event_data(event), "phrase4": _("Off the waitlist")},
    )


def notify_offer(event: Event, registration: Registration) -> None:
    """A seat offer with its claim deadline; one per offer (keyed by the deadline)."""
    deadline = registration.offer_expires_at
    _one(
        event,
        [registration.user_id],
        NOTIFY_OFFER,
        f"{NOTIFY_OFFER}:{registration.pk}:{int(deadline.timestamp())}",
        {
            **_event_data(event),
            "phrase4": _("Seat offered"),
            "time5": _when(event, deadline),
        },
    )


def notify_changed(event: Event, user_ids: Iterable[int]) -> list[int]:
    """The organizer changed the time or place: one message per change (``change_version``)."""
    return _one(
        event,
        user_ids,
        NOTIFY_CHANGED,
        f"{NOTIFY_CHANGED}:{event.pk}:v{event.change_version}",
        {**_event_data(event), "phrase4": _("Changed")},
    )


def notify_cancelled(event: Event, user_ids: Iterable[int]) -> list[int]:
    """The organizer cancelled the event: once per member."""
    return _one(
        event,
        user_ids,
        NOTIFY_CANCELLED,
        f"{NOTIFY_CANCELLED}:{event.pk}",
        {**_event_data(event), "phrase4": _("Cancelled")},
    )
