"""Celery tasks of the community core: thin wrappers around services.

The periodic ones are listed, with their schedules, in ``community/schedule.py``."""

from __future__ import annotations

from celery import shared_task

from community.schedule import MAX_TASK_DELAY, job_now
from community.services.notifications import (
    MAX_ATTEMPTS,
    notification_send,
    notifications_expire_claims,
    notifications_pending_ids,
)
from community.wechat import WeChatError


@shared_task(bind=True, max_retries=MAX_ATTEMPTS, acks_late=True)
def send_notification(self, notification_id: int) -> str:
    """Send one outbox row; transient WeChat failures retry with backoff (bounded)."""
    try:
        return notification_send(notification_id=notification_id)
    except WeChatError as exc:
        raise self.retry(
            exc=exc, countdown=min(MAX_TASK_DELAY.total_seconds(), 10 * 2**self.request.retries)
        ) from exc


@shared_task
def notifications_sweep(now: str | None = None) -> dict[str, int]:
    """Periodic safety net: record ``unknown`` the claims of workers that died mid-send (never
    resent), and re-dispatch pending notifications whose task was lost."""
    at = job_now(now)
    unknown = notifications_expire_claims(now=at)
    ids = notifications_pending_ids(now=at)
    for notification_id in ids:
        send_notification.delay(notification_id)
    return {"redispatched": len(ids), "unknown": unknown}


@shared_task(acks_late=True)
def rules_remind(now: str | None = None) -> int:
    """Periodic: remind members who have not accepted a rules version a week old, once."""
    from community.services.rules import rules_remind_due

    return rules_remind_due(now=job_now(now))


@shared_task(acks_late=True)
def newcomers_check_in(now: str | None = None) -> int:
    """Periodic: the first-week check-in message, ~3 days after joining, once per membership."""
    from community.services.newcomers import newcomers_check_in_due

    return newcomers_check_in_due(now=job_now(now))
