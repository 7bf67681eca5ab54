"""Celery tasks of polls: thin wrappers around services, loading by id, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from polls import services


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=True,
)
def poll_finalize_task(self, poll_id: str) -> bool:
    """Freeze results and notify, once (scheduled at ``closes_at``; a no-op if not closed)."""
    return services.poll_finalize(poll_id=poll_id)


@shared_task
def polls_sweep() -> int:
    """Safety net (beat): finalize closed polls whose scheduled task was lost, and record the
    electorate of polls that opened."""
    services.polls_record_eligible()
    ids = services.polls_due_for_finalize()
    for poll_id in ids:
        poll_finalize_task.delay(poll_id)
    return len(ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def polls_remind() -> int:
    """Beat: remind members who have not voted in polls entering their reminder window."""
    return services.polls_remind_due()
