"""What members did, per day: the records the dashboards read.

Activity is counted, never described: a member-day row says a member voted twice on a day, not
in which poll nor how (a secret ballot's participation is already public to its poll's
organizers; nothing here adds a link to a choice)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from community.models import Community


class ActivityKind(models.TextChoices):
    """One kind of activity; each has a counter column on :class:`MemberDay`."""

    VISIT = "visit", _("Visit")
    VOTE = "vote", _("Vote")
    ANSWER = "answer", _("Survey answer")
    SIGNUP = "signup", _("Event sign-up")
    CHECKIN = "checkin", _("Check-in")
    TASK_DONE = "task_done", _("Task done")
    COMMENT = "comment", _("Comment")
    REPORT = "report", _("Report")
    MESSAGE = "message", _("Chat message")


#: The counter column of each kind (the same names on MemberDay and MemberPeriod).
KIND_COLUMNS: dict[str, str] = {
    ActivityKind.VISIT: "visits",
    ActivityKind.VOTE: "votes",
    ActivityKind.ANSWER: "answers",
    ActivityKind.SIGNUP: "signups",
    ActivityKind.CHECKIN: "checkins",
    ActivityKind.TASK_DONE: "tasks_done",
    ActivityKind.COMMENT: "comments",
    ActivityKind.REPORT: "reports",
    ActivityKind.MESSAGE: "messages",
}
COUNTERS: tuple[str, ...] = tuple(KIND_COLUMNS.values())


class Counters(models.Model):
    """The per-kind counters a member-day and a rolled-up period share."""

    visits = models.PositiveIntegerField(_("visits"), default=0)
    votes = models.PositiveIntegerField(_("votes"), default=0)
    answers = models.PositiveIntegerField(_("survey answers"), default=0)
    signups = models.PositiveIntegerField(_("event sign-ups"), default=0)
    checkins = models.PositiveIntegerField(_("check-ins"), default=0)
    tasks_done = models.PositiveIntegerField(_("tasks done"), default=0)
    comments = models.PositiveIntegerField(_("comments"), default=0)
    reports = models.PositiveIntegerField(_("reports"), default=0)
    messages = models.PositiveIntegerField(_("chat messages"), default=0)

    class Meta:
        abstract = True


class MemberDay(Counters):
    """One member's activity on one day of their community's calendar (its time zone).

    Written only by ``insights.activity_store`` (upserts that add to the counters), from the
    recording buffer's flush and from chat-count imports. Rows older than the retention period
    are rolled up into :class:`MemberPeriod` weeks and months, totals unchanged."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("member day")
        verbose_name_plural = _("member days")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user", "day"], name="memberday_one_per_member_and_day"
            )
        ]
        indexes = [models.Index(fields=["community", "day"], name="memberday_community_day")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.community_id} {self.day}"


