"""An organizer seats someone from the waitlist by hand (the admin's "move from waitlist").

The waitlist is served first come, first served by ``promote_locked`` whenever seats free up;
this is the organizer's deliberate exception (a helper, a speaker, someone the organizer knows
is already on the bus). It obeys the same seat guard: the seats are taken by the one guarded
``UPDATE`` of ``events/seats.py`` (without the "nobody waits in line" condition, since it is
the line itself that moves), so the capacity is never passed; a registration that does not fit
is refused (``no_seats_left``: raise the capacity first). Lock order as everywhere: the event
row, then the registration."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.errors import Conflict, NotFound
from community.locking import lock_rows
from community.models import Membership
from events import seats, signup_store
from events.models import Registration, RegistrationStatus
from events.services.common import EVENT_SEATS, event_of, locked_event, require_manage
from events.services.notify import notify_promoted


def registration_move_from_waitlist(
    *, actor: Membership, event_id: str, registration_id: str, now: datetime | None = None
) -> Registration:
    """Confirm a waitlisted registration now, with all the guests it asked for, if they fit.
    Idempotent: a registration already confirmed is returned as it is."""
    now = now or timezone.now()
    event = event_of(actor, event_id)
    require_manage(actor, event)
    with transaction.atomic():
        event = locked_event(event.community_id, event.pk)
        registration = lock_rows(
            Registration.objects.filter(
                pk=registration_id, community_id=event.community_id, event_id=event.pk
            )
        ).first()
        if registration is None:
            raise NotFound(_("Registration not found."))
        if registration.status == RegistrationStatus.CONFIRMED:
            return registration
        if registration.status != RegistrationStatus.WAITLISTED:
            raise Conflict(
                _("Only sign-ups on the waitlist can be moved into the event."),
                code="not_waitlisted",
            )
        if event.cancelled_at is not None:
            raise Conflict(_("This event was cancelled."), code="event_cancelled")
        wanted = 1 + registration.guests
        if seats.take(EVENT_SEATS, pk=event.pk, n=wanted, guard_extra=False) is None:
            raise Conflict(
                _("Not enough seats left for %(n)d people; raise the capacity first.")
                % {"n": wanted},
                code="no_seats_left",
            )
        signup_store.waitlist_leave(event.pk)
        registration.status = RegistrationStatus.CONFIRMED
        registration.seats = wanted
        registration.confirmed_at = now
        registration.decided_by_id = actor.user_id
        registration.updated_at = now
        registration.save(
            update_fields=["status", "seats", "confirmed_at", "decided_by", "updated_at"]
        )
        notify_promoted(event, registration)
    return registration
