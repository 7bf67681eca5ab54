"""The notification outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NotificationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("notification status", "Pending")
    SENDING = "sending", pgettext_lazy("notification status", "Sending")
    SENT = "sent", _("Sent")
    REFUSED = "refused", _("Refused by the member")
    FAILED = "failed", pgettext_lazy("notification status", "Failed")
    SKIPPED = "skipped", _("Skipped (no template configured)")
    NO_CREDIT = "no_credit", _("Skipped (the member has not subscribed)")
    UNKNOWN = "unknown", _("Outcome unknown (perhaps delivered; never resent)")


def default_dedupe_key(kind: str, object_key: str) -> str:
    """The dedupe key of a message when the caller gives none: one per kind and object."""
    return f"{kind}:{object_key}"


class Notification(models.Model):
    """One WeChat subscribe message to one member about one object.

    ``(community, recipient, dedupe_key)`` is unique, so enqueueing the same message twice keeps
    one row and the member gets one message. The dedupe key defaults to ``<kind>:<object_key>``
    (once per member, kind and object); a caller that means a new message about the same object
    (a second reminder round, a task reassigned back) gives its own key, e.g. with the round.

    A Celery task sends pending rows through ``subscribeMessage.send``: it *claims* the row
    (``sending`` with ``claimed_at``) and commits, calls WeChat outside any transaction, then
    records the outcome. ``subscribeMessage.send`` has no idempotency key, so a send whose
    outcome was never learnt (the worker died mid-call: its claim outlived the lease; or the
    answer timed out after the request went out) is recorded ``unknown`` and never sent again:
    the member gets at most one message per dedupe key, perhaps none. A member who has not
    subscribed (WeChat 43101) is recorded as ``refused`` and never retried.

    A message of a one-time template spends one of the member's consent credits when first
    claimed; when the send finally fails (``failed`` after the retries), the credit is given
    back, once: ``credit_refunded_at`` is set by the same guarded statement that decides the
    refund. A ``refused`` message gives nothing back: WeChat says the member holds no consent
    for the template, so the credits counted for it were stale and are cleared. An ``unknown`` message keeps its credit spent: it may have been
    delivered, and a credit is never given for more messages than the member accepted."""

    community = models.ForeignKey(
        "community.Community",
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_once_per_recipient_dedupe_key leads with it
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40)
    object_key = models.CharField(_("object"), max_length=80)
    dedupe_key = models.CharField(_("dedupe key"), max_length=160)
    page = models.CharField(_("mini-program page"), max_length=200, blank=True, default="")
    data = models.JSONField(_("template data"), default=dict)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    #: The one-time template whose consent credit this message took (empty: none taken, e.g. a
    #: long-term template); given back once if WeChat finally did not deliver the message.
    credit_template_id = models.CharField(
        _("credit taken of template"), max_length=64, blank=True, default="", db_default=""
    )
    credit_refunded_at = models.DateTimeField(_("credit refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "recipient", "dedupe_key"],
                name="notification_once_per_recipient_dedupe_key",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_key} → {self.recipient_id}"

    def save(self, *args, **kwargs) -> None:
        """Rows created without a dedupe key get the default one (kind and object)."""
        if not self.dedupe_key:
            self.dedupe_key = default_dedupe_key(self.kind, self.object_key)
        super().save(*args, **kwargs)
