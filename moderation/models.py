"""Moderation: member reports merged into cases, the decisions taken on them, and content
held back from members (hidden after a report or a "review" verdict of WeChat's check).

Why its own app: reports, cases, decisions, holds and (later) warnings and the audit log are
a whole subsystem with its own tables, API and admin; ``community/`` keeps the core (members,
tiers, mute/ban as membership states) and moderation calls its services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import OpaqueCharField, PublicIdField
from community.models import Community


class TargetKind(models.TextChoices):
    """What a report or a case is about: a member or a piece of member-published content."""

    MEMBER = "member", _("Member")
    POLL = "poll", _("Poll")
    EVENT = "event", _("Event")
    TASK_COMMENT = "task_comment", _("Task comment")
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

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    target_kind = models.CharField(_("target kind"), max_length=20, choices=TargetKind.choices)
    target_id = OpaqueCharField(_("target id"), max_length=16)
    why = models.CharField(_("why"), max_length=10, choices=Why.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("held content")
        verbose_name_plural = _("held content")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "target_kind", "target_id"], name="hold_one_per_target"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_kind} {self.target_id} ({self.why})"
