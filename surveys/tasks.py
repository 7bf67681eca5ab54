"""Celery tasks of the surveys app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from community.queue_once import pending_clear
from community.schedule import job_now
from surveys import services
from surveys.services.mixing import mix_pending_key


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


@shared_task(acks_late=True)
def mix_responses(survey_id: str) -> int:
    """Mix an anonymous survey's box once a batch is complete (safe to run twice). Its pending
    mark goes first, so a submit committed meanwhile either is mixed now or queues again."""
    pending_clear(mix_pending_key(survey_id))
    return services.survey_responses_mix(survey_id=survey_id)


@shared_task
def responses_mix_sweep(now: str | None = None) -> int:
    """Periodic (beat): mix full batches left behind and every box of a closed survey."""
    return services.survey_responses_mix_due(now=job_now(now))
