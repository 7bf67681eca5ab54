"""Input and output serializers of the announcements API."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from announcements.models import TITLE_MAX, AnnouncementStatus


class CategoryOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    following = serializers.BooleanField(help_text=_("Whether I follow it (the default)."))


class CategoryIn(serializers.Serializer):
    name = serializers.CharField(max_length=20)
    position = serializers.IntegerField(min_value=0, max_value=1000, required=False)


class CategoryUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=20, required=False)
    position = serializers.IntegerField(min_value=0, max_value=1000, required=False)


class CategoryBriefOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class AnnouncementOut(serializers.Serializer):
    """An announcement as a card and a page show it; ``body`` is HTML of the safe subset (p,
    b, strong, i, em, ul, ol, li, h2, h3, blockquote, a[href https], img[src https]), ready
    for the mini-program's ``rich-text``. Members only ever see ``published`` ones; writers
    also scheduled and expired ones."""

    id = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    category = CategoryBriefOut(allow_null=True)
    cover_url = serializers.CharField()
    pinned = serializers.BooleanField()
    publish_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    requires_confirmation = serializers.BooleanField()
    status = serializers.SerializerMethodField()
    read = serializers.BooleanField(help_text=_("I have opened it."))
    confirmed = serializers.BooleanField(help_text=_("I have confirmed reading it."))
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ChoiceField(choices=AnnouncementStatus.choices))
    def get_status(self, obj) -> str:
        return obj.status_at(timezone.now())


class AnnouncementIn(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX)
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("HTML; reduced to the safe subset."),
    )
    category_id = serializers.CharField(required=False, allow_null=True, default=None)
    cover_url = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text=_("https only.")
    )
    pinned = serializers.BooleanField(required=False, default=False)
    publish_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("Empty: now.")
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    requires_confirmation = serializers.BooleanField(required=False, default=False)


class AnnouncementUpdateIn(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX, required=False)
    body = serializers.CharField(required=False, allow_blank=True)
    category_id = serializers.CharField(required=False, allow_null=True)
    cover_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    pinned = serializers.BooleanField(required=False)
    publish_at = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    requires_confirmation = serializers.BooleanField(required=False)


class AnnouncementListIn(serializers.Serializer):
    category = serializers.CharField(required=False, help_text=_("Only this category."))


class ConfirmationOut(serializers.Serializer):
    announcement_id = serializers.CharField(help_text=_("Id of the announcement."))
    read_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField()


class ReaderOut(serializers.Serializer):
    membership_id = serializers.CharField()
    nickname = serializers.CharField()
    avatar_url = serializers.CharField()
    read_at = serializers.DateTimeField(
        allow_null=True,
        help_text=_("When they first opened it (ISO 8601 with offset); null: not yet."),
    )
    confirmed_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When they confirmed (ISO 8601 with offset); null: not yet.")
    )


class ReadersOut(serializers.Serializer):
    audience_count = serializers.IntegerField(help_text=_("Members following its category."))
    read_count = serializers.IntegerField(help_text=_("Members who have opened it."))
    confirmed_count = serializers.IntegerField(help_text=_("Members who have confirmed it."))
    not_confirmed_count = serializers.IntegerField(
        help_text=_("Members of the audience who have not confirmed.")
    )
    confirmed = ReaderOut(many=True, help_text=_("Who has confirmed."))
    not_confirmed = ReaderOut(many=True, help_text=_("Who has not confirmed yet."))


class ReminderOut(serializers.Serializer):
    reminded_count = serializers.IntegerField(help_text=_("Members the reminder was queued for."))


class CalendarIn(serializers.Serializer):
    week = serializers.RegexField(
        r"^\d{4}-W\d{2}$",
        required=False,
        help_text=_("ISO week to start from, e.g. 2026-W49 (default: this week)."),
    )
    weeks = serializers.IntegerField(
        min_value=1,
        max_value=12,
        required=False,
        default=4,
        help_text=_("Number of weeks, 1 to 12."),
    )


class CalendarPostOut(serializers.Serializer):
    id = serializers.CharField(source="announcement.id")
    title = serializers.CharField(source="announcement.title")
    category = CategoryBriefOut(source="announcement.category", allow_null=True)
    pinned = serializers.BooleanField(source="announcement.pinned")
    publish_at = serializers.DateTimeField(source="announcement.publish_at")
    expires_at = serializers.DateTimeField(source="announcement.expires_at", allow_null=True)
    status = serializers.ChoiceField(choices=AnnouncementStatus.choices)
    requires_confirmation = serializers.BooleanField(source="announcement.requires_confirmation")
    read_count = serializers.IntegerField(
        source="announcement.read_count", help_text=_("Members who have opened it.")
    )
    confirmed_count = serializers.IntegerField(
        source="announcement.confirmed_count", help_text=_("Members who have confirmed it.")
    )
    read_rate = serializers.FloatField(help_text=_("Readers / active members, 0..1."))
    confirmed_rate = serializers.FloatField(
        allow_null=True, help_text=_("Confirmations / active members; null when not asked.")
    )


class CalendarWeekOut(serializers.Serializer):
    week = serializers.CharField(help_text=_("ISO week, e.g. 2026-W49."))
    starts_on = serializers.DateField(help_text=_("Its Monday (YYYY-MM-DD)."))
    ends_on = serializers.DateField(help_text=_("Its Sunday (YYYY-MM-DD)."))
    posts = CalendarPostOut(
        many=True, help_text=_("Announcements published (or scheduled) in the week.")
    )


class CalendarOut(serializers.Serializer):
    weeks = CalendarWeekOut(many=True, help_text=_("Every week of the range, empty ones too."))
