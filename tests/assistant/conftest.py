"""The assistant's tests: WeChat's push configured (safe mode), a fake WeChat that screens
texts (passes all but those containing ``RISKY``/``REVIEW``) and takes customer-service
messages."""

from __future__ import annotations

import itertools
import json

import pytest
from django.test import Client
from werkzeug import Request

from tests.wechat_fake import CustomerService, wechat_json

RISKY = "加我微信领红包"
REVIEW = "需要人工看看"
TEST_AES_KEY = "TestPushKey0123456789abcdefghijklmnopqrstuv"
_ids = itertools.count(7_000_000_000_000_000_000)


@pytest.fixture(autouse=True)
def push_settings(settings):
    settings.WECHAT_PUSH_TOKEN = "test-push-token"
    settings.WECHAT_PUSH_AES_KEY = TEST_AES_KEY
    settings.WECHAT_PUSH_FORMAT = "json"
    settings.WECHAT_CONTENT_CHECK = True
    return settings


@pytest.fixture
def wechat(wechat_server):
    """The fake WeChat: ``wechat.cs`` the customer-service endpoint, ``wechat.checks`` the
    texts screened, ``wechat.check_down`` makes msgSecCheck answer HTTP 500."""

    class Fake:
        cs = CustomerService(wechat_server)
        checks: list[str] = []
        check_down = False
        server = wechat_server

    def check(request: Request):
        body = json.loads(request.get_data())
        Fake.checks.append(body["content"])
        if Fake.check_down:
            return wechat_json({"errcode": -1, "errmsg": "system busy"}, status=500)
        suggest = "pass"
        if RISKY in body["content"]:
            suggest = "risky"
        elif REVIEW in body["content"]:
            suggest = "review"
        return wechat_json({"errcode": 0, "result": {"suggest": suggest, "label": 100}})

    wechat_server.expect_request("/wxa/msg_sec_check", method="POST").respond_with_handler(check)
    return Fake


@pytest.fixture
def push_client() -> Client:
    """What WeChat uses to reach us: no credentials."""
    return Client()


def text_push(user, content: str, *, msg_id: int | None = None, create_time: int | None = None):
    """The fields of a text message ``user`` writes in the customer-service chat."""
    import time

    return {
        "ToUserName": "gh_test",
        "FromUserName": user.openid,
        "CreateTime": create_time or int(time.time()),
        "MsgType": "text",
        "Content": content,
        "MsgId": str(msg_id or next(_ids)),
    }


def enter_push(user, session_from: str, *, create_time: int | None = None):
    """The ``user_enter_tempsession`` event: the member opened the chat from a contact button."""
    import time

    return {
        "ToUserName": "gh_test",
        "FromUserName": user.openid,
        "CreateTime": create_time or int(time.time()),
        "MsgType": "event",
        "Event": "user_enter_tempsession",
        "SessionFrom": session_from,
    }
