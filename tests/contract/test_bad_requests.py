"""Inputs that used to answer 500 now answer 4xx/503 in the one error shape, before any work."""

from __future__ import annotations

import json

import pytest

from community.models import User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000  # under 2 KB, deeper than Python's recursion limit


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"type", "errors"} and body["errors"], body
    assert body["errors"][0]["code"] == code, body
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/auth/wechat"),
        ("PATCH", "/api/v1/me"),
        ("POST", "/api/v1/communities/join/invite"),
    ],
)
def test_deeply_nested_json_is_a_parse_error(member, method, path):
    _membership, client = member
    assert len(DEEP) < 2048
    response = client.generic(method, path, DEEP, content_type="application/json")
    body = assert_error(response, 400, "parse_error")
    assert body["type"] == "client_error"


def test_nesting_is_refused_before_a_serializer_sees_it(member):
    """33 levels parse fine in Python but no request of this API nests that deep."""
    membership, client = member
    nested = {"nickname": "x"}
    for _ in range(40):
        nested = {"a": nested}
    response = client.patch("/api/v1/me", nested, format="json")
    assert_error(response, 400, "parse_error")


def test_parse_error_message_is_translated(member):
    _membership, client = member
    zh = client.generic("PATCH", "/api/v1/me", "{bad", content_type="application/json")
    en = client.generic(
        "PATCH", "/api/v1/me", "{bad", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert (
        assert_error(zh, 400, "parse_error")["errors"][0]["detail"] == "请求正文不是有效的 JSON。"
    )
    assert assert_error(en, 400, "parse_error")["errors"][0]["detail"] == (
        "The request body is not valid JSON."
    )


def test_undecodable_body_is_a_parse_error(member):
    _membership, client = member
    response = client.generic(
        "PATCH", "/api/v1/me", b'{"nickname": "\xff\xfe"}', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_body_over_the_upload_limit_is_413(member, settings):
    settings.DEBUG = False
    membership, client = member
    body = json.dumps({"nickname": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.generic("PATCH", "/api/v1/me", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")
    membership.user.refresh_from_db()
    assert membership.user.nickname != "x" * 10


def test_body_over_the_upload_limit_is_413_in_development_too(member, settings):
    """With DEBUG=1 drf-standardized-errors leaves non-API exceptions to Django's HTML page."""
    settings.DEBUG = True
    _membership, client = member
    body = json.dumps({"nickname": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.generic("PATCH", "/api/v1/me", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")


@pytest.fixture
def no_wechat(settings):
    settings.WECHAT_APPID = ""
    settings.WECHAT_SECRET = ""


def test_login_without_wechat_credentials_is_503(api_client, no_wechat):
    response = api_client.post("/api/v1/auth/wechat", {"code": "abc"}, format="json")
    body = assert_error(response, 503, "wechat_not_configured")
    assert body["type"] == "server_error"
    assert not User.objects.exists()


def test_share_code_without_wechat_credentials_is_503(make_member, no_wechat):
    admin, client = make_member(tier="admin")
    response = client.get(f"/api/v1/communities/{admin.community_id}/share-code")
    assert_error(response, 503, "wechat_not_configured")


def test_a_user_without_wechat_credentials_still_signs_out(member, no_wechat):
    membership, _client = member
    client = client_for(membership.user)
    assert client.post("/api/v1/auth/logout").status_code == 204


@pytest.mark.parametrize("opens_at", ["0100-05-16T09:36:02.9+23:56", "9999-12-31T23:59:59+00:00"])
def test_poll_times_far_from_now_are_refused(make_member, opens_at):
    """Year 100 rendered in Asia/Shanghai has the offset +08:05:43, which is no RFC 3339
    date-time (found by the schemathesis run); year 9999 overflows when converted."""
    moderator, client = make_member(tier="moderator")
    response = client.post(
        f"/api/v1/communities/{moderator.community_id}/polls",
        {"title": "t", "kind": "proposal", "opens_at": opens_at, "closes_at": "2196-11-02T07:46"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "opens_at"


def test_control_drf_json_parser_crashes_on_the_same_body():
    """Without our parser the body above is a RecursionError (a 500), not a ParseError."""
    from io import BytesIO

    from rest_framework.exceptions import ParseError
    from rest_framework.parsers import JSONParser

    from community.parsers import SafeJSONParser

    with pytest.raises(RecursionError):
        JSONParser().parse(BytesIO(DEEP.encode()))
    with pytest.raises(ParseError):
        SafeJSONParser().parse(BytesIO(DEEP.encode()))
