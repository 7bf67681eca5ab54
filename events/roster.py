"""Reads of the edges of events: the event a member reaches, their ticket, the 接龙 list, the
attendance (check-ins and no-shows) and the calendar feed. Selectors: no writes, no services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, NotFound
from community.models import Community, Membership, User
from community.timezones import community_zone, localize
from events import selectors
from events.checkin_tokens import event_code, ticket_code
from events.ics import IcsEvent, calendar_bytes
from events.jielong import JielongEntry, render_jielong
from events.models import (
    CheckIn,
    Event,
    Registration,
    RegistrationStatus,
)


def event_for_member(*, user: User, event_id: str) -> tuple[Event, Membership]:
    """The event and the user's membership in its community, in one query; 404 for anyone
    who cannot see that community (``events.selectors.event_for_member``)."""
    return selectors.event_for_member(user=user, event_id=event_id)


def my_registration(*, membership: Membership, event: Event) -> Registration:
    """The member's registration for ``event``; 404 ``not_registered`` without one."""
    registration = Registration.objects.filter(
        community_id=event.community_id, event_id=event.pk, user_id=membership.user_id
    ).first()
    if registration is None:
        raise NotFound(_("You have not signed up for this event."), code="not_registered")
    return registration


@dataclass
class MyTicket:
    """What the mini-program shows on "my ticket": the QR text (only while confirmed) and
    who of the registration is checked in."""

    registration: Registration
    code: str | None
    checked_in: list[CheckIn]


def ticket_of(*, membership: Membership, event: Event) -> MyTicket:
    """The member's ticket for ``event``. The code is given only for a confirmed registration:
    any other status has nothing to show at the door."""
    ensure(membership, Action.VIEW)
    registration = my_registration(membership=membership, event=event)
    code = None
    if registration.status == RegistrationStatus.CONFIRMED:
        code = ticket_code(
            registration_id=registration.pk,
            event_secret=event.checkin_secret,
            registration_secret=registration.checkin_secret,
        )
    checked_in = list(
        CheckIn.objects.filter(community_id=event.community_id, registration_id=registration.pk)
        .select_related("checked_in_by")
        .order_by("guest_index")
    )
    return MyTicket(registration=registration, code=code, checked_in=checked_in)


def ticket_code_of(*, membership: Membership, event: Event) -> str:
    """The QR text of the member's confirmed registration; 404 ``no_ticket`` otherwise."""
    ticket = ticket_of(membership=membership, event=event)
    if ticket.code is None:
        raise NotFound(_("You have no confirmed place at this event."), code="no_ticket")
    return ticket.code


def self_checkin_code(*, actor: Membership, event: Event) -> str:
    """The event's door code (QR text); organizers and moderators only."""
    ensure(actor, Action.MANAGE_EVENT, obj=event)
    return event_code(event_id=event.pk, self_checkin_code=event.self_checkin_code)


def _nickname(registration: Registration) -> str:
    return registration.user.nickname or registration.user.username


def jielong_lists(*, event: Event) -> tuple[list[JielongEntry], list[JielongEntry]]:
    """The confirmed sign-ups in sign-up order and the line (offers first, then the
    waitlist, each by place in line), as 接龙 entries. Two statements."""
    base = Registration.objects.filter(community_id=event.community_id, event_id=event.pk)
    confirmed = base.filter(status=RegistrationStatus.CONFIRMED).select_related("user")
    waiting = base.filter(
        status__in=[RegistrationStatus.OFFERED, RegistrationStatus.WAITLISTED]
    ).select_related("user")

    def entry(r: Registration, guests: int) -> JielongEntry:
        return JielongEntry(_nickname(r), guests, r.note)

    return (
        [entry(r, r.guests) for r in confirmed.order_by("signed_up_at", "pk")],
        [
            entry(r, r.guests_wanted or r.guests)
            for r in waiting.order_by("waitlist_seq", "signed_up_at", "pk")
        ],
    )


