"""Output (and the import's input) serializers of the insights API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from insights.models import COUNTERS


class DayActiveOut(serializers.Serializer):
    day = serializers.DateField()
    active = serializers.IntegerField()


class ActiveMembersOut(serializers.Serializer):
    day = serializers.DateField(help_text="Today in the community's time zone.")
    members = serializers.IntegerField(help_text="Members present (active or muted).")
    dau = serializers.IntegerField()
    wau = serializers.IntegerField()
    mau = serializers.IntegerField()
    dau_over_mau = serializers.FloatField(allow_null=True)
    series = DayActiveOut(many=True)


class WeekJoinsOut(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday the week starts on.")
    joins = serializers.IntegerField()
    left_since = serializers.IntegerField()


class ParticipationOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["poll", "survey", "event"])
    id = serializers.CharField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    participants = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class SegmentMemberOut(serializers.Serializer):
    membership_id = serializers.CharField()
    user_id = serializers.CharField()
    nickname = serializers.CharField()
    last_active_on = serializers.DateField()
    active_days_30 = serializers.IntegerField()


class SegmentsOut(serializers.Serializer):
    new = SegmentMemberOut(many=True)
    core = SegmentMemberOut(many=True)
    casual = SegmentMemberOut(many=True)
    dormant = SegmentMemberOut(many=True)
    inactive = SegmentMemberOut(many=True)


class CohortOut(serializers.Serializer):
    month = serializers.DateField()
    joined = serializers.IntegerField()
    active_share = serializers.ListField(child=serializers.FloatField(allow_null=True))


class TopMemberOut(serializers.Serializer):
    user_id = serializers.CharField()
    nickname = serializers.CharField()
    actions = serializers.IntegerField()
    active_days = serializers.IntegerField()


class DashboardOut(serializers.Serializer):
    active = ActiveMembersOut()
    joins = WeekJoinsOut(many=True)
    participation = ParticipationOut(many=True)
    heatmap = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Seven rows (Monday first) of 24 hourly action counts.",
    )
    segments = SegmentsOut()
    retention = CohortOut(many=True)
    top_members = TopMemberOut(many=True)


class TopMembersOut(serializers.Serializer):
    hidden = serializers.BooleanField(
        help_text="True when fewer members than the community's floor (k) were active: no names."
    )
    members = TopMemberOut(many=True)


def _counter_fields() -> dict:
    return {c: serializers.IntegerField() for c in COUNTERS}


TimelineDayOut = type(
    "TimelineDayOut",
    (serializers.Serializer,),
    {"day": serializers.DateField(), **_counter_fields()},
)
TimelinePeriodOut = type(
    "TimelinePeriodOut",
    (serializers.Serializer,),
    {
        "grain": serializers.ChoiceField(choices=["week", "month"]),
        "starts_on": serializers.DateField(),
        "active_days": serializers.IntegerField(),
        **_counter_fields(),
    },
)


class TimelineOut(serializers.Serializer):
    days = TimelineDayOut(many=True)
    periods = TimelinePeriodOut(many=True)


class MessageCountsIn(serializers.Serializer):
    csv = serializers.CharField(
        max_length=2_000_000,
        trim_whitespace=False,
        help_text="The CSV text: date, nickname or openid, messages per line (a header optional).",
    )


class UnmatchedRowOut(serializers.Serializer):
    line = serializers.IntegerField()
    member = serializers.CharField()
    reason = serializers.CharField()


class ImportReportOut(serializers.Serializer):
    rows = serializers.IntegerField()
    applied = serializers.BooleanField(
        help_text="False: some rows matched no member; nothing written."
    )
    messages = serializers.IntegerField()
    unmatched = UnmatchedRowOut(many=True)


class CleanupMemberOut(serializers.Serializer):
    membership_id = serializers.CharField()
    user_id = serializers.CharField()
    nickname = serializers.CharField()
    last_active_at = serializers.DateTimeField()
    asked_at = serializers.DateTimeField(help_text='When the member was asked "还在吗?".')


class CleanupListOut(serializers.Serializer):
    members = CleanupMemberOut(many=True)
    text = serializers.CharField(help_text="The list as text, nicknames to remove in WeChat.")


class RemovalIn(serializers.Serializer):
    membership_ids = serializers.ListField(
        child=serializers.CharField(max_length=32), min_length=1, max_length=200
    )
    reason = serializers.CharField(max_length=200)


class RemovalOut(serializers.Serializer):
    removed = serializers.ListField(child=serializers.CharField())
    skipped = serializers.ListField(
        child=serializers.CharField(), help_text="Not on the clean-up list (active meanwhile)."
    )


class DigestEventOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    capacity = serializers.IntegerField(allow_null=True, help_text=_("Null: no limit."))
    seats_taken = serializers.IntegerField()


class DigestTaskOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    due_at = serializers.DateTimeField()


class WeeklyDigestOut(serializers.Serializer):
    week = serializers.CharField(
        help_text=_("The ISO week the digest is sent in (YYYY-Www); it reports on the week before.")
    )
    week_starts_on = serializers.DateField(help_text=_("Monday of the week reported on."))
    week_ends_on = serializers.DateField(help_text=_("Sunday of the week reported on."))
    members = serializers.IntegerField(help_text=_("Members present (active or muted)."))
    active_members = serializers.IntegerField(
        help_text=_("Members active on at least one day of the week reported on.")
    )
    active_members_before = serializers.IntegerField(
        help_text=_("Members active in the week before it.")
    )
    active_change = serializers.IntegerField(
        help_text=_("Active members of the week minus those of the week before.")
    )
    participation = ParticipationOut(
        many=True, help_text=_("Polls, surveys and events created in the week, newest first.")
    )
    upcoming_events = DigestEventOut(
        many=True, help_text=_("Events starting in the next 7 days (at most 10), soonest first.")
    )
    overdue_task_count = serializers.IntegerField(help_text=_("Open tasks past their due time."))
    overdue_tasks = DigestTaskOut(
        many=True, help_text=_("The longest overdue of them (at most 10).")
    )
    inactive_candidates = serializers.IntegerField(
        help_text=_('Members asked "still here?" who have not answered yet.')
    )
    inactive_to_clean_up = serializers.IntegerField(
        help_text=_("Of them, those past the grace period: on the clean-up list.")
    )
