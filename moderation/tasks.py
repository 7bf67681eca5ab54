"""Celery tasks of moderation: thin wrappers around services, safe to run twice.

The periodic ones are listed, with their schedules, in ``community/schedule.py``; each takes an
optional ``now`` (ISO 8601) that beat never passes and tests use to freeze the clock."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from community.schedule import job_now
from moderation.services.audit_export import audit_export_run
from moderation.services.screening import screening_recheck_due


@shared_task(bind=True, max_retries=2, acks_late=True)
def run_audit_export(self, export_id: str) -> str:
    """Write one audit log export. Safe to run twice; a lost one is queued again by the
    ``exports-sweep`` job (which sweeps every kind of export)."""
    try:
        return audit_export_run(export_id=export_id)
    except OSError as exc:  # storage hiccup: bounded retries
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def moderation_recheck(now: str | None = None) -> int:
    """Periodic: screen again the texts held while WeChat could not be reached."""
    return screening_recheck_due(now=job_now(now))
