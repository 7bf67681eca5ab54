"""Settings of the sign-up benchmark only: production settings plus the floor URL module."""

from community.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.bench_urls"
