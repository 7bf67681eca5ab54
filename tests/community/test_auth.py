"""WeChat login, tokens (hashed, expiring, revocable), the development login, throttling."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import AuthToken, User, WeChatSession
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SESSION_KEY = "c2Vzc2lvbi1rZXktMTIzNA=="


def expect_code2session(server, *, code: str = "good-code", body: dict | None = None):
    server.expect_request(
        "/sns/jscode2session",
        query_string={
            "appid": "wx-test-appid",
            "secret": "test-app-secret",
            "js_code": code,
            "grant_type": "authorization_code",
        },
    ).respond_with_json(body or {"openid": "o-alice", "session_key": SESSION_KEY})


def test_wechat_login_returns_token_and_keeps_session_key_server_side(
    api_client, wechat_server, caplog
):
    expect_code2session(wechat_server)
    with caplog.at_level(logging.DEBUG):
        response = api_client.post("/api/v1/auth/wechat", {"code": "good-code"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "expires_at", "user"}
    assert SESSION_KEY not in response.content.decode()
    assert SESSION_KEY not in caplog.text
    assert "test-app-secret" not in caplog.text

    user = User.objects.get(openid="o-alice")
    assert body["user"]["id"] == user.pk
    assert WeChatSession.objects.get(user=user).session_key == SESSION_KEY

    # Hashed at rest: the raw token is not stored, its SHA-256 is.
    stored = AuthToken.objects.get(user=user)
    assert stored.key_hash != body["token"]
    assert stored.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()

    me = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json()["id"] == user.pk


def test_second_login_reuses_the_user_and_refreshes_session_key(api_client, wechat_server):
    expect_code2session(wechat_server, code="c1")
    expect_code2session(
        wechat_server,
        code="c2",
        body={"openid": "o-alice", "session_key": "bmV3LWtleS0xMjM0NTY3OA=="},
    )
    api_client.post("/api/v1/auth/wechat", {"code": "c1"}, format="json")
    api_client.post("/api/v1/auth/wechat", {"code": "c2"}, format="json")
    assert User.objects.filter(openid="o-alice").count() == 1
    assert WeChatSession.objects.get().session_key == "bmV3LWtleS0xMjM0NTY3OA=="


@pytest.mark.parametrize(
    ("errcode", "status", "code"),
    [
        (40029, 400, "invalid_code"),
        (40163, 400, "code_used"),
        (45011, 429, "wechat_rate_limited"),
        (40226, 403, "user_blocked"),
    ],
)
def test_wechat_login_errors_map_to_clear_api_errors(
    api_client, wechat_server, errcode, status, code
):
    expect_code2session(wechat_server, body={"errcode": errcode, "errmsg": "nope"})
    response = api_client.post("/api/v1/auth/wechat", {"code": "good-code"}, format="json")
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["code"] == code
    assert error["detail"]
    assert not User.objects.exists()


def test_login_validates_input(api_client):
    response = api_client.post("/api/v1/auth/wechat", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == "code"


def test_logout_revokes_the_token(member):
    _membership, client = member
    assert client.get("/api/v1/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_expired_token_is_refused(member):
    membership, client = member
    AuthToken.objects.filter(user=membership.user).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/api/v1/me").status_code == 401


def test_no_token_and_garbage_token_are_refused(api_client):
    assert api_client.get("/api/v1/me").status_code == 401
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401


def test_deactivated_user_is_refused(member):
    membership, client = member
    User.objects.filter(pk=membership.user_id).update(is_active=False)
    assert client.get("/api/v1/me").status_code == 401


def test_dev_login_is_closed_without_debug(api_client, settings):
    settings.DEV_LOGIN_ENABLED = False
    response = api_client.post("/api/v1/auth/dev", {"nickname": "小张"}, format="json")
    assert response.status_code == 404
    assert not User.objects.exists()


def test_dev_login_works_with_debug(api_client, settings):
    settings.DEV_LOGIN_ENABLED = True
    response = api_client.post("/api/v1/auth/dev", {"nickname": "小张"}, format="json")
    assert response.status_code == 200
    assert response.json()["user"]["nickname"] == "小张"


def test_login_is_throttled(api_client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.DEV_LOGIN_ENABLED = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "3/min", "writes": "100/min"},
    }
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    previous = SimpleRateThrottle.THROTTLE_RATES  # read once at import: restore it for the others
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        codes = [
            api_client.post("/api/v1/auth/dev", {"nickname": "x"}, format="json").status_code
            for _ in range(4)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = previous
        cache.clear()
    assert codes == [200, 200, 200, 429]


def test_profile_update_runs_content_check(member, wechat_server):
    membership, client = member
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "risky", "label": 20001}}
    )
    response = client.patch("/api/v1/me", {"nickname": "坏名字"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "content_risky",
        "detail": "此内容无法发布，请修改后再试。",
        "attr": "nickname",
    }
    membership.user.refresh_from_db()
    assert membership.user.nickname != "坏名字"


def test_profile_update(member, wechat_server):
    membership, client = member
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
    )
    response = client.patch(
        "/api/v1/me",
        {"nickname": "小王", "avatar_url": "https://img.example.com/a.png"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["nickname"] == "小王"
    assert client.patch("/api/v1/me", {"avatar_url": "not a url"}, format="json").status_code == 400


def test_errors_are_chinese_by_default_and_english_on_request(api_client):
    zh = api_client.get("/api/v1/me")
    en = api_client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["errors"][0]["detail"] == "身份认证信息未提供。"
    assert en.json()["errors"][0]["detail"] == "Authentication credentials were not provided."


def test_client_for_helper_tokens_are_independent(member):
    membership, client = member
    other = client_for(membership.user)
    client.post("/api/v1/auth/logout")
    assert other.get("/api/v1/me").status_code == 200
