"""The mini-program SDK (clients/miniprogram) is checked from the Python suite: its generated types
against openapi.yaml, `tsc --strict`, and a Node run of the member flow against a live server.
Every test here needs node and npm; without them (or without `npm ci` having run, which
scripts/test does) they skip and say why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "clients" / "miniprogram"


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed: the mini-program SDK tests need Node 18+ and npm")
    return path


@pytest.fixture(scope="session")
def sdk_installed(node) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the mini-program SDK tests need it")
    if not (SDK / "node_modules" / ".bin" / "tsc").exists():
        pytest.skip(
            "clients/miniprogram has no node_modules: run `npm ci` there (scripts/test does)"
        )
    return SDK
