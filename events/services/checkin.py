"""Check-in: an organizer scans a member's ticket, a member scans the event code at the door,
or an organizer ticks someone off by hand (the admin too). Every path ends in
:func:`_check_in`, which is idempotent and records who checked in whom and when.

Rules:

* Only confirmed registrations check in (pending, waitlisted, offered, cancelled and
  rejected ones are refused: revoking a registration revokes its ticket).
* A ticket only admits at the event it was issued for (``wrong_event``), only when its
  signature matches the current secrets of the event and the registration (``invalid_code``;
  a ticket of another community is just as invalid: nothing about it is revealed).
* Self check-in needs the event's self check-in switched on, the current event code and the
  clock inside the window (``self_checkin_window``).
* A registration counts ``1 + guests`` people (``guest_index`` 0 is the member). A scan checks
  in the member and as many guests as the organizer says arrived (all by default); scanning
  again adds the guests who came later and changes nothing else (a replayed ticket creates no
  second check-in). One row per person is a unique constraint, so two organizers scanning the
  same ticket at the same moment still make one.
* A cancelled event checks in nobody.

The registration row is locked (``FOR NO KEY UPDATE``) while its status is checked and the
check-ins are written, so a cancellation racing a scan either commits first (the scan is
refused) or waits until the check-in is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from events.checkin_tokens import EventCode, Ticket, event_code_valid, parse_code, ticket_valid
from events.models import CheckIn, CheckInMethod, Event, Registration, RegistrationStatus
from insights.recording import activity_record


@dataclass
class CheckInResult:
    """What a scan did: the registration, its people's check-ins (all of them, oldest first)
    and how many of them this call added (0: a replay)."""

    registration: Registration
    checkins: list[CheckIn]
    added: int

    @property
    def people(self) -> int:
        return 1 + self.registration.guests


def _invalid_code() -> DomainError:
    return DomainError(
        _("This is not a valid check-in code for this community."),
        code="invalid_code",
        field="code",
    )


def _guest_count(registration: Registration, guests: int | None) -> int:
    if guests is None:
        return registration.guests
    if guests < 0 or guests > registration.guests:
        raise DomainError(
            _("This registration brings %(count)d guest(s).") % {"count": registration.guests},
            code="invalid_guests",
            field="guests",
        )
    return guests


def _check_in(
    *,
    event: Event,
    registration_id: str,
    by_user_id: int | None,
    method: str,
    guests: int | None,
    now: datetime,
    own_user_id: int | None = None,
) -> CheckInResult:
    """Check in the member of a registration and ``guests`` of their guests (all by default).
    ``own_user_id``: the registration must be this user's (self check-in)."""
    if event.cancelled_at is not None:
        raise Conflict(_("This event was cancelled."), code="event_cancelled")
    with transaction.atomic():
        registration = (
            lock_rows(
                Registration.objects.filter(
                    pk=registration_id, community_id=event.community_id, event_id=event.pk
                )
            )
            .select_related("user")
            .first()
        )
        if own_user_id is not None and (
            registration is None or registration.user_id != own_user_id
        ):
            raise NotFound(_("You have not signed up for this event."), code="not_registered")
        if registration is None:
            raise NotFound(_("Registration not found."))
        if registration.status != RegistrationStatus.CONFIRMED:
            raise Conflict(
                _("This registration is not confirmed (%(status)s).")
                % {"status": RegistrationStatus(registration.status).label},
                code="registration_not_confirmed",
            )
        count = _guest_count(registration, guests)
        mine = CheckIn.objects.filter(
            community_id=event.community_id, registration_id=registration.pk
        )
        before = mine.count()
        CheckIn.objects.bulk_create(
            [
                CheckIn(
                    community_id=event.community_id,
                    event_id=event.pk,
                    registration_id=registration.pk,
                    guest_index=index,
                    checked_in_by_id=by_user_id,
                    method=method,
                    checked_in_at=now,
                )
                for index in range(count + 1)
            ],
            ignore_conflicts=True,
        )
        # The registration lock serializes scans of one ticket, so the count before and the
        # rows after tell what this call added (``ignore_conflicts`` does not say).
        checkins = list(mine.select_related("checked_in_by").order_by("guest_index"))
        if before == 0 and checkins:
            activity_record(
                community_id=event.community_id, user_id=registration.user_id, kind="checkin"
            )
    return CheckInResult(registration=registration, checkins=checkins, added=len(checkins) - before)


