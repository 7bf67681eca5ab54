"""The audit log's event tables: django-pghistory's triggers write one row per change of a
member's tier or status, a role term, a case decision, an appeal, an escalation and the
warning rule, whichever code path makes the change (a service, the admin, a bulk ``update``).

The tables are append-only (pgtrigger's ``Protect`` on UPDATE and DELETE, installed by the
migrations), so a row can be neither edited nor deleted, not even by a superuser's SQL through
the ORM. Who acted and why is the pghistory context (``community.audit.audit_context``);
``AuditEntry`` (``moderation/audit_view.py``) reads every table as one list.

Imported by ``moderation.models``: pghistory creates the models in that module."""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from community.models import Membership
from roles.models import RoleAssignment

_OPTS = {"app_label": "moderation", "abstract": False, "append_only": True}


def _meta() -> dict:
    """Each event table is read by community, newest first (the audit log's view)."""
    return {"indexes": [models.Index(fields=["community", "-pgh_created_at"])]}


MembershipEvent = pghistory.create_event_model(
    Membership,
    pghistory.InsertEvent("joined"),
    pghistory.UpdateEvent("tier_changed", condition=pgtrigger.AnyChange("tier")),
    pghistory.UpdateEvent("status_changed", condition=pgtrigger.AnyChange("status", "muted_until")),
    fields=["community", "user", "tier", "status", "muted_until"],
    model_name="MembershipEvent",
    meta=_meta(),
    **_OPTS,
)

RoleAssignmentEvent = pghistory.create_event_model(
    RoleAssignment,
    pghistory.InsertEvent("role_assigned"),
    pghistory.UpdateEvent("role_ended", condition=pgtrigger.AnyChange("ended_at")),
    fields=[
        "community",
        "role",
        "membership",
        "assigned_by",
        "term_ends_at",
        "ended_at",
        "end_reason",
        "ended_by",
    ],
    model_name="RoleAssignmentEvent",
    meta=_meta(),
    **_OPTS,
)


def _moderation_event_models():
    """Events of the moderation app's own models (defined after them in ``models``)."""
    from moderation.models import Appeal, Case, Escalation, WarningRule

    case = pghistory.create_event_model(
        Case,
        pghistory.UpdateEvent("case_decided", condition=pgtrigger.AnyChange("status")),
        fields=[
            "community",
            "subject",
            "target_kind",
            "target_id",
            "status",
            "decision",
            "reason",
            "mute_until",
            "decided_by",
        ],
        model_name="CaseEvent",
        meta=_meta(),
        **_OPTS,
    )
    appeal = pghistory.create_event_model(
        Appeal,
        pghistory.InsertEvent("appeal_made"),
        pghistory.UpdateEvent("appeal_decided", condition=pgtrigger.AnyChange("status")),
        fields=["community", "case", "member", "text", "status", "reply", "decided_by"],
        model_name="AppealEvent",
        meta=_meta(),
        **_OPTS,
    )
    escalation = pghistory.create_event_model(
        Escalation,
        pghistory.InsertEvent("warnings_escalated"),
        pghistory.UpdateEvent("escalation_lifted", condition=pgtrigger.AnyChange("lifted_at")),
        fields=["community", "member", "warnings", "window_days", "mute_days", "mute_until"],
        model_name="EscalationEvent",
        meta=_meta(),
        **_OPTS,
    )
    rule = pghistory.create_event_model(
        WarningRule,
        pghistory.InsertEvent("rule_set"),
        pghistory.UpdateEvent(
            "rule_changed",
            condition=pgtrigger.AnyChange("enabled", "warnings", "window_days", "mute_days"),
        ),
        fields=["community", "enabled", "warnings", "window_days", "mute_days"],
        model_name="WarningRuleEvent",
        meta=_meta(),
        **_OPTS,
    )
    return case, appeal, escalation, rule


CaseEvent, AppealEvent, EscalationEvent, WarningRuleEvent = _moderation_event_models()


class AuditAction(models.TextChoices):
    """What an audit entry records (the pghistory label of its event)."""

    JOINED = "joined", _("Joined")
    TIER_CHANGED = "tier_changed", _("Tier changed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ROLE_ASSIGNED = "role_assigned", _("Role assigned")
    ROLE_ENDED = "role_ended", _("Role term ended")
    CASE_DECIDED = "case_decided", _("Case decided")
    APPEAL_MADE = "appeal_made", _("Appeal made")
    APPEAL_DECIDED = "appeal_decided", _("Appeal decided")
    WARNINGS_ESCALATED = "warnings_escalated", _("Warnings escalated to a mute")
    ESCALATION_LIFTED = "escalation_lifted", _("Escalation lifted")
    RULE_SET = "rule_set", _("Warning rule set")
    RULE_CHANGED = "rule_changed", _("Warning rule changed")


class AuditEntry(models.Model):
    """One line of the audit log: who (``actor``; empty for the clock or the community's
    rule), to whom (``subject``), what (``action`` and ``details``), why (``reason``), when
    (``at``). A read-only database view over the event tables above
    (``moderation/audit_view.py``), so the admin, the API and the export list one thing; rows
    cannot be written through it."""

    id = models.TextField(primary_key=True)
    community = models.ForeignKey(
        "community.Community",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("community"),
    )
    at = models.DateTimeField(_("when"))
    action = models.CharField(_("what"), max_length=32, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("to whom"),
    )
    reason = models.TextField(_("why"))
    details = models.JSONField(_("details"))

    class Meta:
        managed = False
        db_table = "moderation_auditentry"
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
