"""The waitlist: freed seats go to the first in line, at once or as an offer to claim.

Called with the event row locked (``locked_event``), after the seats were freed in the same
transaction (a cancellation, a lower guest count, a higher capacity, an offer that expired),
so the promotion commits together with what freed the seats and nobody can take them between.

First come, first served, without skipping: the head of the line gets seats when all of
them fit (the member and their guests); when only some fit, a member who chose
``accept_partial`` takes those (with fewer guests), otherwise everyone waits behind them.
This is pretix's rule for its waiting list (no jumping the line for a smaller order)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from community.locking import lock_rows
from events import seats, signup_store
from events.models import CancelReason, Event, Registration, RegistrationStatus
from events.services.common import EVENT_SEATS, locked_event
from events.services.notify import notify_offer, notify_promoted

logger = logging.getLogger(__name__)


def promote_locked(event: Event, now: datetime) -> list[Registration]:
    """Give freed seats of ``event`` (locked by the caller) to the head of its waitlist;
    returns the registrations promoted (confirmed, or offered with a claim deadline)."""
    taken, capacity = seats.lock_counter(EVENT_SEATS, pk=event.pk)
    if event.cancelled_at is not None:
        return []
    free = None if capacity is None else capacity - taken
    if free is not None and free <= 0:
        return []
    line = sorted(
        lock_rows(
            Registration.objects.filter(
                community_id=event.community_id,
                event_id=event.pk,
                status=RegistrationStatus.WAITLISTED,
            )
        ),
        key=lambda r: r.waitlist_seq,
    )
    promoted: list[Registration] = []
    granted_total = 0
    for registration in line:
        wanted = 1 + registration.guests
        if free is None or wanted <= free:
            granted = wanted
        elif registration.accept_partial and free >= 1:
            granted = free
        else:
            break
        registration.guests = granted - 1
        registration.seats = granted
        registration.updated_at = now
        if event.waitlist_offers:
            registration.status = RegistrationStatus.OFFERED
            registration.offer_expires_at = now + timedelta(hours=event.offer_hours)
        else:
            registration.status = RegistrationStatus.CONFIRMED
            registration.confirmed_at = now
        promoted.append(registration)
        granted_total += granted
        if free is not None:
            free -= granted
            if free <= 0:
                break
    if not promoted:
        return []
    if seats.take(EVENT_SEATS, pk=event.pk, n=granted_total, guard_extra=False) is None:
        raise RuntimeError("seats vanished under the event lock")  # cannot happen
    signup_store.waitlist_leave(event.pk, len(promoted))
    Registration.objects.bulk_update(
        promoted,
        ["status", "guests", "seats", "offer_expires_at", "confirmed_at", "updated_at"],
    )
    for registration in promoted:
        if registration.status == RegistrationStatus.OFFERED:
            notify_offer(event, registration)
        else:
            notify_promoted(event, registration)
    logger.info("event %s: %d promoted from the waitlist", event.pk, len(promoted))
    return promoted


def expire_offers_locked(event: Event, now: datetime) -> int:
    """Cancel the offers of ``event`` (locked) whose claim window has passed and pass their
    seats on to the next in line. Returns how many offers expired."""
    expired = list(
        lock_rows(
            Registration.objects.filter(
                community_id=event.community_id,
                event_id=event.pk,
                status=RegistrationStatus.OFFERED,
                offer_expires_at__lte=now,
            )
        )
    )
    if not expired:
        return 0
    freed = sum(r.seats for r in expired)
    for registration in expired:
        registration.status = RegistrationStatus.CANCELLED
        registration.cancel_reason = CancelReason.OFFER_EXPIRED
        registration.cancelled_at = now
        registration.seats = 0
        registration.updated_at = now
    Registration.objects.bulk_update(
        expired, ["status", "cancel_reason", "cancelled_at", "seats", "updated_at"]
    )
    seats.release(EVENT_SEATS, pk=event.pk, n=freed)
    promote_locked(event, now)
    return len(expired)


def event_offers_expire(*, event_id: str, now: datetime | None = None) -> int:
    """Expire the unclaimed offers of one event and pass the seats on (idempotent; run by
    the sweep and by the first read that sees an expired offer)."""
    now = now or timezone.now()
    event = Event.objects.filter(pk=event_id).values_list("community_id", flat=True).first()
    if event is None:
        return 0
    with transaction.atomic():
        locked = locked_event(event, event_id)
        return expire_offers_locked(locked, now)


def event_offers_expire_on_read(*, event: Event, now: datetime | None = None) -> bool:
    """Before showing an event: if one of its offers has expired, pass it on now, so what a
    member reads never depends on the sweep having run. One indexed query for events that
    make offers, none for the others. Returns True when something expired."""
    if not event.waitlist_offers:
        return False
    now = now or timezone.now()
    due = Registration.objects.filter(
        community_id=event.community_id,
        event_id=event.pk,
        status=RegistrationStatus.OFFERED,
        offer_expires_at__lte=now,
    ).exists()
    if not due:
        return False
    return event_offers_expire(event_id=event.pk, now=now) > 0


def events_offers_expire_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Sweep: every event with an expired offer passes it on."""
    now = now or timezone.now()
    event_ids = list(
        Registration.objects.filter(status=RegistrationStatus.OFFERED, offer_expires_at__lte=now)
        .values_list("event_id", flat=True)
        .distinct()[:limit]
    )
    return sum(event_offers_expire(event_id=event_id, now=now) for event_id in event_ids)
