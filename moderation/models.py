"""Moderation: member reports merged into cases, the decisions taken on them, and content
held back from members (hidden after a report or a "review" verdict of WeChat's check).

Why its own app: reports, cases, decisions, holds, warnings, appeals and the audit log are
a whole subsystem with its own tables, API and admin; ``community/`` keeps the core (members,
tiers, mute/ban as membership states) and moderation calls its services."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.exports import ExportBase, export_storage
from community.ids import OpaqueCharField, PublicIdField
from community.models import Community


class TargetKind(models.TextChoices):
    """What a report or a case is about: a member or a piece of member-published content."""

    MEMBER = "member", _("Member")
    POLL = "poll", _("Poll")
    EVENT = "event", _("Event")
    TASK_COMMENT = "task_comment", _("Task comment")
    # Held back by WeChat's check only (screening): parts of a shown object, or a change of it.
    POLL_OPTION = "poll_option", _("Poll option")
    BALLOT_REASON = "ballot_reason", _("Reason of a ballot")
    REGISTRATION_NOTE = "registration_note", _("Sign-up note")
    ROLE = "role", _("Role")
    NICKNAME = "nickname", _("Nickname change")
    COMMUNITY_TEXTS = "community_texts", _("Change of community texts")
    EVENT_TEXTS = "event_texts", _("Change of event texts")
    ROLE_TEXTS = "role_texts", _("Change of role texts")
    ANNOUNCEMENT = "announcement", _("Announcement")


class ReportReason(models.TextChoices):
    AD = "ad", _("Advertising")
    HARASSMENT = "harassment", _("Harassment")
    OFF_TOPIC = "off_topic", _("Off-topic")
    SPAM = "spam", _("Spam")
    OTHER = "other", _("Other")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decided")


class Decision(models.TextChoices):
    HIDE = "hide", _("Hide the content")
    RESTORE = "restore", _("Restore the content")
    WARN = "warn", _("Warn the member")
    MUTE = "mute", _("Mute the member for a time")
    BAN = "ban", _("Ban the member")
    DISMISS = "dismiss", _("Dismiss")


class Case(models.Model):
    """Everything reported about one target while it is open: every report of the same thing
    joins the open case (at most one open case per target, a partial unique constraint), so
    moderators decide once and every reporter learns the outcome."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="cases")
    target_kind = models.CharField(_("target kind"), max_length=20, choices=TargetKind.choices)
    target_id = OpaqueCharField(_("target id"), max_length=16)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="moderation_cases",
        verbose_name=_("member concerned"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    mute_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_tier = models.CharField(
        _("tier of the decider"),
        max_length=16,
        blank=True,
        help_text=_("The decider's tier when deciding: an appeal goes to this tier or above."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("moderation case")
        verbose_name_plural = _("moderation cases")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "target_kind", "target_id"],
                condition=Q(status="open"),
                name="case_one_open_per_target",
            ),
            models.CheckConstraint(
                condition=Q(status="open", decision="") | ~Q(status="open") & ~Q(decision=""),
                name="case_decided_has_decision",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.target_kind} {self.target_id} ({self.status})"


class Report(models.Model):
    """One member's report; a member reports the same case once (a second report is the
    same report, idempotent)."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    reason = models.CharField(_("reason"), max_length=12, choices=ReportReason.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "case", "reporter"], name="report_one_per_member_and_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason} → {self.case_id}"


class ContentHold(models.Model):
    """A piece of content members do not see: hidden by a moderator, or waiting for a
    moderator because WeChat's check said "review" or could not be reached. The row's
    existence is the rule (one per target); restoring deletes it."""

    class Why(models.TextChoices):
        HIDDEN = "hidden", _("Hidden by a moderator")
        REVIEW = "review", _("WeChat asked for a review")
        UNCHECKED = "unchecked", _("WeChat could not be reached")
        RISKY = "risky", _("WeChat judged it risky on a re-check")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    target_kind = models.CharField(_("target kind"), max_length=20, choices=TargetKind.choices)
    target_id = OpaqueCharField(_("target id"), max_length=16)
    why = models.CharField(_("why"), max_length=10, choices=Why.choices)
    #: A held *change* of an object members already see (nickname, community, role or event
    #: texts): the new texts, applied when the hold is released; the old ones stay shown.
    pending = models.JSONField(_("held change"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    #: When WeChat's check was last tried again on an unchecked hold (the re-check job).
    rechecked_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("held content")
        verbose_name_plural = _("held content")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "target_kind", "target_id"], name="hold_one_per_target"
            )
        ]
        indexes = [  # the re-check job's batch: unchecked holds, least recently tried first
            models.Index(
                fields=["rechecked_at", "created_at"],
                condition=Q(why="unchecked"),
                name="hold_unchecked_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_kind} {self.target_id} ({self.why})"


#: The rule a community has until its admins change it: three warnings within 30 days mute
#: the member for 7 days.
DEFAULT_WARNINGS = 3
DEFAULT_WINDOW_DAYS = 30
DEFAULT_MUTE_DAYS = 7


class WarningRule(models.Model):
    """How warnings escalate in one community: ``warnings`` warnings within ``window_days``
    days mute the member for ``mute_days`` days. A community without a row follows the
    defaults (``warning_rule_of`` in the selectors); the rule is stated in a translated
    sentence next to the group rules."""

    community = models.OneToOneField(
        Community,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="warning_rule",
        verbose_name=_("community"),
    )
    enabled = models.BooleanField(_("warnings escalate"), default=True)
    warnings = models.PositiveSmallIntegerField(
        _("number of warnings"),
        default=DEFAULT_WARNINGS,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    window_days = models.PositiveSmallIntegerField(
        _("within days"),
        default=DEFAULT_WINDOW_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    mute_days = models.PositiveSmallIntegerField(
        _("mute for days"),
        default=DEFAULT_MUTE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("warning rule")
        verbose_name_plural = _("warning rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(warnings__gte=1, warnings__lte=20)
                & Q(window_days__gte=1, window_days__lte=365)
                & Q(mute_days__gte=1, mute_days__lte=365),
                name="warning_rule_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.warnings}/{self.window_days}d -> {self.mute_days}d"


class Escalation(models.Model):
    """The community's rule crossed: the warnings that crossed it (``MemberWarning.escalation``)
    muted the member for ``mute_days``. Each warning counts towards one escalation at most,
    and the warning that crossed the threshold names its escalation once (unique), so a
    crossing mutes exactly once. ``lifted_at``: an appeal overturned one of its warnings."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("member"),
    )
    crossing_warning = models.ForeignKey(
        "MemberWarning",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("warning that crossed the threshold"),
    )
    warnings = models.PositiveSmallIntegerField(_("number of warnings"))
    window_days = models.PositiveSmallIntegerField(_("within days"))
    mute_days = models.PositiveSmallIntegerField(_("mute for days"))
    mute_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "crossing_warning"], name="escalation_once_per_crossing"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} ({self.created_at:%Y-%m-%d})"


