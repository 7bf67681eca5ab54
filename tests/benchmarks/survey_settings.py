"""Settings of the survey benchmark's server: production settings plus the floor's URL."""

from community.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.survey_floor"
