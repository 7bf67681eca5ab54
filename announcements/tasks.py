"""Celery tasks of announcements: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task

from announcements import services
from community.schedule import job_now


@shared_task(acks_late=True)
def announcements_publish(now: str | None = None) -> int:
    """Periodic: notify the followers of announcements whose publish time has come, once."""
    return services.announcements_publish_due(now=job_now(now))
