"""Request body parsers: JSON that cannot crash a request, whatever its shape or size.

DRF's ``JSONParser`` lets a ``RecursionError`` out of ``json.load`` (a body nested about 1,000
levels deep, under 2 KB, answers 500) and shows Python's English parse message. This parser turns
both into a 400 ``parse_error`` with a translated message, in the one error shape, before any view
or service sees the data.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

#: No request of this API nests deeper than a few levels (survey answers: question -> answer ->
#: list of choice ids); anything deeper is refused before it reaches a serializer.
MAX_JSON_DEPTH = 32


def _parse_error(message: str | None = None) -> exceptions.ParseError:
    return exceptions.ParseError(message or _("The request body is not valid JSON."))


def json_depth_exceeds(value: object, limit: int) -> bool:
    """True when ``value`` nests lists/objects deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class SafeJSONParser(JSONParser):
    """``JSONParser`` that answers 400 ``parse_error`` (translated) for malformed, undecodable or
    too deeply nested JSON."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        # DRF hands JSON parsers ``request.body``, which Django already limited to
        # DATA_UPLOAD_MAX_MEMORY_SIZE (``RequestDataTooBig``, answered 413 by the error handler).
        raw = stream.read()
        try:
            text = codecs.decode(raw, encoding)
        except (LookupError, ValueError) as exc:
            raise _parse_error(
                _("The request body is not valid %(encoding)s text.") % {"encoding": encoding}
            ) from exc
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError as exc:
            raise _parse_error(_("The request body is nested too deeply.")) from exc
        except ValueError as exc:
            raise _parse_error() from exc
        if json_depth_exceeds(data, self.max_depth):
            raise _parse_error(_("The request body is nested too deeply."))
        return data
