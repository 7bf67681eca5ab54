"""The notification outbox: enqueue once, send through WeChat subscribe messages."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from community.models import Community, Notification, NotificationStatus, User
from community.wechat import WeChatError, get_client

logger = logging.getLogger(__name__)

# WeChat errcode when the member has not subscribed to (or has refused) the template.
ERRCODE_REFUSED = 43101
MAX_ATTEMPTS = 5


def notification_enqueue(
    *,
    community: Community,
    recipient: User,
    kind: str,
    object_key: str,
    data: dict[str, str],
    page: str = "",
) -> Notification | None:
    """Queue one message for ``recipient`` about ``object_key``; returns None when the same
    (recipient, kind, object) was queued before, so a reminder is never sent twice.

    Sending happens in a Celery task after the surrounding transaction commits."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                community=community,
                recipient=recipient,
                kind=kind,
                object_key=object_key,
                data=data,
                page=page,
            )
    except IntegrityError:
        return None
    from community.tasks import send_notification

    # robust: a broker outage must not fail the caller's request; the sweep sends it later.
    transaction.on_commit(lambda: send_notification.delay(notification.pk), robust=True)
    return notification


def notification_send(*, notification_id: int) -> str:
    """Send one pending notification and record the outcome; safe to run twice.

    The row is locked (``SELECT ... FOR UPDATE SKIP LOCKED``) for the duration of the send, so
    two workers handed the same id cannot both send it; a row that is no longer pending is left
    alone. Returns the resulting status. Raises ``WeChatError`` for a transient failure that the
    caller should retry (the attempt is counted)."""
    retry_error: WeChatError | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .select_related("recipient")
            .filter(pk=notification_id, status=NotificationStatus.PENDING)
            .first()
        )
        if notification is None:
            return "not_pending"
        template_id = settings.WECHAT_TEMPLATES.get(notification.kind)
        openid = notification.recipient.openid
        if not template_id or not openid:
            notification.status = NotificationStatus.SKIPPED
            notification.last_error = "no template configured" if not template_id else "no openid"
            notification.save(update_fields=["status", "last_error"])
            return notification.status
        notification.attempts += 1
        try:
            get_client().send_subscribe_message(
                openid=openid,
                template_id=template_id,
                data=notification.data,
                page=notification.page,
                miniprogram_state=settings.WECHAT_MINIPROGRAM_STATE,
            )
        except WeChatError as exc:
            notification.last_error = f"{exc.errcode}: {exc.errmsg}"[:300]
            if exc.errcode == ERRCODE_REFUSED:
                notification.status = NotificationStatus.REFUSED
            elif not exc.transient or notification.attempts >= MAX_ATTEMPTS:
                notification.status = NotificationStatus.FAILED
            notification.save(update_fields=["status", "attempts", "last_error"])
            if notification.status == NotificationStatus.PENDING:
                retry_error = exc
        else:
            notification.status = NotificationStatus.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
            notification.save(update_fields=["status", "attempts", "last_error", "sent_at"])
            logger.info("notification %s sent (%s)", notification.pk, notification.kind)
    if retry_error is not None:
        raise retry_error  # after commit, so the attempt is recorded
    return notification.status


def notifications_pending_ids(
    *, older_than_seconds: int = 120, limit: int = 500, now: datetime | None = None
) -> list[int]:
    """Pending notifications whose task may have been lost (for the periodic sweep)."""
    cutoff = (now or timezone.now()) - timezone.timedelta(seconds=older_than_seconds)
    return list(
        Notification.objects.filter(status=NotificationStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
