"""Settings of the sign-up benchmark only: production settings plus the floor URL module.

With ``CELERY_BROKER_URL`` set (the benchmark sets it), outbox sends are queued on Redis as in
production, to a queue of the benchmark's own (``BENCH_QUEUE``) that no worker consumes and
the benchmark deletes: the web tier pays the publish, not the WeChat call."""

import os

from community.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.bench_urls"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_QUEUE", "celery")