class MemberWarning(models.Model):
    """A warning given to a member by a moderator's ``warn`` decision on a case (one per
    case). It counts towards the community's rule while it is in the rule's window, not yet
    part of an escalation and not withdrawn (an appeal overturned it)."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("member"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="warnings", verbose_name=_("case")
    )
    reason = models.TextField(_("reason"))
    escalation = models.ForeignKey(
        Escalation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="counted_warnings",
        verbose_name=_("escalation"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    created_at = models.DateTimeField(_("given at"), default=timezone.now)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        constraints = [
            models.UniqueConstraint(fields=["community", "case"], name="warning_one_per_case")
        ]
        indexes = [models.Index(fields=["community", "member", "created_at"])]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.reason[:30]}"


class AppealStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a decision")
    UPHELD = "upheld", _("Upheld: the decision stands")
    OVERTURNED = "overturned", _("Overturned: the decision is undone")


class Appeal(models.Model):
    """A member's appeal against a decision about them, once per case (a unique constraint).
    It waits in the queue until someone other than the first decider, of the same tier or a
    higher one, upholds or overturns the decision (``appeal_decide``)."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="appeals", verbose_name=_("case")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("member"),
    )
    text = models.TextField(_("appeal"))
    status = models.CharField(
        _("status"), max_length=12, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    reply = models.TextField(_("reply"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.UniqueConstraint(fields=["community", "case"], name="appeal_one_per_case"),
        ]
        indexes = [models.Index(fields=["community", "status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} ({self.status})"


from moderation.audit_models import (  # noqa: E402  (pghistory builds them from the models above)
    AppealEvent,
    AuditAction,
    AuditEntry,
    CaseEvent,
    EscalationEvent,
    MembershipEvent,
    RoleAssignmentEvent,
    WarningRuleEvent,
)

__all__ = [
    "Appeal",
    "AppealEvent",
    "AppealStatus",
    "AuditAction",
    "AuditEntry",
    "AuditExport",
    "Case",
    "CaseEvent",
    "CaseStatus",
    "ContentHold",
    "Decision",
    "Escalation",
    "EscalationEvent",
    "MemberWarning",
    "MembershipEvent",
    "Report",
    "ReportReason",
    "RoleAssignmentEvent",
    "TargetKind",
    "WarningRule",
    "WarningRuleEvent",
]


class AuditExport(ExportBase):
    """A CSV (or XLSX) file of a community's audit log, written by a Celery task through the
    export machinery every kind shares (``community.exports``: bounded memory, leases, a
    private storage, the sweep). The admin tiers request and download it."""

    task_name = "moderation.tasks.run_audit_export"

    id = PublicIdField()
    file = models.FileField(
        _("file"), upload_to="audit-exports/", storage=export_storage, blank=True
    )

    class Meta:
        verbose_name = _("audit log export")
        verbose_name_plural = _("audit log exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="audit_export_sweep_idx")]

    def __str__(self) -> str:
        return f"{self.community_id} {self.format} {self.status}"
