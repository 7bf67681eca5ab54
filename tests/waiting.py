"""One way for tests to wait for something another thread or process does: poll a predicate.

Tests never sleep a fixed time and hope, and never assert on wall-clock durations of a shared,
noisy machine: they wait until what they expect is true (or fail after a generous timeout with a
message saying what did not happen).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    message: str | Callable[[], str] = "",
) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns a truthy value, and return
    that value. After ``timeout`` seconds fail the test with ``message`` (a string or a callable
    giving one, e.g. to show a process's output) and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            name = getattr(predicate, "__name__", "predicate")
            pytest.fail(f"{text or name} not true within {timeout} s (last value: {value!r})")
        time.sleep(interval)


def stays(predicate: Callable[[], object], *, duration: float = 1.0, interval: float = 0.1) -> bool:
    """Whether ``predicate`` stays truthy for ``duration`` seconds: for "nothing else happens"
    (no duplicate arrives), which no event can signal."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        if not predicate():
            return False
        time.sleep(interval)
    return bool(predicate())
