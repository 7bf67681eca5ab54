"""Settings of the survey benchmark's server: production settings plus the floor's URL.

With ``CELERY_BROKER_URL`` set (the benchmark sets it), the mixing tasks that anonymous submits
queue are published to Redis as in production, to a queue of the benchmark's own
(``BENCH_QUEUE``) that no worker consumes and the benchmark deletes."""

import os

from community.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.survey_floor"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_QUEUE", "celery")
