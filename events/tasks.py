"""Celery tasks of events: thin wrappers around services, safe to run twice.

The periodic ones are listed, with their schedules, in ``community/schedule.py``; each takes an
optional ``now`` (ISO 8601) that beat never passes and tests use to freeze the clock."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from community.schedule import job_now
from events import services


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def events_sweep(now: str | None = None) -> int:
    """Periodic: pass unclaimed waitlist offers past their deadline on to the next in line."""
    return services.events_offers_expire_due(now=job_now(now))


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def events_remind(now: str | None = None) -> int:
    """Periodic: queue the due reminder round (default 24 h and 2 h before the start) to
    everyone confirmed, once per member and round."""
    return services.events_remind_due(now=job_now(now))


from events.export_tasks import run_attendee_export  # noqa: E402,F401  (registered here)
