"""Reads of the events app; the query shape of each endpoint is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case as DbCase
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.authz import VISIBLE_STATUSES, Action, ensure, may_see_held
from community.errors import NotFound
from community.models import Membership, User
from events.models import (
    LIVE,
    SEAT_HOLDING,
    CheckIn,
    Event,
    EventOrganizer,
    Registration,
    RegistrationStatus,
)
from moderation.selectors import held_exists, without_held

#: How long an event without an end is taken to last (``Event.ends``).
_DEFAULT_LENGTH = timedelta(hours=3)


class MyState:
    """What "my status" says (the API's ``MyEventStateEnum``): the registration's status,
    ``none`` without one, and ``checked_in`` once the member arrived."""

    NONE = "none"
    CHECKED_IN = "checked_in"
    CHOICES = [
        ("none", gettext_lazy("Not signed up")),
        *[(s.value, s.label) for s in RegistrationStatus],
        ("checked_in", gettext_lazy("Checked in")),
    ]


def event_for_member(
    *, user: User, event_id: str, action: Action = Action.VIEW
) -> tuple[Event, Membership]:
    """The event, its community and the user's membership in it, in one query (a join); 404
    for events of communities the user cannot see, 403 when they may not do ``action``."""
    row = (
        Event.objects.select_related("community")
        .filter(
            pk=event_id,
            community__memberships__user_id=user.pk,
            community__memberships__status__in=VISIBLE_STATUSES,
        )
        .annotate(
            m_id=F("community__memberships__id"),
            m_tier=F("community__memberships__tier"),
            m_status=F("community__memberships__status"),
            m_rules=F("community__memberships__rules_accepted_version"),
            m_organizer=Exists(
                EventOrganizer.objects.filter(
                    community_id=OuterRef("community_id"), event_id=OuterRef("pk"), user_id=user.pk
                )
            ),
            held=held_exists(Event.hold_kind),
        )
        .order_by()[:1]
    )
    event = next(iter(row), None)
    if event is None or not user.is_authenticated:
        raise NotFound(_("Event not found."))
    membership = Membership(
        id=event.m_id,
        community=event.community,
        user=user,
        tier=event.m_tier,
        status=event.m_status,
        rules_accepted_version=event.m_rules,
    )
    membership._state.adding = False
    event._organizer_known = {user.pk: event.m_organizer}
    if event.held and not may_see_held(membership, event):
        raise NotFound(_("Event not found."))  # held back by moderation: not there for others
    ensure(membership, action, obj=event)
    return event, membership


def event_list(
    *, viewer: Membership, status: str | None = None, mine: bool = False
) -> QuerySet[Event]:
    """Events of the viewer's community with the viewer's own registration status
    (``my_status``) annotated: one query per page whatever the number of events.
    ``status``: ``upcoming`` (not ended, not cancelled; the default card list) or ``past``;
    ``mine``: only events I am registered for (live registrations)."""
    now = timezone.now()
    mine_qs = Registration.objects.filter(
        community_id=OuterRef("community_id"), event_id=OuterRef("pk"), user_id=viewer.user_id
    )
    qs = (
        Event.objects.filter(community_id=viewer.community_id)
        .select_related("community")
        .annotate(my_status=Subquery(mine_qs.values("status")[:1]))
    )
    qs = without_held(qs, community_id=viewer.community_id, target_kind="event")
    if status == "upcoming":
        qs = qs.filter(cancelled_at__isnull=True).filter(
            Q(ends_at__gt=now) | Q(ends_at__isnull=True, starts_at__gt=now - _DEFAULT_LENGTH)
        )
    elif status == "past":
        qs = qs.filter(
            Q(ends_at__lte=now) | Q(ends_at__isnull=True, starts_at__lte=now - _DEFAULT_LENGTH)
        )
    if mine:
        qs = qs.filter(Exists(mine_qs.filter(status__in=[s.value for s in LIVE])))
    return qs


@dataclass(frozen=True)
class MyRegistration:
    """My standing at an event, as the mini-program shows it."""

    state: str
    registration: Registration | None
    waitlist_position: int | None
    checked_in: bool


def my_registration(
    *, event: Event, user_id: int, fresh: Registration | None = None
) -> MyRegistration:
    """My registration with my place in line (1 = next) and whether I checked in: one query,
    two on the waitlist. ``fresh`` is a registration the caller has just created (nobody can
    have checked it in): it is not read again."""
    if fresh is not None and getattr(fresh, "created_now", False):
        position = None
        if fresh.status == RegistrationStatus.WAITLISTED:
            position = waitlist_position(event=event, seq=fresh.waitlist_seq)
        return MyRegistration(fresh.status, fresh, position, False)
    registration = (
        Registration.objects.filter(
            community_id=event.community_id, event_id=event.pk, user_id=user_id
        )
        .annotate(
            checked_in=Exists(
                CheckIn.objects.filter(
                    community_id=OuterRef("community_id"),
                    registration_id=OuterRef("pk"),
                    guest_index=0,
                )
            )
        )
        .first()
    )
    if registration is None:
        return MyRegistration(MyState.NONE, None, None, False)
    position = None
    if registration.status == RegistrationStatus.WAITLISTED:
        position = waitlist_position(event=event, seq=registration.waitlist_seq)
    state = registration.status
    if registration.checked_in:
        state = MyState.CHECKED_IN
    return MyRegistration(state, registration, position, registration.checked_in)


def waitlist_position(*, event: Event, seq: int) -> int:
    """Place in line of the waitlisted registration with ``seq`` (1 = next)."""
    ahead = Registration.objects.filter(
        community_id=event.community_id,
        event_id=event.pk,
        status=RegistrationStatus.WAITLISTED,
        waitlist_seq__lt=seq,
    ).count()
    return ahead + 1


#: Filters of the sign-up list: seated (confirmed and offered), waiting, pending approval.
LIST_GROUPS = {
    "seated": [s.value for s in SEAT_HOLDING],
    "waitlisted": [RegistrationStatus.WAITLISTED.value],
    "pending": [RegistrationStatus.PENDING.value],
    "cancelled": [RegistrationStatus.CANCELLED.value, RegistrationStatus.REJECTED.value],
}


def registration_list(*, event: Event, group: str = "seated") -> QuerySet[Registration]:
    """The sign-up list of an event, one group at a time, in list order (the 接龙 order: who
    signed up first; the waitlist by place in line), each row numbered (``number``: 1, 2, ...
    within the group, the number a 接龙 shows) and with the member's name. One query per
    page: the number is a correlated count, so pages of a cursor keep their numbers."""
    statuses = LIST_GROUPS[group]
    base = Registration.objects.filter(
        community_id=event.community_id, event_id=event.pk, status__in=statuses
    )
    if group == "waitlisted":
        ahead = base.filter(waitlist_seq__lt=OuterRef("waitlist_seq"))
    else:
        ahead = base.filter(signed_up_at__lt=OuterRef("signed_up_at"))
    number = Subquery(ahead.order_by().values("event_id").annotate(n=Count("pk")).values("n")[:1])
    return base.select_related("user").annotate(
        number=Coalesce(number, 0) + 1,
        # A note WeChat's check did not pass (or a moderator hid) is not shown; the sign-up is.
        shown_note=DbCase(
            When(held_exists("registration_note"), then=Value("")), default=F("note")
        ),
        checked_in=Exists(
            CheckIn.objects.filter(
                community_id=OuterRef("community_id"),
                registration_id=OuterRef("pk"),
                guest_index=0,
            )
        ),
    )


def list_ordering(group: str) -> str:
    return "waitlist_seq" if group == "waitlisted" else "signed_up_at"


def registration_row(*, event: Event, registration_id: str) -> Registration:
    """One line of the list (after an organizer's decision), numbered within its group."""
    registration = Registration.objects.filter(
        community_id=event.community_id, event_id=event.pk, pk=registration_id
    ).first()
    if registration is None:
        raise NotFound(_("Registration not found."))
    group = next((g for g, statuses in LIST_GROUPS.items() if registration.status in statuses))
    return registration_list(event=event, group=group).get(pk=registration_id)


def organizer_list(*, event: Event) -> QuerySet[EventOrganizer]:
    """The organizers of an event with their names."""
    return EventOrganizer.objects.filter(
        community_id=event.community_id, event_id=event.pk
    ).select_related("user")