class Grain(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class MemberPeriod(Counters):
    """Member-days rolled up into a week (starting Monday) or a month (starting on the 1st)
    once they are older than the retention period: the dashboards' long-range figures read
    these, and the totals equal those of the days they replace."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    grain = models.CharField(_("grain"), max_length=8, choices=Grain.choices)
    starts_on = models.DateField(_("starts on"))
    active_days = models.PositiveIntegerField(_("active days"), default=0)

    class Meta:
        verbose_name = _("rolled-up member period")
        verbose_name_plural = _("rolled-up member periods")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user", "grain", "starts_on"],
                name="memberperiod_one_per_member_and_period",
            ),
            models.CheckConstraint(
                condition=Q(grain__in=["week", "month"]), name="memberperiod_grain_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "grain", "starts_on"], name="memberperiod_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.community_id} {self.grain} {self.starts_on}"


class HourActivity(models.Model):
    """Actions of a community's members in one local hour of one local day (the weekday x hour
    heatmap). Counted per community, not per member: it says when the group is awake."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    hour = models.PositiveSmallIntegerField(_("hour"))
    actions = models.PositiveIntegerField(_("actions"), default=0)

    class Meta:
        verbose_name = _("hourly activity")
        verbose_name_plural = _("hourly activity")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "day", "hour"], name="houractivity_one_per_hour"
            ),
            models.CheckConstraint(
                condition=Q(hour__gte=0, hour__lte=23), name="houractivity_hour_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day} {self.hour:02d}h"


class InsightsSettings(models.Model):
    """A community's analytics rules: segment thresholds, the inactive-member rule, who sees
    what. Created with its defaults the first time it is read (``insights_settings_for``)."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, primary_key=True, related_name="insights_settings"
    )
    inactive_after_days = models.PositiveIntegerField(_("inactive after (days)"), default=60)
    grace_days = models.PositiveIntegerField(_("grace period (days)"), default=7)
    new_member_days = models.PositiveIntegerField(_("new for (days after joining)"), default=14)
    core_min_days = models.PositiveIntegerField(
        _("core: active days in the last 30 at least"), default=8
    )
    dormant_after_days = models.PositiveIntegerField(
        _("dormant after (days without activity)"), default=14
    )
    member_floor = models.PositiveIntegerField(_("smallest group shown to members (k)"), default=5)
    members_see_top = models.BooleanField(
        _("members see the most active members of the month"), default=False
    )

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")

    def __str__(self) -> str:
        return str(self.community_id)


class ProtectedMember(models.Model):
    """A member the inactive-member rule never lists (a known lurker, a founder abroad)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("protected member")
        verbose_name_plural = _("protected members")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="protectedmember_one_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.community_id}"


class InactiveRound(models.Model):
    """One round of the inactive-member rule for one member: found inactive (``started_at``),
    asked "还在吗?" once (the outbox key names the round), then either cleared by any
    activity (``cleared_at``) or, after the grace period, removed by an admin
    (``removed_at``, ``removed_by``, ``reason``). At most one open round per member."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "community.Membership", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(_("found inactive at"))
    last_active_at = models.DateTimeField(_("last active at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    returned_at = models.DateTimeField(
        _("came back at"),
        null=True,
        blank=True,
        help_text=_("A removed member came back by share card or invite code: welcomed back."),
    )

    class Meta:
        verbose_name = _("inactive-member round")
        verbose_name_plural = _("inactive-member rounds")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "membership"],
                condition=Q(cleared_at__isnull=True, removed_at__isnull=True),
                name="inactiveround_one_open_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.community_id} {self.started_at:%Y-%m-%d}"


class Segment(models.TextChoices):
    """The segments of the dashboard, by the community's thresholds (``InsightsSettings``)."""

    NEW = "new", _("New")
    CORE = "core", _("Core")
    CASUAL = "casual", _("Casual")
    DORMANT = "dormant", _("Dormant")
    INACTIVE = "inactive", _("Inactive")


class CommunityDay(models.Model):
    """One day of a community's headline figures, written by the ``insights-daily`` job
    (``insights.services.summaries``) so the dashboard reads a few rows whatever the size of
    the community: active members of the day (DAU), of the 7 and 30 days ending on it (WAU,
    MAU), members present, and the segment counts and most active members of the month as
    they were when the row was computed (``null`` segment counts: the day was computed after
    it ended, when its segments could no longer be known). Today's row is recomputed at each
    run; a finished day is computed once more after it ends, then kept."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    members = models.PositiveIntegerField(_("members present"), default=0)
    dau = models.PositiveIntegerField(_("active that day"), default=0)
    wau = models.PositiveIntegerField(_("active in the 7 days"), default=0)
    mau = models.PositiveIntegerField(_("active in the 30 days"), default=0)
    new = models.PositiveIntegerField(_("new"), null=True, blank=True)
    core = models.PositiveIntegerField(_("core"), null=True, blank=True)
    casual = models.PositiveIntegerField(_("casual"), null=True, blank=True)
    dormant = models.PositiveIntegerField(_("dormant"), null=True, blank=True)
    inactive = models.PositiveIntegerField(_("inactive"), null=True, blank=True)
    top_members = models.JSONField(_("most active of the month"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("community day")
        verbose_name_plural = _("community days")
        constraints = [
            models.UniqueConstraint(fields=["community", "day"], name="communityday_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day}"


class MemberSummary(models.Model):
    """A present member's segment as of the last ``insights-daily`` run, with the figures it
    follows from: the dashboard's members per segment and the segment export read these rows
    (an index per segment) instead of classifying every member on each request."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "community.Membership", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    segment = models.CharField(_("segment"), max_length=10, choices=Segment.choices)
    active_days_30 = models.PositiveIntegerField(_("active days (30)"), default=0)
    last_active_on = models.DateField(_("last active on"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("member segment")
        verbose_name_plural = _("member segments")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="membersummary_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(segment__in=["new", "core", "casual", "dormant", "inactive"]),
                name="membersummary_segment_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["community", "segment", "last_active_on"], name="membersummary_segment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.community_id} {self.segment}"


class CohortMonth(models.Model):
    """Retention by join month, written by the ``insights-daily`` job: of the members who
    joined in ``cohort`` (its first day), how many were active in ``month``. The running
    month is recomputed at each run, a finished month once more, then kept."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    cohort = models.DateField(_("join month"))
    month = models.DateField(_("month"))
    joined = models.PositiveIntegerField(_("joined"), default=0)
    active = models.PositiveIntegerField(_("active"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("cohort month")
        verbose_name_plural = _("cohort months")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "cohort", "month"], name="cohortmonth_one_per_month"
            ),
            models.CheckConstraint(condition=Q(month__gte=F("cohort")), name="cohortmonth_after"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.cohort} {self.month}"
