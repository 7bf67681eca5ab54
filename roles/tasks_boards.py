"""Celery tasks of the task boards: thin wrappers around services, safe to run twice.

``boards_remind`` is listed, with its schedule, in ``community/schedule.py``; it takes an
optional ``now`` (ISO 8601) that beat never passes and tests use to freeze the clock."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from community.schedule import job_now
from roles.services import tasks_notify


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def boards_remind(now: str | None = None) -> int:
    """Periodic: "due within 24 hours" to assignees, and the daily overdue digest (once per
    member, community and local day). Returns how many messages were queued."""
    moment = job_now(now)
    return tasks_notify.tasks_remind_due(now=moment) + tasks_notify.tasks_overdue_digest(now=moment)
