"""Queueing a task once while an earlier one for the same thing has not started yet.

A mixing task mixes everything waiting in its box when it runs, so while one is queued and not
started, queueing another for the same box only makes a worker find the batch already taken.
Under steady traffic almost every anonymous submit found a full batch and queued a task (1,338
tasks for about as many submits in the survey benchmark). :func:`delay_once` marks the task
pending in Redis (``SET NX`` with a time to live) and publishes only when it set the mark; the
task calls :func:`pending_clear` first thing, before reading what to work on, so whatever was
committed by a caller that found the mark is seen by the task that cleared it, and anything
later queues a new one. A lost task delays the next one by the mark's lifetime at most (the
periodic sweeps still run). Without Redis, or with Celery eager (development, where ``delay``
runs the task right here), every call queues."""

from __future__ import annotations

import logging

from django.conf import settings

from community.redis_clients import redis_client

log = logging.getLogger(__name__)

#: Seconds a pending mark lives when its task never starts (lost message, dead worker).
PENDING_TTL = 60


def _mark(key: str) -> tuple[str, str] | None:
    """(Redis URL, mark name); the name holds no cache prefix, so web processes and workers
    agree on it whatever their cache settings (the keys carry random object ids)."""
    url = getattr(settings, "REDIS_URL", "")
    return (url, f"task-pending:{key}") if url else None


def delay_once(task, *args, key: str, countdown: int = 0) -> bool:
    """Queue ``task(*args)`` unless a task marked ``key`` is queued and not started yet;
    True when it was queued. Redis unreachable: queued (a duplicate is harmless, a missing
    task is not). With ``countdown`` (seconds, less than :data:`PENDING_TTL`) the task runs
    that much later, and every call meanwhile finds the mark: what they would have queued is
    left to that one task (eager mode runs it at once, as it runs every task)."""
    mark = _mark(key)
    if mark is not None and not task.app.conf.task_always_eager:
        url, name = mark
        try:
            if not redis_client(url).set(name, "1", nx=True, ex=PENDING_TTL):
                return False
        except Exception:  # noqa: BLE001 (queue it anyway)
            log.warning("task %s queued without its pending mark", task.name, exc_info=True)
    task.apply_async(args, countdown=countdown or None)
    return True


def pending_clear(key: str) -> None:
    """Clear ``key``'s pending mark: the task's first step, before it reads its work."""
    mark = _mark(key)
    if mark is None:
        return
    url, name = mark
    try:
        redis_client(url).delete(name)
    except Exception:  # noqa: BLE001 (the mark expires by itself)
        log.warning("pending mark %s not cleared", name, exc_info=True)
