"""Signing up, changing and cancelling a registration; approving and rejecting it.

The rule that never bends: an event's capacity counts seats (a member plus their guests) and
is never exceeded, under any concurrency. Every statement that takes seats is the guarded
``UPDATE`` of ``events/seats.py`` (backed by the check constraint
``event_seats_within_capacity``). A first sign-up inserts the member's registration first and
takes the seats last, so the event row is locked only for the last statement before commit;
every other path locks the event first, then the registration (the lock order of
``events.services.common``)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from community.services.content import (
    SCENE_COMMENT,
    content_hold_drop,
    content_hold_for_review,
    content_screen,
)
from community.text import member_text
from events import seats, signup_store
from events.forms import answers_clean
from events.models import (
    LIVE,
    CancelReason,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from events.services.common import (
    EVENT_SEATS,
    event_not_found,
    event_of,
    locked_event,
    require_manage,
)
from events.services.notify import notify_confirmed
from events.services.waitlist import expire_offers_locked, promote_locked
from insights.recording import activity_record

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = Registration._meta.get_field("note").max_length


# --- checks ---------------------------------------------------------------------------------
def _refuse_unless_open(event: Event, now: datetime) -> None:
    status = event.status_at(now)
    if status == EventStatus.CANCELLED:
        raise Conflict(_("This event was cancelled."), code="event_cancelled")
    if status == EventStatus.UPCOMING:
        raise Conflict(_("Sign-up has not opened yet."), code="signup_not_open")
    if status != EventStatus.OPEN:
        raise Conflict(_("Sign-up for this event is closed."), code="signup_closed")


def _refuse_unless_before_start(event: Event, now: datetime) -> None:
    if event.cancelled_at is not None:
        raise Conflict(_("This event was cancelled."), code="event_cancelled")
    if now >= event.starts_at:
        raise Conflict(_("The event has already started."), code="event_started")


def _check_guests(event: Event, guests: int) -> None:
    if guests < 0 or guests > event.max_guests:
        raise DomainError(
            _("You can bring at most %(n)d guests to this event.") % {"n": event.max_guests},
            code="too_many_guests",
            field="guests",
        )


def _confirm(registration: Registration, granted: int, now: datetime) -> None:
    registration.status = RegistrationStatus.CONFIRMED
    registration.guests = granted - 1
    registration.seats = granted
    registration.confirmed_at = now
    registration.offer_expires_at = None


def _seat_or_queue(event: Event, registration: Registration, now: datetime) -> None:
    """With ``event`` locked: seat ``registration`` (all its seats, or those that fit when the
    member accepts fewer guests and nobody waits), else put it at the end of the line.
    Changes the registration in memory; the caller saves it."""
    wanted = 1 + registration.guests
    counters = signup_store.event_counters_locked(event.pk)
    if counters["cancelled"]:
        raise Conflict(_("This event was cancelled."), code="event_cancelled")
    capacity = counters["capacity"]
    free = None if capacity is None else capacity - counters["taken"]
    if counters["waiting"] == 0 and (free is None or free >= 1):
        granted = wanted if free is None or wanted <= free else None
        if granted is None and registration.accept_partial:
            granted = free
        if granted is not None:
            if seats.take(EVENT_SEATS, pk=event.pk, n=granted) is None:
                raise RuntimeError("seats vanished under the event lock")  # cannot happen
            _confirm(registration, granted, now)
            return
    registration.status = RegistrationStatus.WAITLISTED
    registration.seats = 0
    registration.waitlist_seq = signup_store.waitlist_join(event.pk)


# --- sign up and change ---------------------------------------------------------------------
def _unchanged(reg: Registration, guests: int, note: str, answers: dict, partial: bool) -> bool:
    return (
        reg.status
        in (RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING, RegistrationStatus.WAITLISTED)
        and reg.guests_wanted == guests
        and reg.note == note
        and reg.answers == answers
        and reg.accept_partial == partial
    )


def registration_put(
    *,
    actor: Membership,
    event_id: str,
    guests: int = 0,
    note: str = "",
    answers: dict[str, Any] | None = None,
    accept_partial: bool = False,
    now: datetime | None = None,
    event: Event | None = None,
) -> Registration:
    """Sign up for an event, or change my sign-up (guests, note, form answers): the ``PUT``
    of "my registration", so a retried request never signs up twice and a repeat of the same
    body changes nothing.

    A first sign-up (or one after a cancellation) is confirmed when its seats fit and nobody
    waits in line, waits for an organizer in approval mode, and otherwise joins the end of the
    waitlist, or, with ``accept_partial``, takes the seats that fit with fewer guests. An
    offered member claims the offer with this call. A confirmed member who adds guests gets
    the extra seats only if they fit (409 ``not_enough_seats``, or fewer guests with
    ``accept_partial``); removing guests frees seats for the line at once. The note is
    screened by WeChat's content check (before any transaction). ``event`` may be given
    when the caller has just read it (the API reads it with the membership)."""
    now = now or timezone.now()
    ensure(actor, Action.PARTICIPATE)
    if event is None or event.pk != event_id or event.community_id != actor.community_id:
        event = event_of(actor, event_id)
    note = member_text(note or "", field="note", blank=True, max_length=NOTE_MAX_LENGTH)
    _check_guests(event, guests)
    answers_json = answers_clean(event.form, answers)
    existing = Registration.objects.filter(
        community_id=actor.community_id, event_id=event.pk, user_id=actor.user_id
    ).first()
    if existing is not None and _unchanged(existing, guests, note, answers_json, accept_partial):
        return existing
    if existing is not None and existing.status == RegistrationStatus.OFFERED:
        # Offers come from cancellations, which go on after sign-up closed: claimable until
        # the start.
        _refuse_unless_before_start(event, now)
    else:
        _refuse_unless_open(event, now)
    note_changed = bool(note) and (existing is None or existing.note != note)
    # Shown to the other members on the list: screened before the transaction; a note WeChat
    # did not pass is stored hidden (the sign-up counts) and waits in the moderation queue.
    note_verdict = (
        content_screen(texts={"note": note}, user=actor.user, scene=SCENE_COMMENT)
        if note_changed
        else None
    )
    fields = {
        "guests": guests,
        "note": note,
        "answers": answers_json,
        "accept_partial": accept_partial,
        "note_verdict": note_verdict,
    }
    if existing is None:
        registration = _sign_up_first(actor, event, fields, now)
        if registration is not None:
            return registration
    return _change(actor, event, fields, now)


def _sign_up_first(
    actor: Membership, event: Event, fields: dict, now: datetime
) -> Registration | None:
    """The member's first registration for ``event``; None when a parallel request of the
    same member inserted it first (the caller then changes that one)."""
    approval = event.requires_approval
    wanted = 1 + fields["guests"]
    registration = Registration(
        community_id=event.community_id,
        event_id=event.pk,
        user_id=actor.user_id,
        status=RegistrationStatus.PENDING if approval else RegistrationStatus.CONFIRMED,
        guests=fields["guests"],
        guests_wanted=fields["guests"],
        seats=0 if approval else wanted,
        accept_partial=fields["accept_partial"],
        note=fields["note"],
        answers=fields["answers"],
        signed_up_at=now,
        created_at=now,
        updated_at=now,
        confirmed_at=None if approval else now,
    )
    values = {
        f.name: getattr(registration, f.attname)
        for f in Registration._meta.concrete_fields
        if f.name not in ("community", "event", "user", "decided_by")
    }
    values.update(
        community=event.community_id,
        event=event.pk,
        user=actor.user_id,
    )
    with transaction.atomic():
        if not signup_store.registration_insert_once(**values):
            return None
        activity_record(community_id=event.community_id, user_id=actor.user_id, kind="signup")
        registration._state.adding = False
        if approval:
            _screened_note(actor, registration, fields["note_verdict"])
            return registration
        # The last statement that takes seats: nobody in line, the event live, seats left.
        if seats.take(EVENT_SEATS, pk=event.pk, n=wanted) is None:
            _seat_or_queue(event, registration, now)
            registration.save(
                update_fields=["status", "guests", "seats", "confirmed_at", "waitlist_seq"]
            )
        _screened_note(actor, registration, fields["note_verdict"])
        if registration.status == RegistrationStatus.CONFIRMED:
            notify_confirmed(event, registration)
    registration.created_now = True  # nobody checked it in yet: callers need not read it back
    return registration


def _screened_note(actor: Membership, registration: Registration, verdict: str | None) -> None:
    """After a new note is stored: hold it when WeChat did not pass it; a new note that
    passed replaces the held one, so the hold on the old text goes."""
    if verdict is None:
        return
    where = {
        "community_id": registration.community_id,
        "target_kind": "registration_note",
        "target_id": registration.pk,
    }
    if not content_hold_for_review(verdict=verdict, author_id=actor.user_id, **where):
        content_hold_drop(**where)


def _change(actor: Membership, event_ref: Event, fields: dict, now: datetime) -> Registration:
    """Change (or renew) the member's existing registration, event row locked first."""
    with transaction.atomic():
        event = locked_event(event_ref.community_id, event_ref.pk)
        registration = lock_rows(
            Registration.objects.filter(
                community_id=event.community_id, event_id=event.pk, user_id=actor.user_id
            )
        ).first()
        if registration is None:  # deleted meanwhile (the member left the community)
            raise event_not_found()
        status = registration.status
        if status == RegistrationStatus.REJECTED:
            raise Conflict(
                _("An organizer declined your sign-up for this event."),
                code="registration_rejected",
            )
        if status == RegistrationStatus.OFFERED and registration.offer_expires_at <= now:
            expire_offers_locked(event, now)
            raise Conflict(
                _("The seat offer has expired and passed to the next in line."),
                code="offer_expired",
            )
        registration.note = fields["note"]
        registration.answers = fields["answers"]
        registration.accept_partial = fields["accept_partial"]
        registration.guests_wanted = fields["guests"]
        registration.updated_at = now
        freed = False
        confirmed_now = False
        if status == RegistrationStatus.CANCELLED:
            registration.guests = fields["guests"]
            registration.signed_up_at = now
            registration.cancel_reason = ""
            registration.cancelled_at = None
            registration.offer_expires_at = None
            registration.waitlist_seq = None
            if event.requires_approval:
                registration.status = RegistrationStatus.PENDING
                registration.seats = 0
            else:
                _seat_or_queue(event, registration, now)
                confirmed_now = registration.status == RegistrationStatus.CONFIRMED
        elif status in (RegistrationStatus.PENDING, RegistrationStatus.WAITLISTED):
            # Fewer guests or "take what fits" may let the head of the line in now.
            freed = status == RegistrationStatus.WAITLISTED
            registration.guests = fields["guests"]
        else:  # confirmed or offered: holds seats
            if status == RegistrationStatus.OFFERED:
                registration.status = RegistrationStatus.CONFIRMED
                registration.confirmed_at = now
                registration.offer_expires_at = None
                confirmed_now = True
            freed = _change_seats(event, registration, fields, now)
        registration.save()
        _screened_note(actor, registration, fields["note_verdict"])
        if freed:
            promote_locked(event, now)
        if confirmed_now:
            notify_confirmed(event, registration)
    return registration


