"""The WeChat server-API client against a local fake WeChat (pytest-httpserver, real HTTP)."""

from __future__ import annotations

import base64
import json
import logging
import pickle
import threading
import time
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils import translation
from werkzeug import Request, Response

from community.errors import DomainError, Forbidden, TooManyRequests, UpstreamUnavailable
from community.wechat import (
    Code2Session,
    DecryptError,
    SecCheck,
    WeChatClient,
    WeChatError,
    WeChatUnavailable,
    as_domain_error,
    decrypt_data,
    encrypt_data,
    get_client,
)
from community.wechat.errors import (
    ERRCODE_HTTP_STATUS,
    ERRCODE_NETWORK,
    ERRCODE_TIMEOUT,
    TOKEN_ERRCODES,
)
from tests.conftest import redis_test_url
from tests.waiting import wait_for
from tests.wechat_fake import WECHAT_TEST_ACCESS_TOKEN, wechat_json

APPID = "wx-test-appid"
SECRET = "test-app-secret"
LOGIN_CODE = "login-code-5f1c2a"
SESSION_KEY = base64.b64encode(b"0123456789abcdef").decode()


def requests_to(server, path: str) -> list[Request]:
    return [request for request, _ in server.log if request.path == path]


def json_body(request: Request) -> dict:
    return json.loads(request.get_data())


def answer_in_turn(*payloads: dict):
    """A handler answering the given JSON payloads one after the other (the last one repeats)."""
    remaining = list(payloads)

    def handler(request: Request) -> Response:
        return wechat_json(remaining.pop(0) if len(remaining) > 1 else remaining[0])

    return handler


def session_ok(**extra) -> dict:
    return {"openid": "o-member-1", "session_key": SESSION_KEY, **extra}


# --- code2session --------------------------------------------------------------------------------


def test_code2session_sends_credentials_and_parses_answer(wechat_server):
    wechat_server.expect_request(
        "/sns/jscode2session",
        method="GET",
        query_string={
            "appid": APPID,
            "secret": SECRET,
            "js_code": LOGIN_CODE,
            "grant_type": "authorization_code",
        },
    ).respond_with_response(wechat_json(session_ok(unionid="u-1")))

    session = get_client().code2session(LOGIN_CODE)

    assert session == Code2Session(openid="o-member-1", session_key=SESSION_KEY, unionid="u-1")
    assert SESSION_KEY not in repr(session)
    wechat_server.check_assertions()
    assert len(requests_to(wechat_server, "/sns/jscode2session")) == 1


def test_code2session_without_unionid(wechat_server):
    wechat_server.expect_request("/sns/jscode2session").respond_with_json(session_ok())
    assert get_client().code2session(LOGIN_CODE).unionid == ""


@pytest.mark.parametrize(
    ("errcode", "error_class", "status", "code"),
    [
        (40029, DomainError, 400, "invalid_code"),
        (40163, DomainError, 400, "code_used"),
        (45011, TooManyRequests, 429, "wechat_rate_limited"),
        (40226, Forbidden, 403, "user_blocked"),
        (40125, UpstreamUnavailable, 503, "wechat_error"),
    ],
)
def test_code2session_errors_map_to_domain_errors(
    wechat_server, errcode, error_class, status, code
):
    wechat_server.expect_request("/sns/jscode2session").respond_with_response(
        wechat_json({"errcode": errcode, "errmsg": f"some error, rid: 65a-{errcode}"})
    )

    with pytest.raises(WeChatError) as caught:
        get_client().code2session(LOGIN_CODE)

    exc = caught.value
    assert exc.errcode == errcode
    assert not exc.transient
    assert "/sns/jscode2session" in str(exc) and "?" not in str(exc)
    with translation.override("en"):
        domain = as_domain_error(exc)
    assert type(domain) is error_class
    assert domain.status_code == status
    assert domain.code == code
    assert domain.message.endswith(".")
    # Not transient: asked once (45011 "minute quota reached" above all must not be retried).
    assert len(requests_to(wechat_server, "/sns/jscode2session")) == 1


def test_domain_messages_are_english_source_strings():
    with translation.override("en"):
        domain = as_domain_error(WeChatError(40163, "code been used"))
    assert domain.message == "This login code was already used. Please sign in again."
    assert as_domain_error(WeChatUnavailable(ERRCODE_TIMEOUT)).code == "wechat_busy"
    assert as_domain_error(WeChatError(-1)).status_code == 503


