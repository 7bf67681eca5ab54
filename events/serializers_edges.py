"""Input and output serializers of check-in, calendar files, the 接龙 text and the share
landing (the edges of events; the sign-up serializers are in ``events.serializers``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from events.models import CheckInMethod, RegistrationStatus
from polls.openapi import NamedEnumField


# --- check-in ---------------------------------------------------------------------------------
class CheckInIn(serializers.Serializer):
    """What an organizer sends: the scanned ticket, or the registration to tick by hand."""

    code = serializers.CharField(
        required=False,
        max_length=200,
        help_text=gettext_lazy("The text of the member's ticket QR code (`wx.scanCode` result)."),
    )
    registration_id = serializers.CharField(
        required=False,
        max_length=16,
        help_text=gettext_lazy("Check in by hand from the attendee list."),
    )
    guests = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=20,
        help_text=gettext_lazy("How many of the member's guests arrived (default: all of them)."),
    )

    def validate(self, attrs):
        if bool(attrs.get("code")) == bool(attrs.get("registration_id")):
            raise serializers.ValidationError(
                _("Send either the scanned code or a registration id."), code="invalid"
            )
        return attrs


class SelfCheckInIn(serializers.Serializer):
    code = serializers.CharField(
        max_length=200,
        help_text=gettext_lazy("The text of the event's check-in QR code shown at the door."),
    )
    guests = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=20,
        help_text=gettext_lazy("Guests with me (default: all)."),
    )


class CheckInPersonOut(serializers.Serializer):
    guest_index = serializers.IntegerField(
        help_text=gettext_lazy("0: the member; 1..N: their guests.")
    )
    checked_in_at = serializers.DateTimeField()
    method = NamedEnumField(component_name="CheckInMethodEnum", choices=CheckInMethod.choices)
    checked_in_by = serializers.SerializerMethodField()

    def get_checked_in_by(self, obj) -> str | None:
        user = getattr(obj, "checked_in_by", None)
        return (user.nickname or user.username) if user else None


class CheckInOut(serializers.Serializer):
    registration_id = serializers.CharField(source="registration.pk")
    nickname = serializers.SerializerMethodField()
    status = NamedEnumField(
        component_name="RegistrationStatusEnum",
        choices=RegistrationStatus.choices,
        source="registration.status",
    )
    people = serializers.IntegerField(help_text=gettext_lazy("The member plus their guests."))
    added = serializers.IntegerField(
        help_text=gettext_lazy("People this request checked in (0: a replay).")
    )
    checked_in = CheckInPersonOut(many=True, source="checkins")

    def get_nickname(self, obj) -> str:
        user = obj.registration.user
        return user.nickname or user.username


class TicketOut(serializers.Serializer):
    registration_id = serializers.CharField(source="registration.pk")
    status = NamedEnumField(
        component_name="RegistrationStatusEnum",
        choices=RegistrationStatus.choices,
        source="registration.status",
    )
    code = serializers.CharField(
        allow_null=True,
        help_text=gettext_lazy(
            "Text to show as a QR code; null unless the registration is confirmed."
        ),
    )
    guests = serializers.IntegerField(source="registration.guests")
    checked_in = CheckInPersonOut(many=True)


class DoorCodeOut(serializers.Serializer):
    code = serializers.CharField(help_text=gettext_lazy("Text to show as a QR code at the door."))
    enabled = serializers.BooleanField(
        help_text=gettext_lazy("Self check-in is on for this event.")
    )
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()


class NoShowOut(serializers.Serializer):
    registration_id = serializers.CharField(source="pk")
    nickname = serializers.SerializerMethodField()
    guests = serializers.IntegerField()
    signed_up_at = serializers.DateTimeField()

    def get_nickname(self, obj) -> str:
        return obj.user.nickname or obj.user.username


# --- calendar files, 接龙 text -----------------------------------------------------------------
class CalendarFeedOut(serializers.Serializer):
    url = serializers.CharField(
        help_text=gettext_lazy(
            "Secret address to subscribe to in a calendar app (shown once; making a new "
            "one revokes the old)."
        )
    )


class JielongOut(serializers.Serializer):
    text = serializers.CharField(
        help_text=gettext_lazy("The list as 接龙 text, ready to paste into the chat.")
    )


# --- share landing --------------------------------------------------------------------------
class EventShareOut(serializers.Serializer):
    title = serializers.CharField(
        help_text=gettext_lazy("Title of the share card (`onShareAppMessage`).")
    )
    path = serializers.CharField(help_text=gettext_lazy("Mini-program page the card opens."))
    scene = serializers.CharField(
        help_text=gettext_lazy("`scene` of a mini-program code (at most 32 chars).")
    )
    image_url = serializers.CharField(allow_blank=True)


class EventJoinIn(serializers.Serializer):
    encrypted_data = serializers.CharField(max_length=4096)
    iv = serializers.CharField(max_length=64)


class EventLandingOut(serializers.Serializer):
    community_id = serializers.CharField()
    membership_status = serializers.CharField(
        help_text=gettext_lazy("`active` (land on the event) or `pending` (wait for approval).")
    )
    event_id = serializers.CharField()
    landing_path = serializers.CharField(
        allow_null=True,
        help_text=gettext_lazy(
            "Page to open now: the event's page, or null while the membership waits for approval."
        ),
    )
