"""The committed contract, loaded once per test run."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def load_schema() -> dict:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text())