def attendance_counts(*, event: Event) -> dict[str, int]:
    """People checked in and confirmed registrations not checked in (the member themselves),
    in one statement."""
    checked = CheckIn.objects.filter(
        community_id=event.community_id, registration_id=OuterRef("pk"), guest_index=0
    )
    row = (
        Registration.objects.filter(
            community_id=event.community_id,
            event_id=event.pk,
            status=RegistrationStatus.CONFIRMED,
        )
        .annotate(arrived=Exists(checked))
        .aggregate(
            confirmed=Count("pk"),
            not_arrived=Count("pk", filter=Q(arrived=False)),
        )
    )
    people = CheckIn.objects.filter(community_id=event.community_id, event_id=event.pk).count()
    return {
        "confirmed": row["confirmed"],
        "checked_in_people": people,
        "not_checked_in": row["not_arrived"],
    }


def no_shows(*, actor: Membership, event: Event, now: datetime | None = None) -> QuerySet:
    """Confirmed registrations whose member never checked in, once the event has ended (before
    that they are simply not there yet): derived, never stored. Organizers only."""
    ensure(actor, Action.MANAGE_EVENT, obj=event)
    now = now or timezone.now()
    if now < event.ends:
        raise Conflict(_("No-shows are known once the event has ended."), code="event_not_ended")
    checked = CheckIn.objects.filter(
        community_id=event.community_id, registration_id=OuterRef("pk"), guest_index=0
    )
    return (
        Registration.objects.filter(
            community_id=event.community_id,
            event_id=event.pk,
            status=RegistrationStatus.CONFIRMED,
        )
        .exclude(Exists(checked))
        .select_related("user")
        .order_by("signed_up_at", "pk")
    )


def jielong_text(*, viewer: Membership, event: Event) -> str:
    """The 接龙 text of ``event`` for someone who may see its attendee list (every member of a
    quick list; organizers, or everyone when the event says so, for a full event)."""
    ensure(viewer, Action.SEE_EVENT_ATTENDEES, obj=event)
    confirmed, waiting = jielong_lists(event=event)
    return render_jielong(
        title=event.title,
        starts_at=localize(event.starts_at, event.community),
        location=event.location_name,
        confirmed=confirmed,
        waitlist=waiting,
        capacity=event.capacity,
    )


# --- calendar files ---------------------------------------------------------------------------
FEED_PAST_DAYS = 30
FEED_LIMIT = 200  # ~1.5 ms an event with icalendar on the 2-core machine


def _ics_item(event: Event) -> IcsEvent:
    description = event.description
    if event.fee_note:
        description = f"{description}\n\n{event.fee_note}".strip()
    return IcsEvent(
        uid=f"{event.pk}@events.wxcommunity",
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        description=description,
        location_name=event.location_name,
        location_address=event.location_address,
        latitude=float(event.latitude) if event.latitude is not None else None,
        longitude=float(event.longitude) if event.longitude is not None else None,
        updated_at=event.updated_at,
        cancelled=event.cancelled_at is not None,
        sequence=event.change_version,
    )


def event_ics(*, event: Event) -> bytes:
    """One event's calendar file, in its community's time zone."""
    return calendar_bytes(
        [_ics_item(event)],
        zone=community_zone(event.community),
        name=event.community.name,
        now=timezone.now(),
    )


def community_ics(*, community: Community, refresh_minutes: int | None = None) -> bytes:
    """The community's calendar: events starting from ``FEED_PAST_DAYS`` ago on (cancelled
    ones included, marked cancelled, so subscribed calendars drop them), one statement."""
    now = timezone.now()
    events = Event.objects.filter(
        community_id=community.pk, starts_at__gte=now - timedelta(days=FEED_PAST_DAYS)
    ).order_by("starts_at", "pk")[:FEED_LIMIT]
    return calendar_bytes(
        [_ics_item(event) for event in events],
        zone=community_zone(community),
        name=community.name,
        now=now,
        refresh_minutes=refresh_minutes,
    )
