"""The notification outbox: enqueue once per dedupe key, send through WeChat subscribe
messages without holding a transaction during the HTTP call.

The guarantee is *at most one message per dedupe key*, not exactly one. ``subscribeMessage.send``
takes no idempotency key, so when a send may have reached WeChat but its answer never arrived
(the worker was killed mid-call, or the answer timed out after the request went out) nobody can
tell whether the member got it. Such a message is recorded ``unknown`` and never sent again;
only a send WeChat certainly did not process (no connection was made, or "system busy") is
retried. ``unknown`` messages keep their consent credit spent (they may have been delivered),
are counted by the sweep (a warning in the log) and listed in the admin (status filter)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from community.locking import lock_rows
from community.models import Community, Notification, NotificationStatus, User
from community.models.notifications import default_dedupe_key
from community.services.subscriptions import (
    subscription_credit_consume,
    subscription_credit_refund,
    subscription_credits_clear,
)
from community.subscriptions import template_for
from community.wechat import WeChatError, get_client

logger = logging.getLogger(__name__)

# WeChat errcode when the member has not subscribed to (or has refused) the template.
ERRCODE_REFUSED = 43101
MAX_ATTEMPTS = 5
#: How long a claim may stay ``sending``. Far longer than one send can take (timeout x
#: (retries + 1) plus backoff, seconds by default), so only a claim of a worker that died
#: mid-call expires; the sweep then records the row ``unknown`` (it is never sent again).
SEND_LEASE = timedelta(minutes=5)
#: ``last_error`` of a message whose worker died during the call.
LEASE_EXPIRED = "the worker stopped during the WeChat call: outcome unknown, not resent"
#: Rows per INSERT of ``notification_enqueue_many`` (a community has at most ~500 members).
BULK_ROWS = 500


def _dispatch_after_commit(ids: list[int]) -> None:
    from community.tasks import send_notification

    def dispatch() -> None:
        for notification_id in ids:
            send_notification.delay(notification_id)

    # robust: a broker outage must not fail the caller's request; the sweep sends it later.
    transaction.on_commit(dispatch, robust=True)


def notification_enqueue(
    *,
    community: Community,
    recipient: User,
    kind: str,
    object_key: str,
    data: dict[str, str],
    page: str = "",
    dedupe_key: str | None = None,
) -> Notification | None:
    """Queue one message for ``recipient`` about ``object_key``; returns None when a message
    with the same ``dedupe_key`` (default ``<kind>:<object_key>``) was queued for this member
    before, so the same reminder is never sent twice. Give a new key (e.g. with a round number)
    to send another message about the same object.

    Sending happens in a Celery task after the surrounding transaction commits."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                community=community,
                recipient=recipient,
                kind=kind,
                object_key=object_key,
                dedupe_key=dedupe_key or default_dedupe_key(kind, object_key),
                data=data,
                page=page,
            )
    except IntegrityError:
        return None
    _dispatch_after_commit([notification.pk])
    return notification


