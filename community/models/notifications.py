"""The notification outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NotificationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("notification status", "Pending")
    SENT = "sent", _("Sent")
    REFUSED = "refused", _("Refused by the member")
    FAILED = "failed", pgettext_lazy("notification status", "Failed")
    SKIPPED = "skipped", _("Skipped (no template configured)")


class Notification(models.Model):
    """One WeChat subscribe message to one member about one object.

    ``(recipient, kind, object_key)`` is unique, so enqueueing the same reminder twice keeps one
    row and the member gets one message. A Celery task sends pending rows through
    ``subscribeMessage.send``; a member who has not subscribed (WeChat 43101) is recorded as
    ``refused`` and never retried."""

    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40)
    object_key = models.CharField(_("object"), max_length=80)
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
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "recipient", "kind", "object_key"],
                name="notification_once_per_recipient_kind_object",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_key} → {self.recipient_id}"
