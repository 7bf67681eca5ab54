"""The API's JSON renderer writes what DRF's ``JSONRenderer`` writes, byte for byte, with
orjson doing the encoding (``community/renderers.py``)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from community.renderers import FastJSONRenderer

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LONDON_WINTER = dt.datetime(2026, 12, 1, 9, 30, tzinfo=zoneinfo.ZoneInfo("Europe/London"))

PAYLOADS = {
    "an answer shown back": {
        "response_id": "Ab3dEf6hJk9m",
        "submitted_at": dt.datetime(2026, 12, 1, 20, 15, 3, 120000, tzinfo=SHANGHAI),
        "answers": {"q1": {"choice": "c1", "other_text": "场地有点小"}, "q2": [3, 1, 2]},
        "thank_you_text": "谢谢你的回答!",
        "can_edit": False,
        "response_token": None,
    },
    "UTC and zero offsets as Z, naive and whole seconds as isoformat": [
        dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC),
        LONDON_WINTER,
        dt.datetime(2026, 12, 1, 12, 0, 0, 5),
        dt.date(2026, 12, 1),
        dt.time(8, 30),
        dt.timedelta(minutes=90),
    ],
    "Decimals, lazy translations, UUIDs, tuples": {
        "score": Decimal("4.50"),
        "label": gettext_lazy("Survey not found."),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "pair": (1, "二"),
        "floats": [0.1, 4.5, -3.0, 123456.789],
    },
    "line separators, escaped for JavaScript": {"text": "一\u2028二\u2029三"},
    "an integer beyond 64 bits (DRF's renderer writes it)": {"big": 2**70},
    "keys that are not strings (DRF's renderer writes them)": {1: "one", None: "none"},
    "nested empties": {"a": [], "b": {}, "c": [[{}]], "d": ""},
}


@pytest.mark.parametrize("data", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_it_writes_what_drf_writes(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_floats_in_exponent_notation_are_the_same_numbers_written_shorter():
    data = {"big": 1e16, "small": -2.5e-7}
    assert FastJSONRenderer().render(data) == b'{"big":1e+16,"small":-2.5e-7}'
    assert JSONRenderer().render(data) == b'{"big":1e+16,"small":-2.5e-07}'
    assert json.loads(FastJSONRenderer().render(data)) == json.loads(JSONRenderer().render(data))


def test_indented_rendering_is_drfs():
    data = PAYLOADS["an answer shown back"]
    media = "application/json; indent=2"
    assert FastJSONRenderer().render(data, media) == JSONRenderer().render(data, media)
    assert b'\n  "response_id"' in FastJSONRenderer().render(data, media)


def test_nothing_renders_as_an_empty_body():
    assert FastJSONRenderer().render(None) == b""


@dataclass
class _Point:
    x: int


def test_what_drf_cannot_write_it_cannot_either():
    with pytest.raises(TypeError):
        JSONRenderer().render({"point": _Point(1)})
    with pytest.raises(TypeError):
        FastJSONRenderer().render({"point": _Point(1)})


def test_a_float_that_is_not_a_number_is_null_where_drf_raised():
    """The one difference, on purpose: a 500 for a NaN in a figure helps nobody."""
    with pytest.raises(ValueError):
        JSONRenderer().render({"mean": float("nan")})
    assert FastJSONRenderer().render({"mean": float("nan"), "max": float("inf")}) == (
        b'{"mean":null,"max":null}'
    )


def test_the_api_renders_with_it():
    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is FastJSONRenderer