def _change_seats(event: Event, registration: Registration, fields: dict, now: datetime) -> bool:
    """A seat holder changes their guests; True when seats were freed."""
    held = registration.seats
    wanted = 1 + fields["guests"]
    if wanted < held:
        seats.release(EVENT_SEATS, pk=event.pk, n=held - wanted)
        registration.guests = fields["guests"]
        registration.seats = wanted
        return True
    if wanted > held:
        extra = wanted - held
        if seats.take(EVENT_SEATS, pk=event.pk, n=extra) is None:
            counters = signup_store.event_counters_locked(event.pk)
            free = (
                0
                if counters["waiting"] or counters["capacity"] is None
                else counters["capacity"] - counters["taken"]
            )
            if not fields["accept_partial"] or free <= 0:
                raise Conflict(
                    _("There are not enough seats left for your guests."),
                    code="not_enough_seats",
                )
            seats.take(EVENT_SEATS, pk=event.pk, n=free)
            extra = free
        registration.seats = held + extra
        registration.guests = registration.seats - 1
    return False


# --- cancel ---------------------------------------------------------------------------------
def _cancel_locked(event: Event, registration: Registration, now: datetime, reason: str) -> bool:
    """Cancel a live registration (event and registration locked); True when it freed seats."""
    freed = registration.seats
    if freed:
        seats.release(EVENT_SEATS, pk=event.pk, n=freed)
    if registration.status == RegistrationStatus.WAITLISTED:
        signup_store.waitlist_leave(event.pk)
    registration.status = RegistrationStatus.CANCELLED
    registration.seats = 0
    registration.cancel_reason = reason
    registration.cancelled_at = now
    registration.updated_at = now
    registration.save(
        update_fields=["status", "seats", "cancel_reason", "cancelled_at", "updated_at"]
    )
    return freed > 0


def registration_cancel(
    *, actor: Membership, event_id: str, now: datetime | None = None
) -> Registration | None:
    """Cancel my registration (the ``DELETE``; idempotent). A confirmed seat can be given back
    until the event's cancellation deadline (409 ``cancel_deadline_passed`` after); leaving
    the waitlist, declining an offer or withdrawing a sign-up that waits for approval is
    always possible before the start. Freed seats go to the line in the same transaction."""
    now = now or timezone.now()
    ensure(actor, Action.VIEW)
    event = event_of(actor, event_id)
    existing = Registration.objects.filter(
        community_id=actor.community_id, event_id=event.pk, user_id=actor.user_id
    ).first()
    if existing is None or existing.status not in LIVE:
        return existing
    if event.cancelled_at is None and now >= event.starts_at:
        raise Conflict(_("The event has already started."), code="event_started")
    with transaction.atomic():
        event = locked_event(event.community_id, event.pk)
        registration = lock_rows(Registration.objects.filter(pk=existing.pk)).first()
        if registration.status not in LIVE:
            return registration
        if registration.status == RegistrationStatus.CONFIRMED and now >= event.cancel_until:
            raise Conflict(
                _("The deadline for cancelling has passed; please contact the organizer."),
                code="cancel_deadline_passed",
            )
        if _cancel_locked(event, registration, now, CancelReason.MEMBER):
            promote_locked(event, now)
    return registration