def notification_enqueue_many(
    *,
    community_id: str,
    recipient_ids: Iterable[int],
    kind: str,
    object_key: str,
    data: dict[str, str],
    page: str = "",
    dedupe_key: str | None = None,
    dedupe_keys: dict | None = None,
) -> list[int]:
    """Queue the same message for many members in one ``INSERT ... ON CONFLICT DO NOTHING``
    (per 500 recipients): members who already have a message with this dedupe key are skipped
    without a savepoint or a lock per row. ``dedupe_keys`` (recipient id -> key) gives each
    recipient a key of their own (e.g. per round). Returns the ids of the rows queued now;
    they are sent after the surrounding transaction commits."""
    recipient_ids = sorted(set(recipient_ids))  # one insert order for everyone: no deadlocks
    if not recipient_ids:
        return []
    meta = Notification._meta
    quote = connection.ops.quote_name
    names = ["community", "recipient", "kind", "object_key", "dedupe_key", "page", "data"]
    names += ["status", "attempts", "last_error", "created_at"]
    fields = [meta.get_field(name) for name in names]
    columns = ", ".join(quote(field.column) for field in fields)
    shared = {
        "community": community_id,
        "kind": kind,
        "object_key": object_key,
        "dedupe_key": dedupe_key or default_dedupe_key(kind, object_key),
        "page": page,
        "data": data,
        "status": NotificationStatus.PENDING.value,
        "attempts": 0,
        "last_error": "",
        "created_at": timezone.now(),
    }
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    queued: list[int] = []
    for start in range(0, len(recipient_ids), BULK_ROWS):
        chunk = recipient_ids[start : start + BULK_ROWS]
        params: list = []
        for recipient_id in chunk:
            values = {**shared, "recipient": recipient_id}
            if dedupe_keys and recipient_id in dedupe_keys:
                values["dedupe_key"] = dedupe_keys[recipient_id]
            params += [field.get_db_prep_save(values[field.name], connection) for field in fields]
        sql = (
            # identifiers come from model meta, values are parameters
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES {', '.join([row] * len(chunk))} ON CONFLICT DO NOTHING RETURNING {quote('id')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            queued += [pk for (pk,) in cursor.fetchall()]
    if queued:
        _dispatch_after_commit(queued)
    return queued


def _claim(notification_id: int, now: datetime) -> tuple[Notification | None, str, str]:
    """Mark a ``pending`` row ``sending`` (counting the attempt) and commit, so no other worker
    sends it while this one calls WeChat. Returns the row with the recipient's openid and the
    template id, or (None, "", "") when the row is not ours to send (sent, in another worker's
    hands, taken by a parallel claim, or left ``sending`` by a worker that died: that one is
    never claimed again, see :func:`notifications_expire_claims`). A row that cannot be sent
    is recorded ``skipped`` here."""
    with transaction.atomic():
        notification = lock_rows(
            Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING),
            skip_locked=True,
        ).first()
        if notification is None:
            return None, "", ""
        template = template_for(notification.kind)
        template_id = template.template_id if template else ""
        openid = User.objects.filter(pk=notification.recipient_id).values_list("openid", flat=True)
        openid = openid.first() or ""
        if not template_id or not openid:
            notification.status = NotificationStatus.SKIPPED
            notification.last_error = "no template configured" if not template_id else "no openid"
            notification.save(update_fields=["status", "last_error"])
            return notification, "", ""
        # A one-time template needs a consent credit (``wx.requestSubscribeMessage``): the
        # first claim takes one (a retry or a taken-over claim already holds it); without one
        # the message is recorded as such and WeChat is not called.
        first_claim = not template.long_term and notification.attempts == 0
        if first_claim and not subscription_credit_consume(
            user_id=notification.recipient_id, template_id=template_id
        ):
            notification.status = NotificationStatus.NO_CREDIT
            notification.last_error = "no subscription credit"
            notification.save(update_fields=["status", "last_error"])
            return notification, "", ""
        notification.status = NotificationStatus.SENDING
        notification.claimed_at = now
        notification.attempts += 1
        fields = ["status", "claimed_at", "attempts"]
        if first_claim:
            notification.credit_template_id = template_id
            fields.append("credit_template_id")
        notification.save(update_fields=fields)
    return notification, openid, template_id


def _record(notification: Notification, **outcome) -> bool:
    """Store the outcome of this worker's send, in its own short statement, only while the row
    is still under this worker's claim. A claim the sweep already recorded ``unknown`` (this
    worker outlived the lease, which a live worker never does) gets the outcome learnt late."""
    for name, value in outcome.items():
        setattr(notification, name, value)
    recorded = Notification.objects.filter(
        pk=notification.pk,
        status__in=[NotificationStatus.SENDING, NotificationStatus.UNKNOWN],
        claimed_at=notification.claimed_at,
    ).update(**outcome)
    if not recorded:
        logger.warning(
            "notification %s: claim lost before the outcome was recorded", notification.pk
        )
    return bool(recorded)


def notification_send(*, notification_id: int) -> str:
    """Send one pending notification and record the outcome; safe to run twice, and never
    sends a message twice.

    Claim, commit, call, record: the row is claimed in a short transaction (``sending``, with
    the claim time), WeChat is called with no transaction open and no row locked, and the
    outcome is written in a new statement: ``sent``; ``refused`` (43101) or ``failed`` (WeChat
    answered an error, or never got the request after the retries: the credit is given back);
    ``unknown`` when the request may have reached WeChat but no answer came (a read timeout,
    a dropped connection, HTTP 5xx: never resent, the credit stays spent); or back to
    ``pending`` for a retry when WeChat certainly did not process it (no connection, "system
    busy"). A second call while the row is claimed, after its outcome, or after its worker
    died mid-call does not call WeChat (returns ``not_pending``). Returns the resulting
    status. Raises ``WeChatError`` for a failure the caller should retry (attempt counted)."""
    client = get_client()  # not configured: raise before claiming, the row stays pending
    notification, openid, template_id = _claim(notification_id, timezone.now())
    if notification is None:
        return "not_pending"
    if notification.status != NotificationStatus.SENDING:
        return notification.status
    try:
        client.send_subscribe_message(
            openid=openid,
            template_id=template_id,
            data=notification.data,
            page=notification.page,
            miniprogram_state=settings.WECHAT_MINIPROGRAM_STATE,
        )
    except WeChatError as exc:
        if exc.errcode == ERRCODE_REFUSED:
            status = NotificationStatus.REFUSED
        elif exc.transient and not exc.request_unsent:
            status = NotificationStatus.UNKNOWN  # it may have been sent: never again
        elif not exc.transient or notification.attempts >= MAX_ATTEMPTS:
            status = NotificationStatus.FAILED
        else:
            status = NotificationStatus.PENDING
        recorded = _record(
            notification, status=status, last_error=f"{exc.errcode}: {exc.errmsg}"[:300]
        )
        if status == NotificationStatus.PENDING:
            raise
        if status == NotificationStatus.UNKNOWN:
            logger.warning("notification %s: outcome unknown (%s)", notification.pk, exc.errmsg)
        elif status == NotificationStatus.REFUSED and recorded:
            # WeChat holds no consent of this member for this template: the credits we
            # counted are stale (spent elsewhere, or never given), so none comes back and the
            # rest are cleared until the member accepts again.
            subscription_credits_clear(user_id=notification.recipient_id, template_id=template_id)
        elif recorded:
            # WeChat did not deliver it: the member's consent was not used.
            notification_refund_credit(notification_id=notification.pk)
        return status
    _record(notification, status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="")
    logger.info("notification %s sent (%s)", notification.pk, notification.kind)
    return NotificationStatus.SENT


def notification_refund_credit(*, notification_id: int) -> bool:
    """Give back the consent credit a message took, when its send finally failed (``failed``
    after the retries: WeChat did not deliver it and the consent is still there; not
    ``refused``, where WeChat says there is no consent to give back). Exactly once per message,
    however often (or in parallel) this runs: one guarded ``UPDATE`` marks the refund
    (``credit_refunded_at``), and only the statement that marked it adds the credit, in the
    same transaction. False when there is nothing (more) to give back."""
    final = [NotificationStatus.FAILED]
    with transaction.atomic():
        row = (
            Notification.objects.filter(
                pk=notification_id, status__in=final, credit_refunded_at__isnull=True
            )
            .exclude(credit_template_id="")
            .values("recipient_id", "credit_template_id")
            .first()
        )
        if row is None:
            return False
        marked = (
            Notification.objects.filter(pk=notification_id, credit_refunded_at__isnull=True)
            .exclude(credit_template_id="")
            .update(credit_refunded_at=timezone.now())
        )
        if not marked:  # a parallel run refunded it first
            return False
        subscription_credit_refund(
            user_id=row["recipient_id"], template_id=row["credit_template_id"]
        )
    return True


def notifications_expire_claims(*, now: datetime | None = None) -> int:
    """Record ``unknown`` every claim older than :data:`SEND_LEASE`: its worker died (SIGKILL,
    OOM, a lost host) between claiming and recording, perhaps after WeChat got the message,
    which cannot be asked. It is never sent again (at most one message per dedupe key) and its
    consent credit stays spent. One guarded ``UPDATE``: two sweeps at once count each row once.
    Returns how many were recorded ``unknown`` now (logged as a warning)."""
    now = now or timezone.now()
    expired = Notification.objects.filter(
        status=NotificationStatus.SENDING, claimed_at__lt=now - SEND_LEASE
    ).update(status=NotificationStatus.UNKNOWN, last_error=LEASE_EXPIRED)
    if expired:
        logger.warning("%d notification(s) left sending by a dead worker: outcome unknown", expired)
    return expired


def notifications_pending_ids(
    *, older_than_seconds: int = 120, limit: int = 500, now: datetime | None = None
) -> list[int]:
    """Notifications whose task may have been lost (for the periodic sweep): pending ones
    older than ``older_than_seconds``. A claim left by a dead worker is not one of them (it is
    recorded ``unknown`` by :func:`notifications_expire_claims`, never sent again)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    return list(
        Notification.objects.filter(status=NotificationStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
