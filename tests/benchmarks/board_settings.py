"""Settings of the board benchmark's gunicorn: production settings plus the floor's URL module
(``tests.benchmarks.board_floor``), which production never serves."""

from community.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.board_floor"
