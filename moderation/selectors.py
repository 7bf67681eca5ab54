"""Reads of the moderation app."""

from __future__ import annotations

from django.db.models import CharField, Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from community.models import Membership
from moderation.models import (
    Appeal,
    AuditEntry,
    Case,
    CaseStatus,
    Decision,
    MemberWarning,
    Report,
    WarningRule,
)

#: Decisions about a member that they see among their sanctions and may appeal.
SANCTIONS = (Decision.HIDE, Decision.WARN, Decision.MUTE)


def _appeal_status() -> Subquery:
    return Subquery(
        Appeal.objects.filter(community_id=OuterRef("community_id"), case_id=OuterRef("pk")).values(
            "status"
        )[:1]
    )


def case_list(
    *, actor: Membership, status: str | None, appeal: str | None = None
) -> QuerySet[Case]:
    """The community's cases, newest first, with the number of reports and the status of
    their appeal (empty: none), in one query. ``appeal="open"`` is the appeals waiting."""
    qs = Case.objects.filter(community_id=actor.community_id).annotate(
        report_count=Count("reports"), appeal_status=_appeal_status()
    )
    if status:
        qs = qs.filter(status=status)
    if appeal:
        qs = qs.filter(appeals__status=appeal)
    return qs.order_by("-created_at", "-id")


def case_community(*, case_id: str) -> str | None:
    return Case.objects.filter(pk=case_id).values_list("community_id", flat=True).first()


def report_list_mine(*, actor: Membership) -> QuerySet[Report]:
    """My reports with their case's outcome (no moderator name)."""
    return (
        Report.objects.filter(community_id=actor.community_id, reporter_id=actor.user_id)
        .select_related("case")
        .order_by("-created_at", "-id")
    )


def without_held(qs: QuerySet, *, community_id: str, target_kind: str) -> QuerySet:
    """``qs`` without the objects held back from members (one anti-join in the same query)."""
    from moderation.models import ContentHold

    held = ContentHold.objects.filter(community_id=community_id, target_kind=target_kind).values(
        "target_id"
    )
    return qs.exclude(pk__in=held)


def warning_rule_of(*, community_id: str) -> WarningRule:
    """The community's warning rule; the defaults (an unsaved row) when it has none."""
    rule = WarningRule.objects.filter(community_id=community_id).first()
    return rule if rule is not None else WarningRule(community_id=community_id)


def warning_rule_text(rule: WarningRule) -> str:
    """The rule in one translated sentence, shown with the group rules."""
    if not rule.enabled:
        return _("Warnings do not lead to a mute by themselves in this community.")
    return _(
        "%(warnings)d warnings within %(window_days)d days mute a member for %(mute_days)d days."
    ) % {"warnings": rule.warnings, "window_days": rule.window_days, "mute_days": rule.mute_days}


def sanction_list_mine(*, actor: Membership) -> QuerySet[Case]:
    """Decisions about me that sanction me (hidden content, warnings, mutes), newest first,
    with the warning and its escalation and my appeal: one query, the decider never named."""
    return (
        Case.objects.filter(
            community_id=actor.community_id,
            subject_id=actor.user_id,
            status=CaseStatus.DECIDED,
            decision__in=SANCTIONS,
        )
        .annotate(appeal_status=_appeal_status())
        .prefetch_related(
            Prefetch("warnings", queryset=MemberWarning.objects.select_related("escalation"))
        )
        .order_by("-decided_at", "-id")
    )


def audit_list(*, actor: Membership, action: str | None = None) -> QuerySet[AuditEntry]:
    """The community's audit log, newest first (the admin tiers)."""
    qs = AuditEntry.objects.filter(community_id=actor.community_id)
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-at", "-id")


def held_exists(target_kind: str, ref: str = "pk", *, numeric: bool = False) -> Exists:
    """``EXISTS`` of a hold on the outer row (``ref`` names its id; ``numeric`` for integer
    ids, compared as text), for an annotation."""
    from moderation.models import ContentHold

    target = Cast(OuterRef(ref), CharField()) if numeric else OuterRef(ref)
    return Exists(
        ContentHold.objects.filter(
            community_id=OuterRef("community_id"), target_kind=target_kind, target_id=target
        )
    )
