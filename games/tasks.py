"""Celery tasks of the lucky draws: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task

from community.schedule import job_now
from games import services


@shared_task(acks_late=True)
def draws_sweep(now: str | None = None) -> dict[str, int]:
    """Periodic: draw the draws past their closing time, redraw prizes not claimed in time."""
    return services.draws_sweep(now=job_now(now))