def checkin_by_code(
    *,
    actor: Membership,
    event: Event,
    code: str,
    guests: int | None = None,
    now: datetime | None = None,
) -> CheckInResult:
    """An organizer scanned a member's ticket at ``event`` (``wx.scanCode``)."""
    ensure(actor, Action.MANAGE_EVENT, obj=event)
    parsed = parse_code(code)
    if isinstance(parsed, EventCode):
        raise DomainError(
            _("This is the event's self check-in code, not a member's ticket."),
            code="not_a_ticket",
            field="code",
        )
    if not isinstance(parsed, Ticket):
        raise _invalid_code()
    registration = (
        Registration.objects.filter(pk=parsed.registration_id, community_id=actor.community_id)
        .select_related("event")
        .only("id", "event_id", "checkin_secret", "event__checkin_secret")
        .first()
    )
    if registration is None or not ticket_valid(
        parsed,
        event_secret=registration.event.checkin_secret,
        registration_secret=registration.checkin_secret,
    ):
        raise _invalid_code()
    if registration.event_id != event.pk:
        raise Conflict(_("This ticket is for another event."), code="wrong_event")
    return _check_in(
        event=event,
        registration_id=registration.pk,
        by_user_id=actor.user_id,
        method=CheckInMethod.QR,
        guests=guests,
        now=now or timezone.now(),
    )


def checkin_by_hand(
    *,
    actor: Membership,
    event: Event,
    registration_id: str,
    guests: int | None = None,
    now: datetime | None = None,
) -> CheckInResult:
    """An organizer (or a moderator in the admin) checks someone in from the attendee list."""
    ensure(actor, Action.MANAGE_EVENT, obj=event)
    return _check_in(
        event=event,
        registration_id=registration_id,
        by_user_id=actor.user_id,
        method=CheckInMethod.MANUAL,
        guests=guests,
        now=now or timezone.now(),
    )


def checkin_self(
    *,
    actor: Membership,
    event: Event,
    code: str,
    guests: int | None = None,
    now: datetime | None = None,
) -> CheckInResult:
    """A member scanned the event code at the door and checks themselves (and their guests) in.

    Reading is enough (``VIEW``): a muted member who signed up may still be at the door."""
    ensure(actor, Action.VIEW)
    now = now or timezone.now()
    parsed = parse_code(code)
    if isinstance(parsed, Ticket):
        raise DomainError(
            _("This is a member's ticket; scan the event's check-in code."),
            code="not_an_event_code",
            field="code",
        )
    if not isinstance(parsed, EventCode):
        raise _invalid_code()
    if parsed.event_id != event.pk:
        raise Conflict(_("This check-in code is for another event."), code="wrong_event")
    if not event_code_valid(parsed, self_checkin_code=event.self_checkin_code):
        raise _invalid_code()
    if not event.self_checkin_enabled:
        raise Conflict(
            _("Self check-in is off for this event; show your ticket to an organizer."),
            code="self_checkin_disabled",
        )
    opens, closes = event.self_checkin_window
    if now < opens:
        raise Conflict(_("Check-in has not opened yet."), code="checkin_not_open")
    if now >= closes:
        raise Conflict(_("Check-in has closed."), code="checkin_closed")
    registration_id = (
        Registration.objects.filter(
            community_id=event.community_id, event_id=event.pk, user_id=actor.user_id
        )
        .values_list("pk", flat=True)
        .first()
    )
    if registration_id is None:
        raise NotFound(_("You have not signed up for this event."), code="not_registered")
    return _check_in(
        event=event,
        registration_id=registration_id,
        by_user_id=actor.user_id,
        method=CheckInMethod.SELF,
        guests=guests,
        now=now,
        own_user_id=actor.user_id,
    )


def checkin_undo(*, actor: Membership, event: Event, registration_id: str) -> int:
    """Take back a check-in made by mistake (all people of the registration); the number of
    check-ins removed."""
    ensure(actor, Action.MANAGE_EVENT, obj=event)
    deleted, _rows = CheckIn.objects.filter(
        community_id=event.community_id, event_id=event.pk, registration_id=registration_id
    ).delete()
    return deleted


def event_rotate_checkin_codes(*, actor: Membership, event: Event) -> Event:
    """New event code and new ticket secret for ``event``: every ticket and event code shown
    before stops working (a leaked screenshot of the door code, a ticket passed around)."""
    from events.models import new_checkin_secret, new_self_checkin_code

    ensure(actor, Action.MANAGE_EVENT, obj=event)
    event.checkin_secret = new_checkin_secret()
    event.self_checkin_code = new_self_checkin_code()
    Event.objects.filter(pk=event.pk, community_id=event.community_id).update(
        checkin_secret=event.checkin_secret, self_checkin_code=event.self_checkin_code
    )
    return event
