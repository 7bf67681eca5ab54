"""The API's JSON renderer: DRF's ``JSONRenderer`` output, encoded by orjson.

DRF encodes with the standard library's ``json`` (a Python ``default`` hook for every
datetime, Decimal and lazy string, and a Python pass over the result), which took about 45 us
of CPU for one submitted survey response shown back; orjson does the same in under 2 us, and
list pages gain in proportion to their size. Why orjson: maintained, wheels for every platform
we run, and it leaves to a ``default`` hook whatever it does not know -- here DRF's own
encoder, so every value is written as DRF writes it:

* datetimes and dataclasses are handed to DRF's encoder (``OPT_PASSTHROUGH_*``: ``Z`` for
  any zero offset, as DRF writes it), as are Decimals, lazy translations and the rest;
* keys and strings stay UTF-8 (``UNICODE_JSON``) and compact (``COMPACT_JSON``); U+2028 and
  U+2029 are escaped as DRF escapes them, so the body is valid JavaScript too;
* anything orjson refuses (an integer beyond 64 bits, a non-string key, a string that is not
  valid UTF-8) and any indented rendering (the browsable API) goes through DRF's renderer
  unchanged.

Two differences: a float in exponent notation is written in its shortest form (``-2.5e-7``,
not ``-2.5e-07``: the same number to any JSON reader), and a float that is not a number (NaN,
infinity) is written ``null``, where DRF's strict mode raised and the request answered 500.
``tests/community/test_renderers.py`` compares the two renderers."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LINE_SEPARATORS = (b"\xe2\x80\xa8", b"\xe2\x80\xa9")  # U+2028, U+2029 in UTF-8


class FastJSONRenderer(JSONRenderer):
    """``JSONRenderer`` whose compact output is encoded by orjson (see the module docstring)."""

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        renderer_context = renderer_context or {}
        if self.get_indent(accepted_media_type, renderer_context) or not (
            self.compact and self.ensure_ascii is False
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: what only the standard encoder writes
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATORS[0] in body or _LINE_SEPARATORS[1] in body:
            body = body.replace(_LINE_SEPARATORS[0], b"\\u2028")
            body = body.replace(_LINE_SEPARATORS[1], b"\\u2029")
        return body
