"""``manage.py run_periodic``: the development run's scheduler.

Runs the periodic jobs of ``community/schedule.py`` on their schedules, like ``celery beat``
does in production, through Celery: with no broker configured (the development run) each task
runs in this process (eager mode). Every job runs once at start, then every ``job.every``.
``scripts/run`` starts it in the background and stops it with the server; it also exits by
itself when the process that started it is gone (``--exit-with``), so it never outlives the
development run.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from celery import current_app
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import import_string

from community.schedule import JOBS, Job

logger = logging.getLogger(__name__)


def run_job(job: Job) -> None:
    """Run one job through Celery (in-process when eager); a failure is logged, not raised,
    so one broken job does not stop the others."""
    close_old_connections()
    try:
        result = job.delay()
        if current_app.conf.task_always_eager:
            logger.info("periodic job %s done: %s", job.name, result.result)
        else:
            logger.info("periodic job %s queued", job.name)
    except Exception:
        logger.exception("periodic job %s failed", job.name)
    finally:
        close_old_connections()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Command(BaseCommand):
    help = "Run the periodic jobs (community/schedule.py) on their schedules, in-process."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once, then exit.")
        parser.add_argument(
            "--exit-with",
            type=int,
            metavar="PID",
            help="Exit when process PID is gone (scripts/run passes its own; default: the "
            "parent process at start).",
        )

    def handle(self, *args, once: bool = False, exit_with: int | None = None, **options):
        exit_with = exit_with or os.getppid()
        for job in JOBS:
            import_string(job.task)  # fail at start on a job that names no task
        if once:
            for job in JOBS:
                run_job(job)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        due = {job.name: time.monotonic() for job in JOBS}
        self.stdout.write(
            "Periodic jobs: "
            + ", ".join(f"{job.name} every {job.every.total_seconds():g}s" for job in JOBS),
        )
        self.stdout.flush()
        while not stop.is_set() and _alive(exit_with):  # else the development run is gone
            for job in JOBS:
                if stop.is_set():
                    break
                if time.monotonic() >= due[job.name]:
                    run_job(job)
                    due[job.name] = time.monotonic() + job.every.total_seconds()
            stop.wait(max(0.0, min(min(due.values()) - time.monotonic(), 1.0)))
