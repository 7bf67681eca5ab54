"""A small fake API for the derivation tests: a view, a "services" module attribute, helpers
that build errors from their parameters, a dynamic ``type(self).service`` and a recursion."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.views import APIView

from community.authz import Action, require
from community.errors import Conflict, DomainError, NotFound, UpstreamUnavailable
from tests.contract import fake_services as services


class FilterIn(serializers.Serializer):
    size = serializers.IntegerField(min_value=1, required=False)


def _bad(message: str, code: str, field: str) -> DomainError:
    return DomainError(message, code=code, field=field)


def _check_name(name: str, field: str = "name") -> None:
    if not name:
        raise _bad("empty", "name_empty", field)


def _again(depth: int) -> None:
    if depth:
        _again(depth - 1)
    raise Conflict("loop", code="looped")


class FakeView(APIView):
    service = staticmethod(services.thing_archive)

    def get(self, request, thing_id: str):
        FilterIn(data=request.query_params).is_valid(raise_exception=True)
        raise NotFound("missing")

    def post(self, request, thing_id: str):
        require(request.user, thing_id, Action.MANAGE)
        _check_name(request.data.get("name", ""))
        _check_name(request.data.get("title", ""), "title")
        services.thing_create(name="x")
        _again(2)
        return type(self).service(thing_id=thing_id)

    def delete(self, request, thing_id: str):
        # constructed but never raised here: still counted (the walk over-approximates)
        UpstreamUnavailable("later")
        return None
