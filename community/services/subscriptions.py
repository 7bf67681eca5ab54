"""Subscribe-message consent: record what a member accepted, spend one credit per message."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from community.errors import DomainError
from community.models import SubscriptionCredit, SubscriptionDecision, User
from community.subscriptions import configured_templates


def subscription_record(*, user: User, results: dict[str, str]) -> dict[str, SubscriptionCredit]:
    """Record the answers of ``wx.requestSubscribeMessage`` (template id -> ``accept``,
    ``reject``, ``ban`` or ``filter``): each accept allows one more message of that template,
    ``ban`` (the member turned the template off) clears what was allowed. Only configured
    templates are accepted. Returns the member's credit rows by template id."""
    known = {t.template_id for t in configured_templates().values()}
    unknown = sorted(set(results) - known)
    if unknown:
        raise DomainError(
            _("Unknown subscribe-message template: %(ids)s.") % {"ids": ", ".join(unknown)},
            code="unknown_template",
            field="results",
        )
    now = timezone.now()
    with transaction.atomic():
        for template_id in sorted(results):  # one lock order for everyone
            decision = SubscriptionDecision(results[template_id])
            _ensure_row(user=user, template_id=template_id)
            rows = SubscriptionCredit.objects.filter(user=user, template_id=template_id)
            if decision == SubscriptionDecision.ACCEPT:
                rows.update(credits=F("credits") + 1, last_decision=decision, decided_at=now)
            elif decision == SubscriptionDecision.BAN:
                rows.update(credits=0, last_decision=decision, decided_at=now)
            else:
                rows.update(last_decision=decision, decided_at=now)
    return subscription_credits(user=user)


def _ensure_row(*, user: User, template_id: str) -> None:
    try:
        with transaction.atomic():
            SubscriptionCredit.objects.get_or_create(user=user, template_id=template_id)
    except IntegrityError:  # a parallel request created it first
        pass


def subscription_credits(*, user: User) -> dict[str, SubscriptionCredit]:
    """The member's credit rows by template id (a read, next to the service that writes them)."""
    return {row.template_id: row for row in SubscriptionCredit.objects.filter(user=user)}


def subscription_credit_consume(*, user_id: int, template_id: str) -> bool:
    """Take one credit of ``template_id`` from the member for a message about to be sent, in
    one guarded statement (never below zero, whatever runs in parallel). False: none left,
    the message must not be sent."""
    return bool(
        SubscriptionCredit.objects.filter(
            user_id=user_id, template_id=template_id, credits__gt=0
        ).update(credits=F("credits") - 1)
    )


def subscription_credit_refund(*, user_id: int, template_id: str) -> bool:
    """Give back one credit of ``template_id`` taken for a message WeChat did not deliver. Not
    after the member turned the template off (``ban`` cleared what was allowed). The caller
    makes it happen once per message (``notification_refund_credit``)."""
    return bool(
        SubscriptionCredit.objects.filter(user_id=user_id, template_id=template_id)
        .exclude(last_decision=SubscriptionDecision.BAN)
        .update(credits=F("credits") + 1)
    )


def subscription_credits_clear(*, user_id: int, template_id: str) -> int:
    """WeChat refused a message of ``template_id`` (43101: the member has no subscription for
    it): the credits counted for it are stale, so they go to zero until the member accepts
    again. The member's last decision is kept (they did not turn the template off)."""
    return SubscriptionCredit.objects.filter(
        user_id=user_id, template_id=template_id, credits__gt=0
    ).update(credits=0)
