"""Celery tasks of insights: thin wrappers over the services (periodic ones are listed in
``community/schedule.py``)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from community.schedule import job_now
from insights.recording import activity_flush
from insights.services.digest import weekly_digests_send
from insights.services.inactive import inactive_rounds_run
from insights.services.rollups import activity_rollup
from insights.services.summaries import summaries_run


@shared_task(acks_late=True)
def insights_flush(now: str | None = None) -> int:
    """Periodic: move buffered activity counts into the database."""
    return activity_flush()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def insights_daily(now: str | None = None) -> dict:
    """Periodic: roll-ups, inactive-member rounds and the dashboard summaries (each
    idempotent)."""
    weeks, months = activity_rollup(now=job_now(now))
    rounds = inactive_rounds_run(now=job_now(now))
    summaries = summaries_run(now=job_now(now))
    return {"weeks": weeks, "months": months, **rounds, "summaries": summaries}


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def insights_weekly_digest(now: str | None = None) -> int:
    """Periodic: the Monday digest to the admin tiers (once per admin and week)."""
    return weekly_digests_send(now=job_now(now))
