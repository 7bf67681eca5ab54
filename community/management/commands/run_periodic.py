"""``manage.py run_periodic``: the development run's scheduler.

Runs the periodic jobs of ``community/schedule.py`` on their schedules, like ``celery beat``
does in production, through Celery: with no broker configured (the development run) each task
runs in this process (eager mode). Every job runs once at start, then every ``job.every``.
``scripts/run`` starts it in the background and stops it with the server; it also exits by
itself when the process that started it is gone, so it never outlives the development run.
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


class Command(BaseCommand):
    help = "Run the periodic jobs (community/schedule.py) on their schedules, in-process."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once, then exit.")

    def handle(self, *args, once: bool = False, **options):
        for job in JOBS:
            import_string(job.task)  # fail at start on a job that names no task
        if once:
            for job in JOBS:
                run_job(job)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        parent = os.getppid()
        due = {job.name: time.monotonic() for job in JOBS}
        self.stdout.write(
            "Periodic jobs: "
            + ", ".join(f"{job.name} every {job.every.total_seconds():g}s" for job in JOBS),
        )
        self.stdout.flush()
        while not stop.is_set():
            for job in JOBS:
                if stop.is_set():
                    break
                if time.monotonic() >= due[job.name]:
                    run_job(job)
                    due[job.name] = time.monotonic() + job.every.total_seconds()
            if os.getppid() != parent:  # the development run is gone
                break
            stop.wait(max(0.0, min(min(due.values()) - time.monotonic(), 1.0)))
