"""Plain serializers bound once per class, for the hot endpoints (votes, submits, moves).

``Serializer(...)`` deep-copies its declared fields and binds them on every instantiation,
which costs a hot endpoint more CPU than validating or writing its small body does. The fields
of a plain ``Serializer`` (no ``ModelSerializer`` unique-together validators, no context) keep
no per-call state once bound, so one bound instance per class serves every request and thread:
:func:`validated` runs the same validation as ``is_valid(raise_exception=True)`` (the same
``ValidationError`` detail, so the same error body) and :func:`represent` gives what ``.data``
would. The serializer classes stay the contract (``extend_schema`` names them); only the
per-request copies are saved."""

from __future__ import annotations

from functools import cache
from typing import Any

from rest_framework import serializers


@cache
def _bound(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    instance = serializer_class()
    _ = instance.fields  # bind now, once, not concurrently in two first requests
    return instance


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """``data`` validated by ``serializer_class``; raises ``ValidationError`` as
    ``serializer_class(data=data).is_valid(raise_exception=True)`` would."""
    return _bound(serializer_class).run_validation(data)


def represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict[str, Any]:
    """``serializer_class(instance).data``."""
    return _bound(serializer_class).to_representation(instance)
