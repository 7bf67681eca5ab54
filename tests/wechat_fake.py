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


# --- the assistant: WeChat pushing members' messages, customerServiceMessage.send -------------

CUSTOMER_SERVICE_SEND = "/cgi-bin/message/custom/send"


class CustomerService:
    """The fake ``customerServiceMessage.send``: records every message it accepts
    (``sent``: the JSON bodies) and answers with the errcodes queued in ``fail_with`` first
    (an int is a WeChat errcode, ``"http500"`` an HTTP 500), then ``{"errcode": 0}``."""

    def __init__(self, server):
        self.sent: list[dict] = []
        self.fail_with: list[int | str] = []
        self.calls = 0
        server.expect_request(CUSTOMER_SERVICE_SEND, method="POST").respond_with_handler(
            self._handle
        )

    def _handle(self, request: Request) -> Response:
        self.calls += 1
        if request.args.get("access_token") != WECHAT_TEST_ACCESS_TOKEN:
            return wechat_json({"errcode": 40001, "errmsg": "invalid credential"})
        if self.fail_with:
            failure = self.fail_with.pop(0)
            if failure == "http500":
                return Response("busy", status=500)
            return wechat_json({"errcode": failure, "errmsg": f"error {failure}"})
        self.sent.append(json.loads(request.get_data()))
        return wechat_json({"errcode": 0, "errmsg": "ok"})

    def texts(self) -> list[str]:
        return [body["text"]["content"] for body in self.sent if body.get("msgtype") == "text"]


def wechat_push(client, fields: dict, *, fmt: str | None = None, tamper: str = ""):
    """POST ``fields`` to our ``/wechat/push`` as WeChat does in safe mode: encrypted with the
    settings' EncodingAESKey for their appid and signed with their token. ``tamper``:
    "signature" (a wrong msg_signature), "body" (another ciphertext than the one signed),
    "plain" (no encryption, as the plain mode would send)."""
    import secrets
    import time

    from django.conf import settings

    from assistant.push import configured_crypto, seal_push

    fmt = fmt or settings.WECHAT_PUSH_FORMAT
    crypto = configured_crypto()
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    query, body = seal_push(crypto=crypto, fields=fields, fmt=fmt, timestamp=timestamp, nonce=nonce)
    if tamper == "signature":
        query["msg_signature"] = "0" * 40
    elif tamper == "body":
        _other, body = seal_push(
            crypto=crypto, fields=fields, fmt=fmt, timestamp=timestamp, nonce=nonce
        )
    elif tamper == "plain":
        query.pop("encrypt_type")
        query.pop("msg_signature")
        body = json.dumps(fields).encode()
    from urllib.parse import urlencode

    content_type = "application/json" if fmt == "json" else "text/xml"
    return client.post(f"/wechat/push?{urlencode(query)}", data=body, content_type=content_type)
