"""Consent to subscribe messages, as given in the mini-program."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SubscriptionDecision(models.TextChoices):
    """The answers of ``wx.requestSubscribeMessage`` for one template."""

    ACCEPT = "accept", _("Accepted")
    REJECT = "reject", _("Refused")
    BAN = "ban", _("Turned off")
    FILTER = "filter", _("Filtered by WeChat")


class SubscriptionCredit(models.Model):
    """How many one-time subscribe messages of one template a member still allows.

    Each "accept" of ``wx.requestSubscribeMessage`` allows WeChat to deliver one message of
    that template; sending without one fails (43101) or, worse, spends a consent the member
    gave for something else. So every accept adds one credit here, every send of a one-time
    template takes one first (the outbox records a message with no credit as ``no_credit``
    and does not call WeChat), and turning the template off ("ban") clears them. Consent
    belongs to the WeChat user and the template, not to a community, so this row carries no
    community."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscription_credits"
    )
    template_id = models.CharField(_("template id"), max_length=64)
    credits = models.PositiveIntegerField(_("messages allowed"), default=0)
    last_decision = models.CharField(
        _("last decision"), max_length=8, choices=SubscriptionDecision.choices, blank=True
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("subscription credit")
        verbose_name_plural = _("subscription credits")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "template_id"], name="subscription_credit_once_per_template"
            ),
            models.CheckConstraint(
                condition=models.Q(credits__gte=0), name="subscription_credit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.template_id}: {self.credits}"
