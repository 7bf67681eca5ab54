"""The committed contract, loaded once per test run."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


#: libyaml's safe loader where PyYAML was built with it (the same documents as ``safe_load``,
#: in a fraction of the time: openapi.yaml is megabytes, read several times per run).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> dict:
    """``yaml.safe_load(text)``, through libyaml when available."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (CSafeLoader or SafeLoader)


@functools.cache
def load_schema() -> dict:
    return load_yaml((ROOT / "openapi.yaml").read_text())
