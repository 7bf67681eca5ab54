"""Event sign-ups: quick 接龙 lists and full events, registrations, waitlist, check-ins.

Every table carries ``community_id`` and every unique constraint includes it, so the schema can
be distributed by community later (Citus) without a rewrite.

Seats: an event with a ``capacity`` counts the seats its registrations hold (a member plus
their guests) in ``Event.seats_taken``. Only confirmed registrations and open waitlist offers
hold seats (``Registration.seats``); the counter moves in the same transaction as the
registration, by one guarded ``UPDATE`` (``events/seats.py``) that is the last statement taking
seats, and a check constraint (``seats_taken <= capacity``) backs it. The waitlist is served
first come, first served by ``Registration.waitlist_seq``, a number taken from the event's
``waitlist_seq`` counter at the moment the member was refused a seat.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import PublicIdField

#: Default reminder rounds before the start (hours).
DEFAULT_REMINDER_HOURS = (24, 2)
MAX_GUESTS_LIMIT = 20


def default_reminder_hours() -> list[int]:
    return list(DEFAULT_REMINDER_HOURS)


def new_checkin_secret() -> str:
    """A random secret that check-in tokens (QR codes) are signed with; rotating it revokes
    every token issued before."""
    return secrets.token_urlsafe(24)


def new_self_checkin_code() -> str:
    """The event-wide self check-in code (shown as a QR code at the venue)."""
    return secrets.token_urlsafe(12)


class EventMode(models.TextChoices):
    QUICK = "quick", _("Quick sign-up list (接龙)")
    FULL = "full", _("Full event")


class EventStatus(models.TextChoices):
    """What the clock and the organizer say about an event (computed, never stored)."""

    UPCOMING = "upcoming", _("Sign-up not open yet")
    OPEN = "open", _("Sign-up open")
    SIGNUP_CLOSED = "signup_closed", _("Sign-up closed")
    ONGOING = "ongoing", _("Taking place")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class EventQuerySet(models.QuerySet):
    """Status filters computed from the clock, so they never depend on a worker."""

    def not_cancelled(self) -> EventQuerySet:
        return self.filter(cancelled_at__isnull=True)

    def upcoming_or_running(self, now: datetime | None = None) -> EventQuerySet:
        now = now or timezone.now()
        return self.filter(cancelled_at__isnull=True).filter(
            Q(ends_at__gt=now) | Q(ends_at__isnull=True, starts_at__gt=now)
        )


class Event(models.Model):
    """Something members sign up for: a quick 接龙 ("周六爬山, 接龙") or a full event.

    A *quick* event is a title, a time and perhaps a capacity; every member sees the list of
    names with their order numbers, guests and notes, as in the chat. A *full* event may have a
    registration form (``form``: a survey-engine definition as JSON, validated by
    ``surveys.engine.check_definition``), approval by an organizer (``requires_approval``),
    and shows its attendee list to organizers only unless ``attendees_visible``.

    The status follows from the timestamps and the clock when read (:meth:`status_at`):
    sign-up opens at ``signup_opens_at`` and closes at ``signup_closes_at`` (default: the
    start); members may cancel until ``cancel_deadline`` (default: the start). An organizer's
    cancellation sets ``cancelled_at``.

    Seats: ``capacity`` (None: unlimited) counts the member plus their guests (at most
    ``max_guests``). ``seats_taken`` is the sum of ``Registration.seats``, moved only by
    ``events/seats.py``; ``waitlist_count`` counts waitlisted registrations (new sign-ups go
    behind them even when seats are free, so the line is never jumped) and ``waitlist_seq``
    hands out their places in line. When seats free up the first in line gets them at once,
    or, with ``waitlist_offers``, an offer to claim within ``offer_hours``.

    ``change_version`` is bumped by every change members are told about (time, place,
    cancellation), so each change is one outbox message per member. ``checkin_secret`` and the
    ``self_checkin_*`` fields serve check-in: a registration's QR token is signed with the
    event's and the registration's secrets; the event-wide ``self_checkin_code`` works between
    ``self_checkin_opens_at`` and ``self_checkin_closes_at`` (default: an hour before the start
    until the end)."""

    #: Moderation kind: a held one shows only to its author and moderators (``authz``).
    hold_kind = "event"

    id = PublicIdField()
    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="events"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events_authored",
    )
    mode = models.CharField(
        _("mode"), max_length=8, choices=EventMode.choices, default=EventMode.QUICK
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    location_name = models.CharField(_("place"), max_length=200, blank=True, default="")
    location_address = models.CharField(_("address"), max_length=300, blank=True, default="")
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    signup_opens_at = models.DateTimeField(_("sign-up opens at"), default=timezone.now)
    signup_closes_at = models.DateTimeField(
        _("sign-up closes at"),
        null=True,
        blank=True,
        help_text=_("Empty: when the event starts."),
    )
    cancel_deadline = models.DateTimeField(
        _("members may cancel until"),
        null=True,
        blank=True,
        help_text=_("Empty: until the event starts."),
    )
    capacity = models.PositiveIntegerField(
        _("capacity (seats)"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    max_guests = models.PositiveSmallIntegerField(_("guests per member (+N)"), default=0)
    fee_note = models.CharField(_("fee note"), max_length=200, blank=True, default="")
    cover_url = models.URLField(_("cover image URL"), max_length=500, blank=True, default="")
    requires_approval = models.BooleanField(_("sign-ups need approval"), default=False)
    attendees_visible = models.BooleanField(
        _("members may see the attendee list"),
        default=False,
        help_text=_("Quick sign-up lists are always visible to members."),
    )
    waitlist_offers = models.BooleanField(
        _("offer freed seats (claim within a window)"),
        default=False,
        help_text=_("Otherwise the first in line gets freed seats at once."),
    )
    offer_hours = models.PositiveSmallIntegerField(_("offer claim window (hours)"), default=12)
    reminder_hours = models.JSONField(
        _("reminders (hours before start)"), default=default_reminder_hours, blank=True
    )
    form = models.JSONField(
        _("registration form"),
        null=True,
        blank=True,
        help_text=_("A survey-engine definition answered with the sign-up."),
    )
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(_("on the waitlist"), default=0, editable=False)
    waitlist_seq = models.PositiveIntegerField(_("waitlist counter"), default=0, editable=False)
    change_version = models.PositiveIntegerField(_("change version"), default=0, editable=False)
    checkin_secret = models.CharField(
        _("check-in secret"), max_length=64, default=new_checkin_secret, editable=False
    )
    self_checkin_code = models.CharField(
        _("self check-in code"), max_length=32, default=new_self_checkin_code, editable=False
    )
    self_checkin_opens_at = models.DateTimeField(
        _("self check-in opens at"),
        null=True,
        blank=True,
        help_text=_("Empty: an hour before the start. Self check-in is off when disabled."),
    )
    self_checkin_closes_at = models.DateTimeField(
        _("self check-in closes at"), null=True, blank=True, help_text=_("Empty: at the end.")
    )
    self_checkin_enabled = models.BooleanField(_("self check-in"), default=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(
        _("cancellation reason"), max_length=300, blank=True, default=""
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(seats_taken__lte=models.F("capacity")),
                name="event_seats_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="event_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(signup_closes_at__isnull=True)
                | Q(signup_closes_at__gt=models.F("signup_opens_at")),
                name="event_signup_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="event_capacity_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_guests__lte=MAX_GUESTS_LIMIT), name="event_max_guests_range"
            ),
            models.CheckConstraint(
                condition=Q(offer_hours__gte=1), name="event_offer_hours_positive"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=[m.value for m in EventMode]), name="event_mode_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "starts_at"], name="event_community_calendar"),
            models.Index(fields=["starts_at"], name="event_starts"),
        ]

    def __str__(self) -> str:
        return self.title

    # --- times derived from the clock -------------------------------------------------------
    @property
    def signup_closes(self) -> datetime:
        return self.signup_closes_at or self.starts_at

    @property
    def cancel_until(self) -> datetime:
        return self.cancel_deadline or self.starts_at

    @property
    def ends(self) -> datetime:
        """The end, or three hours after the start when none is given (for "ongoing")."""
        return self.ends_at or self.starts_at + timedelta(hours=3)

    @property
    def self_checkin_window(self) -> tuple[datetime, datetime]:
        return (
            self.self_checkin_opens_at or self.starts_at - timedelta(hours=1),
            self.self_checkin_closes_at or self.ends,
        )

    def status_at(self, now: datetime) -> str:
        if self.cancelled_at is not None:
            return EventStatus.CANCELLED
        if now >= self.ends:
            return EventStatus.ENDED
        if now >= self.starts_at:
            return EventStatus.ONGOING
        if now < self.signup_opens_at:
            return EventStatus.UPCOMING
        if now >= self.signup_closes:
            return EventStatus.SIGNUP_CLOSED
        return EventStatus.OPEN

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def is_organizer(self, user_id: str | None) -> bool:
        """The user created this event or was added as an organizer (one query per user and
        event object, remembered on it; ``community.authz``'s ``is_organizer`` rule asks
        here, and ``events.selectors.event_for_member`` answers it for the reader within its
        join)."""
        if user_id is None:
            return False
        if self.author_id == user_id:
            return True
        known = self.__dict__.setdefault("_organizer_known", {})
        if user_id not in known:
            known[user_id] = EventOrganizer.objects.filter(
                community_id=self.community_id, event_id=self.pk, user_id=user_id
            ).exists()
        return known[user_id]

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)


class EventOrganizer(models.Model):
    """A member who runs an event with its creator: edits it, sees the attendees, approves,
    checks people in. The creator gets a row at creation; organizers add others."""

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="organizers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events_organized"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("organizer")
        verbose_name_plural = _("organizers")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "event", "user"], name="eventorganizer_once_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} organizes {self.event_id}"


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waitlist")
    OFFERED = "offered", _("Offered a seat")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


#: Statuses whose registration holds seats (counted in ``Event.seats_taken``).
SEAT_HOLDING = (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED)
#: Statuses of a live registration (the member is on the list, waiting or in).
LIVE = (
    RegistrationStatus.PENDING,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.OFFERED,
)


class CancelReason(models.TextChoices):
    MEMBER = "member", _("Cancelled by the member")
    ORGANIZER = "organizer", _("Removed by an organizer")
    OFFER_EXPIRED = "offer_expired", _("Offer not claimed in time")


class Registration(models.Model):
    """A member's sign-up for an event, with their guests (+N), note and form answers.

    One per member and event (a member who cancels and signs up again reuses it and goes to
    the end of the line). ``seats`` is what it holds against the capacity: ``1 + guests``
    while confirmed or offered, 0 otherwise (a check constraint). ``waitlist_seq`` is the
    place in line (FCFS), ``offer_expires_at`` the claim deadline of an offer.
    ``accept_partial`` is the member's choice when their guests do not all fit: take the seats
    that do (fewer guests), or wait for all of them. The 接龙 list numbers live registrations in
    ``signed_up_at`` order when read, so numbers close up after a cancellation, as in the chat. ``checkin_secret`` signs the member's QR token."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations"
    )
    status = models.CharField(_("status"), max_length=16, choices=RegistrationStatus.choices)
    guests = models.PositiveSmallIntegerField(_("guests"), default=0)
    guests_wanted = models.PositiveSmallIntegerField(
        _("guests asked for"),
        default=0,
        help_text=_("Guests the member asked for; more than seated when they took fewer seats."),
    )
    seats = models.PositiveSmallIntegerField(_("seats held"), default=0, editable=False)
    accept_partial = models.BooleanField(_("takes the seats that fit"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    answers = models.JSONField(_("form answers"), default=dict, blank=True)
    signed_up_at = models.DateTimeField(
        _("signed up at"),
        default=timezone.now,
        help_text=_("Orders the list (接龙); a new sign-up after a cancellation goes last."),
    )
    waitlist_seq = models.PositiveIntegerField(_("place in line"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("offer claim deadline"), null=True, blank=True)
    cancel_reason = models.CharField(
        _("cancellation"), max_length=16, choices=CancelReason.choices, blank=True, default=""
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    checkin_secret = models.CharField(
        _("check-in secret"), max_length=64, default=new_checkin_secret, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["signed_up_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "event", "user"], name="registration_one_per_member"
            ),
            models.UniqueConstraint(
                fields=["community", "event", "waitlist_seq"],
                condition=Q(status="waitlisted"),
                name="registration_waitlist_place_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in RegistrationStatus]),
                name="registration_status_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=[s.value for s in SEAT_HOLDING], seats=1 + models.F("guests"))
                    | (~Q(status__in=[s.value for s in SEAT_HOLDING]) & Q(seats=0))
                ),
                name="registration_seats_match_status",
            ),
            models.CheckConstraint(
                condition=~Q(status="waitlisted") | Q(waitlist_seq__isnull=False),
                name="registration_waitlisted_has_place",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
                name="registration_offer_has_deadline",
            ),
            models.CheckConstraint(
                condition=Q(guests__lte=MAX_GUESTS_LIMIT), name="registration_guests_range"
            ),
        ]
        indexes = [
            models.Index(
                fields=["community", "event", "status", "waitlist_seq"],
                name="registration_line",
            ),
            models.Index(
                fields=["status", "offer_expires_at"],
                condition=Q(status="offered"),
                name="registration_open_offers",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} for {self.event_id} ({self.status})"


class CheckInMethod(models.TextChoices):
    QR = "qr", _("QR code scanned by an organizer")
    SELF = "self", _("Self check-in with the event code")
    MANUAL = "manual", _("By hand (organizer or admin)")


class CheckIn(models.Model):
    """That a person of a registration arrived: the member (``guest_index`` 0) or one of
    their guests (1..guests). One per person (a unique constraint): checking in twice is a
    no-op. ``checked_in_by`` is who scanned or ticked (the member themselves for self
    check-in). No-shows are derived after the event: confirmed registrations without one."""

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="checkins")
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="checkins"
    )
    guest_index = models.PositiveSmallIntegerField(_("guest number (0: the member)"), default=0)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    method = models.CharField(_("method"), max_length=8, choices=CheckInMethod.choices)
    checked_in_at = models.DateTimeField(_("checked in at"), default=timezone.now)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "registration", "guest_index"], name="checkin_once_per_person"
            ),
            models.CheckConstraint(
                condition=Q(method__in=[m.value for m in CheckInMethod]),
                name="checkin_method_valid",
            ),
        ]
        indexes = [models.Index(fields=["community", "event"], name="checkin_event")]

    def __str__(self) -> str:
        return f"check-in {self.registration_id}#{self.guest_index}"


from events.models_edges import AttendeeExport, CalendarFeedToken  # noqa: E402,F401