def test_busy_is_retried_then_succeeds(wechat_server):
    wechat_server.expect_ordered_request("/sns/jscode2session").respond_with_json(
        {"errcode": -1, "errmsg": "system error"}
    )
    wechat_server.expect_ordered_request("/sns/jscode2session").respond_with_json(session_ok())

    assert get_client().code2session(LOGIN_CODE).openid == "o-member-1"
    assert len(requests_to(wechat_server, "/sns/jscode2session")) == 2
    wechat_server.check_assertions()


def test_busy_every_time_gives_up_after_retries(wechat_server, settings):
    settings.WECHAT_RETRIES = 2
    wechat_server.expect_request("/sns/jscode2session").respond_with_json(
        {"errcode": -1, "errmsg": "system error"}
    )

    with pytest.raises(WeChatUnavailable) as caught:
        get_client().code2session(LOGIN_CODE)

    assert caught.value.errcode == -1
    assert as_domain_error(caught.value).code == "wechat_busy"
    assert len(requests_to(wechat_server, "/sns/jscode2session")) == 3


def test_http_5xx_is_retried_then_reported_unavailable(wechat_server):
    wechat_server.expect_request("/sns/jscode2session").respond_with_data("bad gateway", 502)

    with pytest.raises(WeChatUnavailable) as caught:
        get_client().code2session(LOGIN_CODE)

    assert caught.value.errcode == ERRCODE_HTTP_STATUS
    assert caught.value.http_status == 502
    assert len(requests_to(wechat_server, "/sns/jscode2session")) == 2  # WECHAT_RETRIES = 1


def test_timeout_gives_unavailable_after_retries_in_bounded_time(wechat_server, settings):
    settings.WECHAT_TIMEOUT = 0.2
    release = threading.Event()
    received = []
    held_until_released = []

    def slow(request: Request) -> Response:
        received.append(request.path)
        # True when the test released it: the client had given up while WeChat still held
        # the request (False after 30 s would mean the client waited for the answer).
        held_until_released.append(release.wait(30))
        return wechat_json(session_ok())

    wechat_server.expect_request("/sns/jscode2session").respond_with_handler(slow)
    try:
        with pytest.raises(WeChatUnavailable) as caught:
            get_client().code2session(LOGIN_CODE)
        # The fake server handles one request at a time: the retry is still waiting behind
        # the first, so the client gave up on both without any answer.
        assert len(received) == 1
    finally:
        release.set()  # do not keep the (single-threaded) fake server busy for the next test

    assert caught.value.errcode == ERRCODE_TIMEOUT
    assert caught.value.transient
    with translation.override("en"):
        domain = as_domain_error(caught.value)
    assert (domain.status_code, domain.code) == (503, "wechat_busy")
    assert domain.message == "WeChat is busy. Please try again in a moment."
    # The fake server handles one request at a time: the retry reaches it once released.
    wait_for(lambda: len(received) == 2, timeout=10)
    assert held_until_released == [True, True]


def test_unreachable_server_is_unavailable(settings):
    settings.WECHAT_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens there
    with pytest.raises(WeChatUnavailable) as caught:
        get_client().code2session(LOGIN_CODE)
    assert caught.value.errcode == ERRCODE_NETWORK
    assert "127.0.0.1" not in str(caught.value)


def test_get_client_reads_settings_at_call_time(settings):
    settings.WECHAT_API_BASE = "http://one.example/"
    assert get_client().base_url == "http://one.example"
    settings.WECHAT_API_BASE = "http://two.example"
    assert get_client().base_url == "http://two.example"
    assert SECRET not in repr(get_client())


# --- access token --------------------------------------------------------------------------------


def test_access_token_is_fetched_once_and_cached(wechat_server):
    client = get_client()
    assert client.get_access_token() == WECHAT_TEST_ACCESS_TOKEN
    assert get_client().get_access_token() == WECHAT_TEST_ACCESS_TOKEN

    (request,) = requests_to(wechat_server, "/cgi-bin/stable_token")
    assert json_body(request) == {
        "grant_type": "client_credential",
        "appid": APPID,
        "secret": SECRET,
        "force_refresh": False,
    }
    assert request.query_string == b""


