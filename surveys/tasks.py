"""Celery tasks of the surveys app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from surveys.services import export_run


@shared_task(bind=True, max_retries=2, acks_late=True)
def run_export(self, export_id: str) -> str:
    """Write one export file. Safe to run twice: a finished export is skipped; a crashed
    one (worker lost) restarts from scratch. Failures are recorded on the export row."""
    try:
        return export_run(export_id=export_id)
    except OSError as exc:  # storage hiccup: bounded retries
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc
