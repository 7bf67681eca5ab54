"""Output (and the import's input) serializers of the insights API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from insights.models import COUNTERS


class DayActiveOut(serializers.Serializer):
    day = serializers.DateField(help_text=_("The day (YYYY-MM-DD, the community's calendar)."))
    active = serializers.IntegerField(help_text=_("Members active that day."))
    wau = serializers.IntegerField(
        allow_null=True,
        help_text=_("Members active in the 7 days ending that day; null: not summarised."),
    )
    mau = serializers.IntegerField(
        allow_null=True,
        help_text=_("Members active in the 30 days ending that day; null: not summarised."),
    )


class ActiveMembersOut(serializers.Serializer):
    day = serializers.DateField(help_text=_("Today in the community's time zone."))
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text=_("When the hourly summary these figures come from was computed; null: now."),
    )
    members = serializers.IntegerField(help_text=_("Members present (active or muted)."))
    dau = serializers.IntegerField(help_text=_("Members active today (DAU)."))
    wau = serializers.IntegerField(help_text=_("Members active in the last 7 days (WAU)."))
    mau = serializers.IntegerField(help_text=_("Members active in the last 30 days (MAU)."))
    dau_over_mau = serializers.FloatField(
        allow_null=True,
        help_text=_("DAU / MAU, 0..1, three decimals; null: no one active in 30 days."),
    )
    series = DayActiveOut(
        many=True, help_text=_("Active members per day, the last 30 days, oldest first.")
    )


class WeekJoinsOut(serializers.Serializer):
    week = serializers.DateField(help_text=_("The Monday the week starts on."))
    joins = serializers.IntegerField(help_text=_("Members who joined (or came back) that week."))
    leaves = serializers.IntegerField(
        help_text=_("Members who left, were removed or banned that week.")
    )
    left_since = serializers.IntegerField(
        help_text=_("Of them, members who have left or been removed since.")
    )


class ParticipationOut(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[("poll", _("poll")), ("survey", _("survey")), ("event", _("event"))],
        help_text=_("What it is: a poll, a survey or an event."),
    )
    id = serializers.CharField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    participants = serializers.IntegerField(
        help_text=_("Members who took part (voted, submitted, signed up).")
    )
    rate = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "Participants / members present (a poll's own electorate), 0..1; null: no members."
        ),
    )


class SegmentMemberOut(serializers.Serializer):
    membership_id = serializers.CharField()
    user_id = serializers.CharField()
    nickname = serializers.CharField()
    last_active_on = serializers.DateField(
        help_text=_("Last day with activity (YYYY-MM-DD, the community's calendar).")
    )
    active_days_30 = serializers.IntegerField(help_text=_("Days active in the last 30 days."))


class SegmentsOut(serializers.Serializer):
    new = SegmentMemberOut(many=True, help_text=_("Joined recently (within the new-member days)."))
    core = SegmentMemberOut(
        many=True, help_text=_("Active on at least the core number of the last 30 days.")
    )
    casual = SegmentMemberOut(many=True, help_text=_("Active now and then, not core."))
    dormant = SegmentMemberOut(many=True, help_text=_("Not active for a while, not yet inactive."))
    inactive = SegmentMemberOut(many=True, help_text=_("Not active for the longest."))


def _segment_count_fields(nullable: bool) -> dict:
    return {
        name: serializers.IntegerField(
            allow_null=nullable, help_text=_("Members in the segment; null: not recorded.")
        )
        for name in ("new", "core", "casual", "dormant", "inactive")
    }


SegmentCountsDayOut = type(
    "SegmentCountsDayOut",
    (serializers.Serializer,),
    {
        "day": serializers.DateField(help_text=_("The day (YYYY-MM-DD).")),
        **_segment_count_fields(True),
    },
)
SegmentCountsNowOut = type(
    "SegmentCountsNowOut", (serializers.Serializer,), _segment_count_fields(False)
)


class SegmentCountsOut(serializers.Serializer):
    today = SegmentCountsNowOut(help_text=_("Members per segment today."))
    series = SegmentCountsDayOut(
        many=True, help_text=_("Members per segment, the last 30 days, oldest first.")
    )


class CohortOut(serializers.Serializer):
    month = serializers.DateField(help_text=_("The join month (its first day)."))
    joined = serializers.IntegerField(help_text=_("Members who joined that month."))
    active_share = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text=_(
            "For the join month and each month since: share of them active, 0..1; null: nobody joined."
        ),
    )


class TopMemberOut(serializers.Serializer):
    user_id = serializers.CharField()
    nickname = serializers.CharField()
    actions = serializers.IntegerField(help_text=_("Actions this month (visits not counted)."))
    active_days = serializers.IntegerField(help_text=_("Days active this month."))


class DashboardOut(serializers.Serializer):
    active = ActiveMembersOut(help_text=_("Active members."))
    joins = WeekJoinsOut(
        many=True, help_text=_("Joins and leaves per week, the last 12 weeks, oldest first.")
    )
    participation = ParticipationOut(
        many=True, help_text=_("Participation of the latest polls, surveys and events.")
    )
    heatmap = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text=_("Seven rows (Monday first) of 24 hourly action counts."),
    )
    segments = SegmentsOut(
        help_text=_("Up to 20 members of each segment (the segments export lists them all).")
    )
    segment_counts = SegmentCountsOut(help_text=_("Members per segment, today and over time."))
    retention = CohortOut(many=True, help_text=_("Cohorts by join month, the last 6 months."))
    top_members = TopMemberOut(many=True, help_text=_("The month's most active members."))


class TopMembersOut(serializers.Serializer):
    hidden = serializers.BooleanField(
        help_text=_("True when fewer members than the community's floor (k) were active: no names.")
    )
    members = TopMemberOut(many=True, help_text=_("Most active first; empty when `hidden`."))


#: What each activity counter counts.
COUNTER_HELP = {
    "visits": _("Visits to the mini-program."),
    "votes": _("Ballots cast."),
    "answers": _("Survey responses submitted."),
    "signups": _("Event sign-ups."),
    "checkins": _("Event check-ins."),
    "tasks_done": _("Tasks done."),
    "comments": _("Comments written."),
    "reports": _("Reports made."),
    "messages": _("Chat messages (imported counts)."),
}


def _counter_fields() -> dict:
    return {c: serializers.IntegerField(help_text=COUNTER_HELP.get(c)) for c in COUNTERS}


TimelineDayOut = type(
    "TimelineDayOut",
    (serializers.Serializer,),
    {"day": serializers.DateField(help_text=_("The day (YYYY-MM-DD).")), **_counter_fields()},
)
TimelinePeriodOut = type(
    "TimelinePeriodOut",
    (serializers.Serializer,),
    {
        "grain": serializers.ChoiceField(
            choices=[("week", _("week")), ("month", _("month"))],
            help_text=_("Length of the rolled-up period."),
        ),
        "starts_on": serializers.DateField(help_text=_("First day of the period (YYYY-MM-DD).")),
        "active_days": serializers.IntegerField(help_text=_("Days active in the period.")),
        **_counter_fields(),
    },
)


class TimelineOut(serializers.Serializer):
    days = TimelineDayOut(
        many=True, help_text=_("Days with activity, the last 90 days, newest first.")
    )
    periods = TimelinePeriodOut(
        many=True, help_text=_("Older activity rolled up into weeks and months, newest first.")
    )


class MessageCountsIn(serializers.Serializer):
    csv = serializers.CharField(
        max_length=2_000_000,
        trim_whitespace=False,
        help_text=_(
            "The CSV text: date, nickname or openid, messages per line (a header optional)."
        ),
    )


class UnmatchedRowOut(serializers.Serializer):
    line = serializers.IntegerField(help_text=_("Line number in the CSV, from 1."))
    member = serializers.CharField()
    reason = serializers.CharField()


class ImportReportOut(serializers.Serializer):
    rows = serializers.IntegerField(help_text=_("Data rows read."))
    applied = serializers.BooleanField(
        help_text=_("False: some rows matched no member; nothing written.")
    )
    messages = serializers.IntegerField(help_text=_("Messages counted in the rows read."))
    unmatched = UnmatchedRowOut(many=True, help_text=_("Rows that matched no single member."))


class CleanupMemberOut(serializers.Serializer):
    membership_id = serializers.CharField()
    user_id = serializers.CharField()
    nickname = serializers.CharField()
    last_active_at = serializers.DateTimeField()
    asked_at = serializers.DateTimeField(help_text=_('When the member was asked "still there?".'))


class CleanupListOut(serializers.Serializer):
    members = CleanupMemberOut(many=True, help_text=_("Longest inactive first."))
    text = serializers.CharField(help_text=_("The list as text, nicknames to remove in WeChat."))


class RemovalIn(serializers.Serializer):
    membership_ids = serializers.ListField(
        child=serializers.CharField(max_length=32),
        min_length=1,
        max_length=200,
        help_text=_("Membership ids to mark removed (1 to 200)."),
    )
    reason = serializers.CharField(max_length=200)


class RemovalOut(serializers.Serializer):
    removed = serializers.ListField(
        child=serializers.CharField(), help_text=_("Membership ids marked removed.")
    )
    skipped = serializers.ListField(
        child=serializers.CharField(), help_text=_("Not on the clean-up list (active meanwhile).")
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


class StillHereOut(serializers.Serializer):
    asked = serializers.BooleanField(
        help_text=_('True: the member was asked "still there?" and has not answered yet.')
    )
    asked_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When they were asked; null when not asked.")
    )
    welcome_back = serializers.BooleanField(
        help_text=_("True: the member came back within the last 7 days after a clean-up.")
    )
