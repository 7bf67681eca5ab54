"""The mini-program SDK (clients/miniprogram) is checked from the Python suite: its generated types
against openapi.yaml, `tsc --strict`, and a Node run of the member flow against a live server.
Every test here needs node and npm; without them (or without `npm ci` having run, which
scripts/test does) they skip and say why."""

from __future__ import annotations

import os
import shutil
import subprocess
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


@pytest.fixture(scope="session")
def sdk_test_build(sdk_installed) -> Path:
    """``tsc -p tsconfig.test.json`` (strict, noUncheckedIndexedAccess: it extends
    tsconfig.json) once per run, for every test that runs the compiled Node tests; returns the
    output directory (``dist-test``, or ``dist-test/<worker>`` under pytest-xdist so parallel
    workers never write over each other's files). A type error fails every test using it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    out = SDK / "dist-test" / worker if worker else SDK / "dist-test"
    build = subprocess.run(
        ["npx", "--no-install", "tsc", "-p", "tsconfig.test.json", "--outDir", str(out)],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, "tsc -p tsconfig.test.json:\n" + build.stdout + build.stderr
    return out
