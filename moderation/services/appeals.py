"""Appeals: a member asks, once per case, to review a decision about them.

Who decides an appeal (the rule, stated in the API and the README): someone of the moderator
tiers other than the moderator who decided the case, whose tier is the same as or higher than
that moderator's tier when they decided (``Case.decided_tier``). The owner's own decisions go
back to the owner, since nobody ranks above them. Upholding keeps the decision; overturning
undoes it: hidden content is shown again, a warning is withdrawn (it no longer counts, and an
escalation it was part of is lifted), a mute from the case ends if it is still in force. The
member is told the outcome once through the outbox, never who decided."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.audit import audit_context
from community.authz import Action, ensure
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.locking import lock_rows
from community.models import Membership, Tier
from community.models.communities import TIER_RANK
from community.services.communities import membership_unmute_by_rule
from community.services.notifications import notification_enqueue_many
from community.text import member_text
from moderation.models import Appeal, AppealStatus, Case, CaseStatus, Decision, MemberWarning
from moderation.selectors import SANCTIONS
from moderation.services.holds import content_release
from moderation.services.warnings import warning_withdraw

#: Outbox kind of the message telling a member what became of their appeal.
APPEAL_OUTCOME = "appeal_outcome"
APPEAL_DECISIONS = ("uphold", "overturn")


def appeal_create(*, actor: Membership, case_id: str, text: str) -> Appeal:
    """Appeal a decision about me (hidden content, a warning, a mute), once per case: muted
    members may appeal. 404 ``case_not_found`` (not a sanction of mine); 409 ``appeal_exists``."""
    ensure(actor, Action.VIEW)
    text = member_text(text, field="text", multiline=True, max_length=1000)
    case = Case.objects.filter(
        community_id=actor.community_id,
        pk=case_id,
        subject_id=actor.user_id,
        status=CaseStatus.DECIDED,
        decision__in=SANCTIONS,
    ).first()
    if case is None:
        raise NotFound(_("Case not found."), code="case_not_found")
    try:
        with audit_context(actor=actor), transaction.atomic():
            return Appeal.objects.create(
                community_id=actor.community_id, case=case, member_id=actor.user_id, text=text
            )
    except IntegrityError:
        raise Conflict(
            _("You have already appealed this decision."), code="appeal_exists"
        ) from None


def _may_decide(actor: Membership, case: Case) -> None:
    decided_rank = TIER_RANK.get(case.decided_tier or Tier.MODERATOR, TIER_RANK[Tier.MODERATOR])
    needed = max(decided_rank, TIER_RANK[Tier.MODERATOR])
    if actor.user_id == case.subject_id:
        raise Forbidden(_("You cannot do this to yourself."), code="self_action")
    owner_again = case.decided_tier == Tier.OWNER and actor.tier == Tier.OWNER
    if actor.tier_rank < needed or (actor.user_id == case.decided_by_id and not owner_again):
        raise Forbidden(
            _(
                "An appeal is decided by another moderator of the same tier as the one who "
                "decided the case, or a higher one."
            ),
            code="appeal_needs_another_moderator",
        )


def appeal_decide(*, actor: Membership, case_id: str, decision: str, reason: str) -> Appeal:
    """Uphold or overturn the decision appealed (see the module docstring for who may).
    404 ``appeal_not_found``; 409 ``appeal_decided``; 403 ``appeal_needs_another_moderator``."""
    ensure(actor, Action.MODERATE_CONTENT)
    reason = member_text(reason, field="reason", multiline=True, max_length=1000)
    if decision not in APPEAL_DECISIONS:
        raise DomainError(_("Uphold or overturn."), field="decision")
    with audit_context(actor=actor, reason=reason), transaction.atomic():
        appeal = (
            lock_rows(Appeal.objects.filter(community_id=actor.community_id, case_id=case_id))
            .select_related("case")
            .first()
        )
        if appeal is None:
            raise NotFound(_("Appeal not found."), code="appeal_not_found")
        if appeal.status != AppealStatus.OPEN:
            raise Conflict(_("This appeal has already been decided."), code="appeal_decided")
        case = appeal.case
        _may_decide(actor, case)
        if decision == "overturn":
            _undo(case)
        appeal.status = AppealStatus.UPHELD if decision == "uphold" else AppealStatus.OVERTURNED
        appeal.reply = reason
        appeal.decided_by_id = actor.user_id
        appeal.decided_at = timezone.now()
        appeal.save()
        notification_enqueue_many(
            community_id=appeal.community_id,
            recipient_ids=[appeal.member_id],
            kind=APPEAL_OUTCOME,
            object_key=appeal.pk,
            data={"outcome": str(AppealStatus(appeal.status).label), "reason": reason},
            page=f"pages/moderation/sanctions?case={case.pk}",
        )
    return appeal


def _undo(case: Case) -> None:
    """Undo the decision of ``case`` (an overturned appeal)."""
    if case.decision == Decision.HIDE:
        content_release(
            community_id=case.community_id, target_kind=case.target_kind, target_id=case.target_id
        )
        return
    target = lock_rows(
        Membership.objects.filter(community_id=case.community_id, user_id=case.subject_id)
    ).first()
    if target is None:
        return
    if case.decision == Decision.WARN:
        warning = (
            MemberWarning.objects.filter(community_id=case.community_id, case=case)
            .select_related("escalation")
            .first()
        )
        if warning is not None:
            warning_withdraw(warning=warning, target=target)
    elif case.decision == Decision.MUTE:
        membership_unmute_by_rule(target=target, until=case.mute_until)
