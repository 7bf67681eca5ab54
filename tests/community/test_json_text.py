"""What we write as JSON ourselves (statement parameters, sealed payloads) is the standard
library's compact text, written by orjson (``community/json_text.py``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from community.json_text import compact_json


@dataclass
class _Mark:
    label: str


def _stdlib(value, default=None) -> bytes:
    return json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":")).encode()


VALUES = {
    "answer rows": [
        ["q1", "c1", None, None, "场地有点小", None],
        ["q2", None, "r1", Decimal("4"), "", None],
        ["q3", None, None, None, "", date(2026, 12, 1)],
    ],
    "a sealed payload": {
        "answers": {"q1": {"choice": "c1"}, "q2": ["a", "b"], "q3": "2026-12-01", "q4": 7},
        "version": 3,
        "token_hash": "ab" * 32,
        "at": "2026-12-01T12:00:00+00:00",
    },
    "a datetime goes to default, as json.dumps sends it": [datetime(2026, 12, 1, 12, tzinfo=UTC)],
    "so does a dataclass": [_Mark("已读")],
    "beyond orjson: an integer beyond 64 bits": {"big": 2**70},
    "beyond orjson: keys that are not strings": {1: "one"},
}


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_it_writes_the_standard_librarys_text(value):
    assert compact_json(value, default=str) == _stdlib(value, default=str)


def test_what_nobody_can_write_still_raises():
    with pytest.raises(TypeError):
        compact_json({"x": object()})