def test_token_calls_reuse_the_cached_token(wechat_server):
    wechat_server.expect_request(
        "/wxa/msg_sec_check", query_string={"access_token": WECHAT_TEST_ACCESS_TOKEN}
    ).respond_with_json({"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}})
    client = get_client()
    for _ in range(2):
        client.msg_sec_check(content="hello", openid="o-1", scene=2)

    assert len(requests_to(wechat_server, "/cgi-bin/stable_token")) == 1
    assert len(requests_to(wechat_server, "/wxa/msg_sec_check")) == 2


@pytest.mark.parametrize("errcode", sorted(TOKEN_ERRCODES))
def test_rejected_token_is_refreshed_once_and_call_retried(wechat_server, errcode):
    wechat_server.clear_all_handlers()

    def stable_token(request: Request) -> Response:
        forced = json_body(request)["force_refresh"]
        return wechat_json(
            {"access_token": "token-new" if forced else "token-old", "expires_in": 7200}
        )

    def sec_check(request: Request) -> Response:
        if request.args["access_token"] != "token-new":
            return wechat_json({"errcode": errcode, "errmsg": "invalid credential"})
        return wechat_json({"errcode": 0, "result": {"suggest": "pass", "label": 100}})

    wechat_server.expect_request("/cgi-bin/stable_token").respond_with_handler(stable_token)
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_handler(sec_check)
    client = get_client()

    assert client.msg_sec_check(content="hello", openid="o-1", scene=1).passed

    token_requests = requests_to(wechat_server, "/cgi-bin/stable_token")
    assert [json_body(r)["force_refresh"] for r in token_requests] == [False, True]
    assert len(requests_to(wechat_server, "/wxa/msg_sec_check")) == 2
    assert client.get_access_token() == "token-new"  # cached, no third token request
    assert len(requests_to(wechat_server, "/cgi-bin/stable_token")) == 2


def test_token_rejected_twice_is_an_error(wechat_server):
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_json(
        {"errcode": 40001, "errmsg": "invalid credential"}
    )
    with pytest.raises(WeChatError) as caught:
        get_client().msg_sec_check(content="hello", openid="o-1", scene=1)
    assert caught.value.errcode == 40001
    assert len(requests_to(wechat_server, "/wxa/msg_sec_check")) == 2


def _redis_cache(prefix: str) -> RedisCache:
    return RedisCache(redis_test_url(), {"KEY_PREFIX": prefix})


@pytest.fixture(params=["locmem", "redis"])
def shared_cache_factory(request):
    """Makes independent cache instances over one store (one per simulated process)."""
    if request.param == "locmem":
        location = f"wechat-lock-{uuid.uuid4().hex}"
        yield lambda: LocMemCache(location, {})
        return
    import redis

    try:
        redis.Redis.from_url(redis_test_url(), socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        pytest.skip(
            f"Redis is not reachable at {redis_test_url()} ({type(exc).__name__}); start it"
        )
    prefix = f"wechat-test-{uuid.uuid4().hex}"
    keys = [f"wechat:access_token:{APPID}", f"wechat:access_token:{APPID}:lock"]
    _redis_cache(prefix).delete_many(keys)
    yield lambda: _redis_cache(prefix)
    _redis_cache(prefix).delete_many(keys)


def test_concurrent_refresh_makes_one_token_request(wechat_server, settings, shared_cache_factory):
    wechat_server.clear_all_handlers()
    calls = []

    def slow_stable_token(request: Request) -> Response:
        calls.append(json_body(request))
        time.sleep(0.3)  # widen the race
        return wechat_json({"access_token": "token-shared", "expires_in": 7200})

    wechat_server.expect_request("/cgi-bin/stable_token").respond_with_handler(slow_stable_token)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker():
        client = WeChatClient(
            base_url=settings.WECHAT_API_BASE,
            appid=APPID,
            secret=SECRET,
            timeout=5,
            retries=0,
            cache=shared_cache_factory(),  # its own connection, like another process
        )
        barrier.wait()
        try:
            tokens.append(client.get_access_token())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert not errors
    assert tokens == ["token-shared"] * threads_count
    assert len(calls) == 1
    cache = shared_cache_factory()
    assert cache.get(f"wechat:access_token:{APPID}") == "token-shared"
    assert cache.get(f"wechat:access_token:{APPID}:lock") is None


def test_calls_go_on_when_the_token_cache_is_down(wechat_server, settings, caplog):
    """Redis down must not stop content checks, logins and notifications: the client asks
    WeChat for the (stable) token on each call instead, and warns."""
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
    )
    # Nothing listens on port 9 (discard): every cache operation fails to connect.
    down = RedisCache("redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    client = WeChatClient(
        base_url=settings.WECHAT_API_BASE,
        appid=APPID,
        secret=SECRET,
        timeout=2,
        retries=0,
        cache=down,
    )

    for _ in range(2):
        assert client.msg_sec_check(content="hello", openid="o-1", scene=2).passed

    # Without a cache each call fetches the token again (stable_token answers the same one).
    assert len(requests_to(wechat_server, "/cgi-bin/stable_token")) == 2
    assert "cache unavailable" in caplog.text
    assert WECHAT_TEST_ACCESS_TOKEN not in caplog.text


def test_token_ttl_keeps_a_safety_margin(wechat_server):
    wechat_server.clear_all_handlers()
    wechat_server.expect_request("/cgi-bin/stable_token").respond_with_json(
        {"access_token": "short", "expires_in": 7200}
    )
    cache = LocMemCache(f"wechat-ttl-{uuid.uuid4().hex}", {})
    client = WeChatClient(
        base_url=wechat_server.url_for("/"),
        appid=APPID,
        secret=SECRET,
        timeout=5,
        retries=0,
        cache=cache,
    )
    client.get_access_token()
    key = cache.make_and_validate_key(f"wechat:access_token:{APPID}")
    remaining = cache._expire_info[key] - time.time()
    assert 6890 < remaining <= 6900


# --- msg_sec_check, subscribe messages, QR codes ------------------------------------------------


def test_msg_sec_check_sends_v2_body_and_parses_suggest(wechat_server):
    text = "\u4f60\u597d, join us"
    wechat_server.expect_request("/wxa/msg_sec_check", method="POST").respond_with_json(
        {
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": "risky", "label": 20001},
            "detail": [{"strategy": "content_model", "errcode": 0, "suggest": "risky"}],
            "trace_id": "trace-1",
        }
    )

    result = get_client().msg_sec_check(content=text, openid="o-1", scene=3)

    assert result == SecCheck(suggest="risky", label=20001, trace_id="trace-1")
    assert not result.passed
    (request,) = requests_to(wechat_server, "/wxa/msg_sec_check")
    assert request.args["access_token"] == WECHAT_TEST_ACCESS_TOKEN
    assert json_body(request) == {"content": text, "version": 2, "scene": 3, "openid": "o-1"}
    assert text.encode("utf-8") in request.get_data()  # UTF-8, not \u escapes


@pytest.mark.parametrize("suggest", ["pass", "review"])
def test_msg_sec_check_other_verdicts(wechat_server, suggest):
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_json(
        {"errcode": 0, "result": {"suggest": suggest, "label": 100}}
    )
    assert get_client().msg_sec_check(content="x", openid="o", scene=2).suggest == suggest


def test_msg_sec_check_rejects_unknown_scene():
    client = WeChatClient(
        base_url="http://127.0.0.1:9",
        appid=APPID,
        secret=SECRET,
        timeout=1,
        retries=0,
        cache=LocMemCache("unused", {}),
    )
    with pytest.raises(ValueError):
        client.msg_sec_check(content="x", openid="o", scene=7)


def test_send_subscribe_message_body(wechat_server):
    wechat_server.expect_request(
        "/cgi-bin/message/subscribe/send",
        method="POST",
        query_string={"access_token": WECHAT_TEST_ACCESS_TOKEN},
    ).respond_with_json({"errcode": 0, "errmsg": "ok"})

    result = get_client().send_subscribe_message(
        openid="o-1",
        template_id="tmpl-test",
        data={"thing1": "Poll closed", "time2": "2025-01-01 10:00"},
        page="pages/poll/detail?id=p1",
        miniprogram_state="trial",
    )

    assert result is None
    (request,) = requests_to(wechat_server, "/cgi-bin/message/subscribe/send")
    assert json_body(request) == {
        "touser": "o-1",
        "template_id": "tmpl-test",
        "page": "pages/poll/detail?id=p1",
        "miniprogram_state": "trial",
        "lang": "zh_CN",
        "data": {"thing1": {"value": "Poll closed"}, "time2": {"value": "2025-01-01 10:00"}},
    }


def test_send_subscribe_message_is_not_retried_when_it_may_have_been_sent(wechat_server):
    wechat_server.expect_request("/cgi-bin/message/subscribe/send").respond_with_data("", 502)
    with pytest.raises(WeChatUnavailable):
        get_client().send_subscribe_message(openid="o-1", template_id="t", data={"thing1": "x"})
    assert len(requests_to(wechat_server, "/cgi-bin/message/subscribe/send")) == 1


def test_send_subscribe_message_not_subscribed(wechat_server):
    wechat_server.expect_request("/cgi-bin/message/subscribe/send").respond_with_json(
        {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
    )
    with pytest.raises(WeChatError) as caught:
        get_client().send_subscribe_message(openid="o-1", template_id="t", data={"thing1": "x"})
    assert caught.value.errcode == 43101


def test_unlimited_qrcode_returns_image_bytes(wechat_server):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    wechat_server.expect_request("/wxa/getwxacodeunlimit", method="POST").respond_with_data(
        png, content_type="image/png"
    )

    image = get_client().get_unlimited_qrcode(scene="c=abc123", page="pages/join/index")

    assert image == png
    (request,) = requests_to(wechat_server, "/wxa/getwxacodeunlimit")
    assert request.args["access_token"] == WECHAT_TEST_ACCESS_TOKEN
    assert json_body(request) == {
        "scene": "c=abc123",
        "page": "pages/join/index",
        "width": 430,
        "check_path": False,
        "env_version": "release",
    }


def test_unlimited_qrcode_json_error_raises(wechat_server):
    wechat_server.expect_request("/wxa/getwxacodeunlimit").respond_with_json(
        {"errcode": 41030, "errmsg": "invalid page rid: 1"}
    )
    with pytest.raises(WeChatError) as caught:
        get_client().get_unlimited_qrcode(scene="c=abc123")
    assert caught.value.errcode == 41030
    assert as_domain_error(caught.value).code == "wechat_error"


def test_unlimited_qrcode_validates_scene(wechat_server):
    client = get_client()
    with pytest.raises(ValueError):
        client.get_unlimited_qrcode(scene="x" * 33)
    with pytest.raises(ValueError):
        client.get_unlimited_qrcode(scene="")
    with pytest.raises(ValueError):
        client.get_unlimited_qrcode(scene="has space")
    assert wechat_server.log == []


# --- decryption ----------------------------------------------------------------------------------

IV = base64.b64encode(b"fedcba9876543210").decode()
SHARE_INFO = {"openGId": "tG-group-1", "watermark": {"appid": APPID, "timestamp": 1700000000}}


def test_decrypt_round_trip():
    encrypted = encrypt_data(session_key=SESSION_KEY, payload=SHARE_INFO, iv=IV)
    assert decrypt_data(session_key=SESSION_KEY, encrypted_data=encrypted, iv=IV, appid=APPID) == (
        SHARE_INFO
    )


def test_decrypt_wrong_appid():
    payload = {**SHARE_INFO, "watermark": {"appid": "wx-other", "timestamp": 1}}
    encrypted = encrypt_data(session_key=SESSION_KEY, payload=payload, iv=IV)
    with pytest.raises(DecryptError) as caught:
        decrypt_data(session_key=SESSION_KEY, encrypted_data=encrypted, iv=IV, appid=APPID)
    assert caught.value.code == "wrong_appid"
    assert caught.value.status_code == 400


def test_decrypt_without_watermark_is_refused():
    encrypted = encrypt_data(session_key=SESSION_KEY, payload={"openGId": "g"}, iv=IV)
    with pytest.raises(DecryptError):
        decrypt_data(session_key=SESSION_KEY, encrypted_data=encrypted, iv=IV, appid=APPID)


def _corrupt_last_block(encrypted: str) -> str:
    raw = bytearray(base64.b64decode(encrypted))
    raw[-1] ^= 0xFF  # garbles the last block: its padding is no longer valid
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("session_key", "encrypted", "iv"),
    [
        pytest.param(SESSION_KEY, "corrupt", IV, id="corrupted-data"),
        pytest.param(SESSION_KEY, "not base64!", IV, id="not-base64"),
        pytest.param(SESSION_KEY, base64.b64encode(b"short").decode(), IV, id="not-blocks"),
        pytest.param(SESSION_KEY, "", IV, id="empty"),
        pytest.param(SESSION_KEY, "ok", base64.b64encode(b"short-iv").decode(), id="bad-iv-len"),
        pytest.param(
            SESSION_KEY, "ok", base64.b64encode(b"0000000000000000").decode(), id="bad-iv"
        ),
        pytest.param(base64.b64encode(b"another-key-0000").decode(), "ok", IV, id="wrong-key"),
        pytest.param("short", "ok", IV, id="bad-key"),
    ],
)
def test_decrypt_failures(session_key, encrypted, iv):
    good = encrypt_data(session_key=SESSION_KEY, payload=SHARE_INFO, iv=IV)
    if encrypted == "ok":
        encrypted = good
    elif encrypted == "corrupt":
        encrypted = _corrupt_last_block(good)

    with translation.override("en"), pytest.raises(DecryptError) as caught:
        decrypt_data(session_key=session_key, encrypted_data=encrypted, iv=iv, appid=APPID)

    assert caught.value.code == "invalid_encrypted_data"
    assert caught.value.status_code == 400
    assert caught.value.message == (
        "The share information could not be verified. "
        "Please open the mini-program from the group again."
    )
    assert SESSION_KEY not in str(caught.value)


# --- secrets stay out of logs and errors ---------------------------------------------------------


def test_secrets_never_logged(wechat_server, caplog):
    for name in ("", "httpx", "httpcore", "community.wechat"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    wechat_server.expect_request("/sns/jscode2session").respond_with_handler(
        answer_in_turn(
            {"errcode": -1, "errmsg": "busy"},
            session_ok(),
            # A WeChat errmsg echoing what it was sent must not carry it into our exception.
            {"errcode": 40029, "errmsg": f"invalid code {LOGIN_CODE}, js_code={LOGIN_CODE} rid: 1"},
        )
    )
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_handler(
        answer_in_turn(
            {"errcode": 40001, "errmsg": f"invalid access_token={WECHAT_TEST_ACCESS_TOKEN}"},
            {"errcode": 0, "result": {"suggest": "pass", "label": 100}},
        )
    )
    client = get_client()

    assert client.code2session(LOGIN_CODE).session_key == SESSION_KEY
    with pytest.raises(WeChatError) as caught:
        client.code2session(LOGIN_CODE)
    assert client.get_access_token() == WECHAT_TEST_ACCESS_TOKEN
    assert client.msg_sec_check(content="hello", openid="o-1", scene=1).passed

    secrets = [SECRET, LOGIN_CODE, SESSION_KEY, WECHAT_TEST_ACCESS_TOKEN]
    texts = [str(caught.value), repr(caught.value), caught.value.errmsg]
    for record in caplog.records:
        if record.name == "werkzeug":  # the fake WeChat's own access log: WeChat's side
            continue
        texts += [record.getMessage(), str(record.args), record.exc_text or ""]
    assert any(r.name == "httpx" for r in caplog.records)  # httpx did log its request lines
    assert any(r.name.startswith("community.wechat") for r in caplog.records)
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked into {text!r}"


def test_wechat_error_survives_pickling():
    error = WeChatUnavailable(-1, "busy", path="/sns/jscode2session", http_status=200)
    error.request_unsent = True
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301  (our own bytes: Celery's case)
    assert type(copy) is WeChatUnavailable
    assert (copy.errcode, copy.errmsg, copy.path, copy.transient) == (
        -1,
        "busy",
        "/sns/jscode2session",
        True,
    )
    assert copy.request_unsent


def test_errmsg_is_sanitised_and_truncated():
    error = WeChatError(40029, "x" * 500 + "\n\x00", path="/sns/jscode2session?js_code=abc")
    assert len(error.errmsg) <= 200
    assert error.path == "/sns/jscode2session"
    assert "abc" not in str(error)
