"""Celery tasks of polls: thin wrappers around services, loading by id, safe to run twice.

The periodic ones are listed, with their schedules, in ``community/schedule.py``; each takes an
optional ``now`` (ISO 8601) that beat never passes and tests use to freeze the clock."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from community.queue_once import pending_clear
from community.schedule import job_now
from polls import services
from polls.services.mixing import box_mix_pending_key


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=True,
    retry_backoff_max=300,
)
def poll_finalize_task(self, poll_id: str, now: str | None = None) -> bool:
    """Freeze results and queue the close notifications, once (queued at once by a close, by
    the first read after the deadline and by the sweep; a no-op unless the poll is closed)."""
    return services.poll_finalize(poll_id=poll_id, now=job_now(now))


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=True,
    retry_backoff_max=300,
)
def poll_box_mix_task(poll_id: str) -> int:
    """Mix a secret poll's ballot box if a batch is complete (queued after the commit of the
    vote that completed it; a no-op otherwise). Its pending mark goes first, so a vote
    committed meanwhile either is mixed now or queues again."""
    pending_clear(box_mix_pending_key(poll_id))
    return services.poll_box_mix(poll_id=poll_id, skip_locked=True)


@shared_task
def polls_sweep(now: str | None = None) -> int:
    """Periodic: mix secret ballot boxes holding a complete batch, finalize closed polls whose
    results or close notifications are missing, and record the electorate of polls that
    opened."""
    services.polls_box_mix_due()
    services.polls_record_eligible(now=job_now(now))
    ids = services.polls_due_for_finalize(now=job_now(now))
    for poll_id in ids:
        poll_finalize_task.delay(poll_id, now)
    return len(ids)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def polls_remind(now: str | None = None) -> int:
    """Periodic: remind members who have not voted in polls entering their reminder window."""
    return services.polls_remind_due(now=job_now(now))