# --- organizers: approve, reject, remove ----------------------------------------------------
def _registration_for_organizer(
    actor: Membership, event_id: str, registration_id: str
) -> Registration:
    registration = (
        Registration.objects.select_related("event")
        .filter(pk=registration_id, event_id=event_id, community_id=actor.community_id)
        .first()
    )
    if registration is None:
        raise NotFound(_("Registration not found."))
    require_manage(actor, registration.event)
    return registration


def registration_approve(
    *, actor: Membership, event_id: str, registration_id: str, now: datetime | None = None
) -> Registration:
    """An organizer approves a sign-up that waits for approval: it takes seats under the
    same guard as any sign-up, or joins the end of the waitlist when they do not fit."""
    now = now or timezone.now()
    found = _registration_for_organizer(actor, event_id, registration_id)
    with transaction.atomic():
        event = locked_event(found.community_id, found.event_id)
        registration = lock_rows(Registration.objects.filter(pk=found.pk)).first()
        if registration.status != RegistrationStatus.PENDING:
            if registration.status in (
                RegistrationStatus.CONFIRMED,
                RegistrationStatus.WAITLISTED,
                RegistrationStatus.OFFERED,
            ):
                return registration  # approved already: idempotent
            raise Conflict(
                _("Only sign-ups waiting for approval can be approved."), code="not_pending"
            )
        registration.decided_by_id = actor.user_id
        registration.updated_at = now
        _seat_or_queue(event, registration, now)
        registration.save()
        if registration.status == RegistrationStatus.CONFIRMED:
            notify_confirmed(event, registration)
    return registration


def registration_reject(
    *, actor: Membership, event_id: str, registration_id: str, now: datetime | None = None
) -> Registration:
    """An organizer declines a sign-up (waiting for approval or on the waitlist)."""
    now = now or timezone.now()
    found = _registration_for_organizer(actor, event_id, registration_id)
    with transaction.atomic():
        event = locked_event(found.community_id, found.event_id)
        registration = lock_rows(Registration.objects.filter(pk=found.pk)).first()
        if registration.status == RegistrationStatus.REJECTED:
            return registration
        if registration.status not in (
            RegistrationStatus.PENDING,
            RegistrationStatus.WAITLISTED,
        ):
            raise Conflict(
                _("Only sign-ups waiting for approval or on the waitlist can be declined."),
                code="not_pending",
            )
        if registration.status == RegistrationStatus.WAITLISTED:
            signup_store.waitlist_leave(event.pk)
        registration.status = RegistrationStatus.REJECTED
        registration.decided_by_id = actor.user_id
        registration.updated_at = now
        registration.save(update_fields=["status", "decided_by", "updated_at"])
    return registration


def registration_remove(
    *, actor: Membership, event_id: str, registration_id: str, now: datetime | None = None
) -> Registration:
    """An organizer removes someone from the event (no deadline); their seats go to the line."""
    now = now or timezone.now()
    found = _registration_for_organizer(actor, event_id, registration_id)
    with transaction.atomic():
        event = locked_event(found.community_id, found.event_id)
        registration = lock_rows(Registration.objects.filter(pk=found.pk)).first()
        if registration.status in LIVE and _cancel_locked(
            event, registration, now, CancelReason.ORGANIZER
        ):
            promote_locked(event, now)
    return registration
