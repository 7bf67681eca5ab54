"""The topology of ``scripts/cluster`` under fault: not part of the default run. They run with
``bash scripts/cluster test`` (which starts the topology when it is not running and passes
``CLUSTER_TESTS=1`` and ``DATABASE_URL`` of the cluster's primary)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
collect_ignore_glob = [] if os.environ.get("CLUSTER_TESTS") == "1" else ["test_*.py"]

BASE = int(os.environ.get("CLUSTER_PORT_BASE", "15400"))
LB = f"http://127.0.0.1:{BASE + 80}"
APP_PORTS = {"app1": BASE + 81, "app2": BASE + 82}
WECHAT_PORT = BASE + 90


def script(*args: str, check: bool = True) -> str:
    """``bash scripts/cluster ARGS`` with this run's environment."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "cluster"), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"scripts/cluster {' '.join(args)}: {result.stdout}{result.stderr}")
    return result.stdout


def wait_until(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def cluster_db(django_db_blocker):
    """Direct access to the cluster's primary (``DATABASE_URL``) from the test process: the
    tests seed members and read the outcome there, as the app nodes see it. The database
    outlives a run: factory sequences start past every earlier run's."""
    from tests.factories import CommunityFactory, UserFactory

    start = int(time.time() * 1000)
    UserFactory.reset_sequence(start)
    CommunityFactory.reset_sequence(start)
    with django_db_blocker.unblock():
        yield
