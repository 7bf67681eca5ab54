"""A fake WeChat API server for tests (pytest-httpserver), shared by every test package."""

from __future__ import annotations

import json
import logging

import pytest
from werkzeug import Request, Response

from community.wechat import get_client

#: The access token the ``wechat_server`` fixture's default ``stable_token`` handler hands out.
WECHAT_TEST_ACCESS_TOKEN = "test-access-token-0123456789"


def wechat_json(payload: dict, status: int = 200) -> Response:
    """A JSON answer as WeChat sends it (labelled text/plain, as some WeChat endpoints do)."""
    return Response(
        json.dumps(payload, ensure_ascii=False), status=status, content_type="text/plain"
    )


@pytest.fixture
def wechat_server(httpserver, settings):
    """A fake WeChat API: pytest-httpserver's ``httpserver`` with ``settings.WECHAT_API_BASE``
    pointing at it, so ``community.wechat.get_client()`` talks to it.

    It already answers ``POST /cgi-bin/stable_token``: with ``WECHAT_TEST_ACCESS_TOKEN``
    (``expires_in`` 7200) when the JSON body carries ``grant_type=client_credential`` and the
    settings' ``WECHAT_APPID``/``WECHAT_SECRET``, else with WeChat's errcode (40002, 40013,
    40125). The cached access token is cleared before and after the test.

    Add the endpoints your test needs, e.g.::

        wechat_server.expect_request("/sns/jscode2session", method="GET").respond_with_json(
            {"openid": "o-1", "session_key": "...", "unionid": ""}
        )
        wechat_server.expect_request("/wxa/msg_sec_check", method="POST").respond_with_json(
            {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
        )

    Oneshot and ordered handlers take precedence over the default token handler; to replace it
    for good, call ``wechat_server.clear_all_handlers()`` first. ``wechat_server.log`` lists the
    requests received. A request without a handler gets HTTP 500 (which the client retries and
    then reports as ``WeChatUnavailable``); call ``wechat_server.check_assertions()`` to fail on
    such requests.

    The fake server's own access log (logger ``werkzeug``, INFO) is silenced meanwhile: it prints
    request URLs with the app secret and login code, as WeChat's own logs would, and would
    otherwise show up in ``caplog`` of tests checking that *we* never log them.
    """
    settings.WECHAT_API_BASE = httpserver.url_for("/")
    appid, secret = settings.WECHAT_APPID, settings.WECHAT_SECRET

    def stable_token(request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        if body.get("grant_type") != "client_credential":
            return wechat_json({"errcode": 40002, "errmsg": "invalid grant_type"})
        if body.get("appid") != appid:
            return wechat_json({"errcode": 40013, "errmsg": "invalid appid"})
        if body.get("secret") != secret:
            return wechat_json({"errcode": 40125, "errmsg": "invalid appsecret"})
        return wechat_json({"access_token": WECHAT_TEST_ACCESS_TOKEN, "expires_in": 7200})

    httpserver.expect_request("/cgi-bin/stable_token", method="POST").respond_with_handler(
        stable_token
    )
    server_log = logging.getLogger("werkzeug")
    server_log_level = server_log.level
    server_log.setLevel(logging.WARNING)
    get_client().invalidate_access_token()
    try:
        yield httpserver
    finally:
        get_client().invalidate_access_token()
        server_log.setLevel(server_log_level)
