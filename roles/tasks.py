"""Celery tasks of roles: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from community.schedule import job_now
from roles import services


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def roles_terms(now: str | None = None) -> int:
    """Periodic: record terms that ended by the clock, remind holders a week before the end."""
    services.assignments_expire_due(now=job_now(now))
    return services.assignments_remind_due(now=job_now(now))
