"""Reports merge into one open case per target; a moderator decides the case once, with a
reason, and every reporter learns the outcome through the outbox (without the moderator's
name)."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.audit import audit_context
from community.authz import Action, ensure, require_over
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.locking import lock_rows
from community.models import Membership, Tier
from community.services.communities import membership_ban, membership_mute
from community.services.notifications import notification_enqueue_many
from community.text import member_text
from insights.recording import activity_record
from moderation.models import Case, CaseStatus, ContentHold, Decision, Report, TargetKind
from moderation.services.holds import content_hold, content_release
from moderation.services.warnings import warning_give
from moderation.targets import target_subject

#: Outbox kind of the message telling a reporter what became of their report.
REPORT_OUTCOME = "report_outcome"
MAX_MUTE_DAYS = 365
CONTENT_DECISIONS = {Decision.HIDE, Decision.RESTORE}
MEMBER_DECISIONS = {Decision.MUTE, Decision.BAN}


def report_create(
    *, actor: Membership, target_kind: str, target_id: str, reason: str, note: str = ""
) -> Report:
    """Report a piece of content or a member. Every member who sees the community may report
    (muted members too: being muted is no reason to suffer harassment in silence). Reports of
    the same target join its open case; reporting the same case twice returns the first
    report. 404 ``target_not_found``; 400 ``self_report``."""
    ensure(actor, Action.VIEW)
    note = member_text(note, field="note", multiline=True, blank=True, max_length=1000)
    subject_id = target_subject(
        community_id=actor.community_id, target_kind=target_kind, target_id=target_id
    )
    if subject_id == actor.user_id:
        raise DomainError(_("You cannot report yourself."), code="self_report", field="target_id")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                case, _created = Case.objects.get_or_create(
                    community_id=actor.community_id,
                    target_kind=target_kind,
                    target_id=target_id,
                    status=CaseStatus.OPEN,
                    defaults={"subject_id": subject_id},
                )
                report, _created = Report.objects.get_or_create(
                    community_id=actor.community_id,
                    case=case,
                    reporter_id=actor.user_id,
                    defaults={"reason": reason, "note": note},
                )
                if _created:
                    activity_record(
                        community_id=actor.community_id, user_id=actor.user_id, kind="report"
                    )
            return report
        except IntegrityError:
            continue  # a parallel report opened the case (or the same report) first: join it
    raise Conflict(_("Please try again."), code="retry")


def case_decide(
    *,
    actor: Membership,
    case_id: str,
    decision: str,
    reason: str,
    mute_days: int | None = None,
) -> Case:
    """Decide an open case (see :func:`_decide`); the audit log records the decider and the
    reason with every change it makes."""
    with audit_context(actor=actor, reason=reason), transaction.atomic():
        return _decide(
            actor=actor, case_id=case_id, decision=decision, reason=reason, mute_days=mute_days
        )


def _decide(
    *,
    actor: Membership,
    case_id: str,
    decision: str,
    reason: str,
    mute_days: int | None,
) -> Case:
    """Decide an open case, once: hide or restore the content, warn the member, mute them for
    ``mute_days`` (the mute ends by itself), ban them, or dismiss. The moderator tiers and
    holders of the moderate-content capability decide; mute and ban also need the tier over
    the member (the community's own rule), and so does warning a member of the moderator
    tiers (a role holder cannot sanction the staff). A warning may escalate to a mute by the
    community's rule, in this transaction (``warning_give``). Every reporter is told the
    outcome once.
    404 ``case_not_found``; 409 ``case_decided``; 400 ``decision_not_applicable``,
    ``mute_days_required``."""
    ensure(actor, Action.MODERATE_CONTENT)
    reason = member_text(reason, field="reason", multiline=True, max_length=1000)
    rows = list(lock_rows(Case.objects.filter(community_id=actor.community_id, pk=case_id)))
    if not rows:
        raise NotFound(_("Case not found."), code="case_not_found")
    case = rows[0]
    if case.status != CaseStatus.OPEN:
        raise Conflict(_("This case has already been decided."), code="case_decided")
    is_member = case.target_kind == TargetKind.MEMBER
    if decision in CONTENT_DECISIONS and is_member:
        raise DomainError(
            _("This decision applies to content, not to a member."),
            code="decision_not_applicable",
            field="decision",
        )
    if decision == Decision.MUTE:
        if not mute_days or not 1 <= mute_days <= MAX_MUTE_DAYS:
            raise DomainError(
                _("Give the length of the mute in days (1 to %(n)d).") % {"n": MAX_MUTE_DAYS},
                code="mute_days_required",
                field="mute_days",
            )
        case.mute_until = timezone.now() + timedelta(days=mute_days)
    if decision in MEMBER_DECISIONS:
        target = Membership.objects.filter(
            community_id=actor.community_id, user_id=case.subject_id
        ).first()
        if target is None:
            raise NotFound(_("Member not found."))
        if target.pk == actor.pk:
            raise Forbidden(_("You cannot do this to yourself."), code="self_action")
        if decision == Decision.MUTE:
            membership_mute(actor=actor, target_id=target.pk, until=case.mute_until)
        else:
            membership_ban(actor=actor, target_id=target.pk)
    elif decision == Decision.WARN:
        target = lock_rows(
            Membership.objects.select_related("community").filter(
                community_id=actor.community_id, user_id=case.subject_id
            )
        ).first()
        if target is None:
            raise NotFound(_("Member not found."))
        if target.pk == actor.pk:
            raise Forbidden(_("You cannot do this to yourself."), code="self_action")
        if target.tier != Tier.MEMBER:
            require_over(actor, target, Action.MODERATE_CONTENT)
        warning_give(case=case, target=target, reason=reason)
    elif decision == Decision.HIDE:
        content_hold(
            community_id=case.community_id,
            target_kind=case.target_kind,
            target_id=case.target_id,
            why=ContentHold.Why.HIDDEN,
        )
    elif decision == Decision.RESTORE:
        content_release(
            community_id=case.community_id,
            target_kind=case.target_kind,
            target_id=case.target_id,
        )
    case.status = CaseStatus.DECIDED
    case.decision = decision
    case.reason = reason
    case.decided_by_id = actor.user_id
    case.decided_at = timezone.now()
    case.decided_tier = actor.tier
    case.save()
    reporters = case.reports.values_list("reporter_id", flat=True)
    notification_enqueue_many(
        community_id=case.community_id,
        recipient_ids=list(reporters),
        kind=REPORT_OUTCOME,
        object_key=case.pk,
        data={"decision": str(Decision(decision).label), "reason": reason},
        page=f"pages/moderation/report?case={case.pk}",
    )
    return case
