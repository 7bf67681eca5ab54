"""Celery tasks of the moderation app (thin wrappers of services)."""

from __future__ import annotations

from celery import shared_task

from moderation.services.audit_export import audit_export_run


@shared_task(bind=True, max_retries=2, acks_late=True)
def run_audit_export(self, export_id: str) -> str:
    """Write one audit log export. Safe to run twice; a lost one is queued again by the
    ``exports-sweep`` job (which sweeps every kind of export)."""
    try:
        return audit_export_run(export_id=export_id)
    except OSError as exc:  # storage hiccup: bounded retries
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc
