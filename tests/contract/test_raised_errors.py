"""The contract's error list is derived from the code: unit tests of the derivation on a fake
view, and a code raised in a real service appearing in its operation's schema."""

from __future__ import annotations

import pytest

from community.raised_errors import ANY_ATTR, RaisedError, raised_errors
from tests.contract.fake_views import FakeView, FilterIn
from tests.contract.schema import load_yaml


def errors(method: str) -> set[RaisedError]:
    return raised_errors(getattr(FakeView, method), FakeView).errors


def test_collects_errors_through_module_attributes_helpers_and_class_attributes():
    found = errors("post")
    # services.thing_create (a module attribute), its helper that returns the error
    assert RaisedError(403, "name_reserved") in found
    assert RaisedError(409, "thing_locked") in found
    # type(self).service -> services.thing_archive: Conflict without code -> default_code
    assert RaisedError(409, "conflict") in found
    # a recursive helper is visited once and still counted
    assert RaisedError(409, "looped") in found


def test_field_errors_become_validation_errors_of_that_attr_through_parameters():
    found = errors("post")
    # _check_name(..) passes its default "name", _check_name(.., "title") passes "title",
    # down to _bad(message, code, field) -> DomainError(code=code, field=field)
    assert RaisedError(400, "name_empty", "name") in found
    assert RaisedError(400, "name_empty", "title") in found
    assert not any(e.code == "name_empty" and e.attr in (None, ANY_ATTR) for e in found)


def test_authz_denials_are_collected():
    codes = {(e.status, e.code) for e in errors("post")}
    assert {(404, "not_found"), (403, "muted"), (403, "tier_too_low")} <= codes
    assert (403, "rules_not_accepted") in codes


def test_query_serializers_and_plain_constructions():
    derived = raised_errors(FakeView.get, FakeView)
    assert derived.serializers == {FilterIn}
    assert derived.errors == {RaisedError(404, "not_found")}
    assert errors("delete") == {RaisedError(503, "wechat_unavailable")}


@pytest.fixture(scope="module")
def schema(generated_openapi) -> dict:
    """The contract as generated from the code now (not the committed file)."""
    return load_yaml(generated_openapi)


def _codes(schema: dict, path: str, method: str, status: str) -> set[str]:
    components = schema["components"]["schemas"]
    ref = schema["paths"][path][method]["responses"][status]["content"]["application/json"]
    response = components[ref["schema"]["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in response:  # 400: validation_error | client_error
        variants = [components[v["$ref"].rsplit("/", 1)[1]] for v in response["oneOf"]]
    else:
        variants = [response]
    codes = set()
    for variant in variants:
        items = variant["properties"]["errors"]["items"]
        if "$ref" in items:
            items = components[items["$ref"].rsplit("/", 1)[1]]
        for item in items.get("oneOf", [items]):
            if "$ref" in item:
                item = components[item["$ref"].rsplit("/", 1)[1]]
            codes.update(item["properties"]["code"]["enum"])
    return codes


def test_a_code_raised_in_a_service_is_in_its_operations_schema(schema):
    ballot = "/api/v1/polls/{poll_id}/ballot"
    # polls.services.ballots raises these; the view only calls services.ballot_cast
    assert {"poll_closed", "vote_change_not_allowed", "receipt_required"} <= _codes(
        schema, ballot, "put", "409"
    )
    # authz (through the poll selector) answers these
    assert {"muted", "tier_too_low", "rules_not_accepted"} <= _codes(schema, ballot, "put", "403")
    # a service error with field= is a validation error of that attr
    assert "receipt_too_short" in _codes(schema, ballot, "put", "400")
    # the survey selector/service answers no_response, the community service invalid_invite_code
    assert "no_response" in _codes(schema, "/api/v1/surveys/{survey_id}/response", "get", "404")
    assert "invalid_invite_code" in _codes(schema, "/api/v1/communities/join/invite", "post", "404")
    # WeChat without credentials
    assert "wechat_not_configured" in _codes(schema, "/api/v1/auth/wechat", "post", "503")
    # query-parameter validation of the poll list
    assert "invalid_choice" in _codes(
        schema, "/api/v1/communities/{community_id}/polls", "get", "400"
    )


def test_bodies_document_413_and_every_operation_503(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            assert "database_unavailable" in _codes(schema, path, method, "503"), (method, path)
            if "requestBody" in op:
                assert _codes(schema, path, method, "413") == {"request_too_large"}, (method, path)
