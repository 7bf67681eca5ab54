"""Input and output serializers of the events API (kept separate; inputs list exactly the
writable fields)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from community.api.serializers import MemberTextField, UserOut
from events.models import (
    MAX_GUESTS_LIMIT,
    EventMode,
    EventStatus,
    RegistrationStatus,
)
from events.selectors import LIST_GROUPS, MyState
from events.services.events import MAX_OFFER_HOURS, MAX_REMINDER_HOURS, MAX_REMINDERS
from polls.openapi import NamedEnumField
from polls.serializers import EARLIEST, LATEST


class EventTimeField(serializers.DateTimeField):
    """An event time within 2000-2100 (renders with an offset in every zone, never overflows)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)])
        super().__init__(**kwargs)


def _mode(**kwargs) -> NamedEnumField:
    return NamedEnumField(choices=EventMode.choices, component_name="EventModeEnum", **kwargs)


def _reg_status(**kwargs) -> NamedEnumField:
    return NamedEnumField(
        choices=RegistrationStatus.choices, component_name="RegistrationStatusEnum", **kwargs
    )


# --- output ---------------------------------------------------------------------------------
class MyEventStateOut(serializers.Serializer):
    """My standing at the event."""

    state = NamedEnumField(
        choices=MyState.CHOICES,
        component_name="MyEventStateEnum",
        help_text=_(
            "My state at the event: none, pending, confirmed, waitlisted, offered, cancelled, "
            "rejected or checked_in."
        ),
    )
    registration_id = serializers.CharField(allow_null=True)
    guests = serializers.IntegerField(help_text=_("Guests seated (or asked for while waiting)."))
    guests_wanted = serializers.IntegerField(help_text=_("Guests I asked for."))
    seats = serializers.IntegerField(help_text=_("Seats I hold (1 + guests when confirmed)."))
    note = serializers.CharField()
    answers = serializers.JSONField(help_text=_("My answers to the registration form."))
    accept_partial = serializers.BooleanField()
    waitlist_position = serializers.IntegerField(
        allow_null=True, help_text=_("My place in line (1 = next) while waitlisted.")
    )
    offer_expires_at = serializers.DateTimeField(
        allow_null=True, help_text=_("While offered: claim (PUT) before this time.")
    )
    checked_in = serializers.BooleanField()
    can_cancel = serializers.BooleanField(help_text=_("DELETE would cancel now."))


