"""Compact JSON of what we write ourselves: statement parameters, sealed payloads.

The standard library's ``json.dumps`` spent 15-25 µs on a survey response's answer rows or its
sealed payload (a Python call per value it cannot write in C); orjson writes the same text in
1-2 µs (see ``community/renderers.py`` for why orjson). Datetimes and dataclasses are handed to
``default`` as ``json.dumps`` hands them, and whatever orjson refuses (an integer beyond 64 bits, a key that
is not a string) is written by ``json.dumps``, so the text is the standard library's, but for a
float in exponent notation (written shorter: the same number)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def compact_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """``value`` as compact UTF-8 JSON (``separators=(",", ":")``, ``ensure_ascii=False``)."""
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        text = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))
        return text.encode()
