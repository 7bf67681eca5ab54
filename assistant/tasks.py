"""Celery tasks of the assistant: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task

from assistant import services
from community.schedule import job_now


@shared_task(acks_late=True)
def assistant_answer(message_id: str) -> str | None:
    """Answer one stored message (safe to run twice: only a ``received`` one is answered)."""
    message = services.message_answer(message_id=message_id)
    return message.status if message else None


@shared_task(acks_late=True)
def assistant_send(reply_id: str) -> str:
    """Send one queued reply, at most once."""
    return services.reply_send(reply_id=reply_id).status


@shared_task(acks_late=True)
def assistant_sweep(now: str | None = None) -> dict[str, int]:
    """Periodic: queue again messages and replies the workers left (they were down)."""
    return services.assistant_sweep(now=job_now(now))
