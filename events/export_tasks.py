"""Celery task of attendee exports (imported by ``events.tasks`` so workers register it)."""

from __future__ import annotations

from celery import shared_task

from events.services.exports import attendee_export_run


@shared_task(bind=True, max_retries=2, acks_late=True)
def run_attendee_export(self, export_id: str) -> str:
    """Write one attendee export. Safe to run twice; a lost one is queued again by the
    ``exports-sweep`` job (which sweeps every kind of export)."""
    try:
        return attendee_export_run(export_id=export_id)
    except OSError as exc:  # storage hiccup: bounded retries
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc
