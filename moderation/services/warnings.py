"""Warnings and the community's rule that escalates them to a mute.

A ``warn`` decision gives the member a warning (``MemberWarning``, one per case). In the same
transaction, with the member's row locked, the warnings that count (in the rule's window, not
yet part of an escalation, not withdrawn) are counted; when they reach the rule's number the
member is muted for the rule's days and those warnings join one ``Escalation``. The row lock
serialises every warning of one member, so parallel warnings cross a threshold exactly once;
``escalation_once_per_crossing`` backs it in the database."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.audit import audit_context
from community.authz import Action, ensure
from community.errors import DomainError
from community.locking import lock_rows
from community.models import Membership
from community.services.communities import membership_mute_by_rule, membership_unmute_by_rule
from moderation.models import Case, Escalation, MemberWarning, WarningRule
from moderation.selectors import warning_rule_of

RULE_FIELDS = ("enabled", "warnings", "window_days", "mute_days")
_LIMITS = {"warnings": (1, 20), "window_days": (1, 365), "mute_days": (1, 365)}


def warning_give(*, case: Case, target: Membership, reason: str) -> MemberWarning:
    """Record the warning of a ``warn`` decision and apply the community's rule. Call inside
    the decision's transaction with ``target`` (the member warned) locked by ``lock_rows``."""
    now = timezone.now()
    warning = MemberWarning.objects.create(
        community_id=case.community_id,
        member_id=case.subject_id,
        case=case,
        reason=reason,
        created_at=now,
    )
    rule = warning_rule_of(community_id=case.community_id)
    if not rule.enabled:
        return warning
    counting = MemberWarning.objects.filter(
        community_id=case.community_id,
        member_id=case.subject_id,
        escalation__isnull=True,
        withdrawn_at__isnull=True,
        created_at__gt=now - timedelta(days=rule.window_days),
    )
    ids = list(counting.values_list("pk", flat=True))
    if len(ids) < rule.warnings:
        return warning
    until = now + timedelta(days=rule.mute_days)
    membership_mute_by_rule(target=target, until=until)
    escalation = Escalation.objects.create(
        community_id=case.community_id,
        member_id=case.subject_id,
        crossing_warning=warning,
        warnings=len(ids),
        window_days=rule.window_days,
        mute_days=rule.mute_days,
        mute_until=target.muted_until,
        created_at=now,
    )
    MemberWarning.objects.filter(pk__in=ids).update(escalation=escalation)
    warning.escalation = escalation
    return warning


def warning_withdraw(*, warning: MemberWarning, target: Membership) -> None:
    """An appeal overturned the warning: it no longer counts. If it was part of an escalation
    the escalation is lifted (its mute ends now if it is still the one in force) and its other
    warnings count again. Call inside a transaction with ``target`` locked."""
    now = timezone.now()
    warning.withdrawn_at = now
    warning.save(update_fields=["withdrawn_at"])
    escalation = warning.escalation
    if escalation is None or escalation.lifted_at is not None:
        return
    membership_unmute_by_rule(target=target, until=escalation.mute_until)
    escalation.lifted_at = now
    escalation.save(update_fields=["lifted_at"])
    MemberWarning.objects.filter(escalation=escalation).exclude(pk=warning.pk).update(
        escalation=None
    )


@transaction.atomic
def warning_rule_update(*, actor: Membership, **fields) -> WarningRule:
    """Change the community's warning rule (the admin tiers): ``enabled``, ``warnings``,
    ``window_days``, ``mute_days``. It applies to the next warning; escalations made stay.
    400 ``value_out_of_range``."""
    ensure(actor, Action.MANAGE)
    for name, value in fields.items():
        if name not in RULE_FIELDS:
            raise DomainError(_("This field cannot be changed."), field=name)
        low_high = _LIMITS.get(name)
        if low_high and not low_high[0] <= int(value) <= low_high[1]:
            raise DomainError(
                _("Give a number from %(low)d to %(high)d.")
                % {"low": low_high[0], "high": low_high[1]},
                code="value_out_of_range",
                field=name,
            )
    with audit_context(actor=actor):
        rule, _created = WarningRule.objects.get_or_create(community_id=actor.community_id)
        rule = lock_rows(WarningRule.objects.filter(pk=rule.pk)).get()
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.updated_at = timezone.now()
        rule.save()
    return rule