class EventCardOut(serializers.Serializer):
    """What an event card in the list shows."""

    id = serializers.CharField()
    mode = _mode()
    title = serializers.CharField()
    status = NamedEnumField(
        choices=EventStatus.choices,
        component_name="EventStatusEnum",
        help_text=_(
            "Computed from the clock: upcoming, open, signup_closed, ongoing, ended, cancelled."
        ),
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    location_name = serializers.CharField()
    cover_url = serializers.CharField()
    capacity = serializers.IntegerField(allow_null=True, help_text=_("Seats; null = unlimited."))
    seats_taken = serializers.IntegerField()
    seats_left = serializers.IntegerField(allow_null=True)
    waitlist_count = serializers.IntegerField()
    signup_closes_at = serializers.DateTimeField(source="signup_closes")
    my_status = NamedEnumField(
        choices=MyState.CHOICES,
        component_name="MyEventStateEnum",
        help_text=_("My registration's status (`none` when I have none)."),
    )


class EventDetailOut(EventCardOut):
    description = serializers.CharField()
    location_address = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    signup_opens_at = serializers.DateTimeField()
    cancel_deadline = serializers.DateTimeField(source="cancel_until")
    max_guests = serializers.IntegerField()
    fee_note = serializers.CharField()
    requires_approval = serializers.BooleanField()
    attendees_visible = serializers.BooleanField(
        help_text=_("Members see the sign-up list (always for a quick 接龙).")
    )
    waitlist_offers = serializers.BooleanField(
        help_text=_("Freed seats are offered to claim within offer_hours (else given at once).")
    )
    offer_hours = serializers.IntegerField()
    reminder_hours = serializers.ListField(child=serializers.IntegerField())
    form = serializers.JSONField(
        allow_null=True, help_text=_("The registration form (survey-engine definition) or null.")
    )
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    author = UserOut(allow_null=True)
    can_manage = serializers.BooleanField(help_text=_("I may edit it, approve and see everyone."))
    can_see_attendees = serializers.BooleanField()
    my = MyEventStateOut()


class RegistrationRowOut(serializers.Serializer):
    """One line of the sign-up list: ``3. 小张 +1 (note)``."""

    id = serializers.CharField()
    number = serializers.IntegerField(help_text=_("1, 2, ... within the list shown (接龙 order)."))
    user = UserOut()
    status = _reg_status()
    guests = serializers.IntegerField()
    note = serializers.CharField(
        source="shown_note", help_text=_('`""` while the note waits for moderation.')
    )
    signed_up_at = serializers.DateTimeField()
    checked_in = serializers.BooleanField()


class AttendeeRowOut(RegistrationRowOut):
    """A line of the attendee list as organizers see it (with the form answers)."""

    answers = serializers.JSONField()
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    accept_partial = serializers.BooleanField()


class OrganizerOut(serializers.Serializer):
    user = UserOut()
    created_at = serializers.DateTimeField()


# --- input ----------------------------------------------------------------------------------
class _EventSettingsIn(serializers.Serializer):
    description = MemberTextField(max_length=5000, required=False, allow_blank=True, multiline=True)
    location_name = MemberTextField(max_length=200, required=False, allow_blank=True)
    location_address = MemberTextField(max_length=300, required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    ends_at = EventTimeField(required=False, allow_null=True)
    signup_opens_at = EventTimeField(required=False, help_text=_("Default: now."))
    signup_closes_at = EventTimeField(
        required=False, allow_null=True, help_text=_("Default: the start.")
    )
    cancel_deadline = EventTimeField(
        required=False,
        allow_null=True,
        help_text=_("Members may cancel until; default: the start."),
    )
    capacity = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=100000,
        help_text=_("null: unlimited"),
    )
    max_guests = serializers.IntegerField(required=False, min_value=0, max_value=MAX_GUESTS_LIMIT)
    fee_note = MemberTextField(max_length=200, required=False, allow_blank=True)
    cover_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    requires_approval = serializers.BooleanField(required=False)
    attendees_visible = serializers.BooleanField(required=False)
    waitlist_offers = serializers.BooleanField(required=False)
    offer_hours = serializers.IntegerField(required=False, min_value=1, max_value=MAX_OFFER_HOURS)
    reminder_hours = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_REMINDER_HOURS),
        required=False,
        max_length=MAX_REMINDERS,
        help_text=_("Hours before the start; default [24, 2]; [] sends none."),
    )
    form = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=_(
            "Full events: a registration form, the survey engine's definition "
            "({pages, questions}); every question type, validation and display logic of surveys."
        ),
    )
    self_checkin_enabled = serializers.BooleanField(required=False)
    self_checkin_opens_at = EventTimeField(required=False, allow_null=True)
    self_checkin_closes_at = EventTimeField(required=False, allow_null=True)


class EventCreateIn(_EventSettingsIn):
    mode = _mode(required=False, default=EventMode.QUICK)
    title = MemberTextField(max_length=200)
    starts_at = EventTimeField()
    organizer_user_ids = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        max_length=20,
        help_text=_("Other members who run the event with me."),
    )


class EventUpdateIn(_EventSettingsIn):
    title = MemberTextField(max_length=200, required=False)
    starts_at = EventTimeField(required=False)


class EventCancelIn(serializers.Serializer):
    reason = MemberTextField(max_length=300, required=False, allow_blank=True, default="")


class RegistrationIn(serializers.Serializer):
    """My sign-up: the whole of it (a PUT); send the same body again and nothing changes."""

    guests = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_GUESTS_LIMIT,
        help_text=_("Guests I bring (the +N of a sign-up list)."),
    )
    note = MemberTextField(max_length=200, required=False, allow_blank=True, default="")
    answers = serializers.JSONField(
        required=False, default=dict, help_text=_("Answers to the form: question id → answer.")
    )
    accept_partial = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "When my guests do not all fit: take the seats that do (fewer guests) "
            "instead of waiting for all of them."
        ),
    )


class RegistrationFilterIn(serializers.Serializer):
    group = serializers.ChoiceField(
        choices=list(LIST_GROUPS),
        required=False,
        default="seated",
        help_text=_("seated (confirmed and offered), waitlisted, pending, cancelled"),
    )


class EventFilterIn(serializers.Serializer):
    when = serializers.ChoiceField(
        choices=["upcoming", "past", "all"],
        required=False,
        default="upcoming",
        help_text=_("`upcoming` (default), `past` or `all`."),
    )
    mine = serializers.BooleanField(
        required=False, default=False, help_text=_("Only events I signed up for.")
    )


class OrganizerIn(serializers.Serializer):
    user_id = serializers.CharField(max_length=16, help_text=_("The member's user id."))
