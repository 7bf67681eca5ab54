"""Celery tasks of the surveys app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from community.schedule import job_now
from surveys import services


@shared_task(bind=True, max_retries=2, acks_late=True)
def run_export(self, export_id: str) -> str:
    """Write one export file. Safe to run twice: a finished or running export is skipped; a
    lost one (worker killed, message lost) is queued again by ``exports_sweep``. Failures
    are recorded on the export row."""
    try:
        return services.export_run(export_id=export_id)
    except OSError as exc:  # storage hiccup: bounded retries
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


@shared_task
def exports_sweep(now: str | None = None) -> dict[str, int]:
    """Periodic (beat): re-queue stuck exports, fail them after the last attempt, delete
    files past the retention period."""
    return services.exports_sweep(now=job_now(now))
