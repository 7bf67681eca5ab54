"""Helpers shared by the events services: the event of a member, who may manage it, the
event's seat counter, outbox kinds and keys.

Lock order (always the same, so concurrent writes cannot deadlock): the ``Event`` row first
(``FOR NO KEY UPDATE``), then registrations in primary-key order. The one exception is a
first sign-up, whose registration row is new (nobody else can see, let alone lock it): it is
inserted first and the event's seat counter is moved last, so the event row is locked only
for the last statement before commit. Side effects (outbox rows) go in the same transaction;
their Celery tasks are enqueued with ``transaction.on_commit``."""

from __future__ import annotations

from django.utils.translation import gettext as _

from community.authz import Action, can
from community.errors import Forbidden, NotFound
from community.locking import lock_rows
from community.models import Membership
from events import seats
from events.models import Event

NOTIFY_CONFIRMED = "event_confirmed"
NOTIFY_OFFER = "event_offer"
NOTIFY_PROMOTED = "event_promoted"
NOTIFY_REMINDER = "event_reminder"
NOTIFY_CHANGED = "event_changed"
NOTIFY_CANCELLED = "event_cancelled"

#: The event's seat counter; new sign-ups must also find nobody in line and the event live.
EVENT_SEATS = seats.SeatCounter(
    table=Event._meta.db_table,
    taken="seats_taken",
    capacity="capacity",
    extra="waitlist_count = 0 AND cancelled_at IS NULL",
)


def event_object_key(event_id: str) -> str:
    return f"event:{event_id}"


def event_page(event_id: str) -> str:
    return f"pages/events/detail?id={event_id}"


def may_manage(actor: Membership | None, event: Event) -> bool:
    """An organizer of the event or a moderator and above (``community.authz`` decides, with
    the event: a muted organizer or one who has not accepted the group rules may not)."""
    return can(actor, Action.MANAGE_EVENT, obj=event)


def require_manage(actor: Membership, event: Event) -> None:
    if not may_manage(actor, event):
        raise Forbidden(
            _("Only an organizer or a moderator can manage this event."), code="cannot_manage"
        )


def event_not_found() -> NotFound:
    return NotFound(_("Event not found."))


def event_of(actor: Membership, event_id: str) -> Event:
    """The event of ``actor``'s community (404 for other communities' events)."""
    event = (
        Event.objects.select_related("community")
        .filter(pk=event_id, community_id=actor.community_id)
        .first()
    )
    if event is None:
        raise event_not_found()
    return event


def locked_event(community_id: str, event_id: str) -> Event:
    """The event locked ``FOR NO KEY UPDATE`` until commit (sign-ups wait at their guarded
    counter update; rows pointing at it can still be inserted). Call inside a transaction."""
    event = lock_rows(
        Event.objects.select_related("community").filter(pk=event_id, community_id=community_id)
    ).first()
    if event is None:
        raise event_not_found()
    return event
