"""The WeChat server-API client of the mini-program (plain httpx, no SDK).

``get_client()`` builds a :class:`WeChatClient` from the ``WECHAT_*`` settings each time it is
called (cheap: the HTTP connection pool is shared per process), so a settings override is seen
at once.

What it does for every call:

* **Retries** transient failures (timeouts, network errors, HTTP 5xx, errcode -1 "system busy")
  up to ``retries`` times with jittered exponential backoff (0.2 s, 0.4 s, ... capped at 2 s).
  A call that is not idempotent (sending a subscribe message) is retried only when the request
  certainly was not processed (no connection was made, or errcode -1). errcode 45011 (minute
  quota reached) is not retried.
* **Access token**: fetched from ``/cgi-bin/stable_token`` and kept in the shared Django cache
  (Redis in production) until shortly before it expires. One process refreshes at a time (a
  cache lock); the others wait for its result. A call rejected with 40001/40014/42001 refreshes
  the token once (``force_refresh``) and is retried once. When the cache itself is down (Redis
  unreachable), the client carries on without it: it asks WeChat for the token on each call
  (``stable_token`` without ``force_refresh`` answers the same token while it lives), logs a
  warning, and never fails a call because the cache failed.
* **Secrets**: the app secret, login codes, session keys and access tokens never reach a log
  record or an exception text; logs carry the endpoint path and errcode only. httpx's own
  request log line (which prints full URLs) is stripped of its query string.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from django.conf import settings
from django.core.cache import BaseCache
from django.core.cache import cache as default_cache
from django.utils.translation import gettext
from redis.exceptions import RedisError

from community.errors import ServiceNotConfigured
from community.wechat.errors import (
    ERRCODE_BAD_RESPONSE,
    ERRCODE_HTTP_STATUS,
    ERRCODE_INVALID_CODE,
    ERRCODE_NETWORK,
    ERRCODE_SYSTEM_BUSY,
    ERRCODE_TIMEOUT,
    TOKEN_ERRCODES,
    WeChatError,
    WeChatUnavailable,
    sanitize_errmsg,
)

logger = logging.getLogger(__name__)

_CACHE_DOWN = object()  # what ``WeChatClient._cache`` answers when the cache could not be reached

BACKOFF_BASE = 0.2  # seconds before the first retry; doubled for each further one
BACKOFF_MAX = 2.0
TOKEN_SAFETY_MARGIN = 300  # drop a cached token this many seconds before WeChat expires it
TOKEN_MIN_TTL = 60
TOKEN_LOCK_TIMEOUT = 10  # seconds; the lock expires by itself if its holder dies
TOKEN_LOCK_WAIT = 5.0  # how long a process waits for another one's refresh before fetching itself
TOKEN_POLL_INTERVAL = 0.05
QRCODE_SCENE_MAX = 32
_QRCODE_SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$")
MINIPROGRAM_STATES = ("developer", "trial", "formal")
MESSAGE_LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")
#: customerServiceMessage.send: per ``msgtype``, the payload fields required and optional.
CUSTOMER_SERVICE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "text": (("content",), ()),
    "image": (("media_id",), ()),
    "link": (("title", "url"), ("description", "thumb_url")),
    "miniprogrampage": (("title", "pagepath", "thumb_media_id"), ()),
}


class SecScene(enum.IntEnum):
    """``scene`` of msg_sec_check v2: where the text is published."""

    PROFILE = 1  # nickname, avatar text, profile
    COMMENT = 2
    FORUM = 3
    SOCIAL_LOG = 4


@dataclass(frozen=True)
class Code2Session:
    """The answer of code2Session. ``session_key`` is a credential: keep it out of logs."""

    openid: str
    session_key: str = field(repr=False)
    unionid: str = ""


@dataclass(frozen=True)
class SecCheck:
    """The verdict of msg_sec_check v2: ``suggest`` is "pass", "review" or "risky"; ``label`` is
    WeChat's category (100 normal, 10001 ads, 20001 politics, 20002 porn, ...)."""

    suggest: Literal["pass", "review", "risky"]
    label: int
    trace_id: str = ""

    @property
    def passed(self) -> bool:
        return self.suggest == "pass"


# --- the shared HTTP connection pool ---------------------------------------------------------

_http_lock = threading.Lock()
_http_client: httpx.Client | None = None
_http_pid: int | None = None


def _shared_http() -> httpx.Client:
    """This process's httpx client (recreated after a fork: pooled sockets are not shared)."""
    global _http_client, _http_pid
    with _http_lock:
        if _http_client is None or _http_pid != os.getpid():
            _http_client = httpx.Client(
                follow_redirects=False,
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
            )
            _http_pid = os.getpid()
        return _http_client


class _StripQueryStrings(logging.Filter):
    """Removes query strings from URLs in httpx's log records: WeChat URLs carry the app
    secret, login codes and access tokens in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_strip_query(arg) for arg in record.args)
        return True


def _strip_query(value: Any) -> Any:
    if isinstance(value, httpx.URL):
        return value.copy_with(query=None) if value.query else value
    if isinstance(value, str) and "://" in value and "?" in value:
        return value.split("?", 1)[0]
    return value


def _install_log_filter() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _StripQueryStrings) for f in httpx_logger.filters):
        httpx_logger.addFilter(_StripQueryStrings())


_install_log_filter()


# --- the client --------------------------------------------------------------------------------


class WeChatClient:
    """A client of the WeChat server API for one mini-program (``appid``/``secret``).

    ``timeout`` (seconds) applies to each HTTP attempt, ``retries`` is the number of extra
    attempts after a transient failure, ``cache`` keeps the access token and its refresh lock
    (use a cache shared by all processes, i.e. Redis, in production). ``http`` may inject an
    httpx client; by default a per-process shared one is used.
    """

    def __init__(
        self,
        *,
        base_url: str,
        appid: str,
        secret: str,
        timeout: float,
        retries: int,
        cache: BaseCache,
        http: httpx.Client | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self._secret = secret
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.cache = cache
        self._http = http

    def __repr__(self) -> str:
        return f"WeChatClient(base_url={self.base_url!r}, appid={self.appid!r})"

    # --- login --------------------------------------------------------------------------------

    def code2session(self, code: str) -> Code2Session:
        """Exchange a ``wx.login`` code for the member's openid and session key
        (``GET /sns/jscode2session``). A code is valid once, for five minutes.

        Raises :class:`WeChatError` (40029 invalid code, 40163 code used, 40226 blocked account,
        45011 quota, ...) or :class:`WeChatUnavailable`."""
        path = "/sns/jscode2session"
        if not code:
            raise WeChatError(ERRCODE_INVALID_CODE, "empty login code", path=path)
        data = self._call(
            "GET",
            path,
            params={
                "appid": self.appid,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
            redact=(self._secret, code),
        )
        openid, session_key = data.get("openid"), data.get("session_key")
        if not isinstance(openid, str) or not openid or not isinstance(session_key, str):
            raise WeChatError(ERRCODE_BAD_RESPONSE, "no openid/session_key", path=path)
        return Code2Session(
            openid=openid, session_key=session_key, unionid=str(data.get("unionid") or "")
        )

    # --- access token -------------------------------------------------------------------------

    @property
    def _token_key(self) -> str:
        return f"wechat:access_token:{self.appid}"

    @property
    def _lock_key(self) -> str:
        return f"wechat:access_token:{self.appid}:lock"

    def get_access_token(self, *, force_refresh: bool = False) -> str:
        """The mini-program's access token (``POST /cgi-bin/stable_token``), from the cache when
        it holds one. ``force_refresh`` asks WeChat for a new token (rate limited by WeChat:
        use it only when WeChat rejected the current one)."""
        stale = self._cache("get", self._token_key) if force_refresh else None
        return self._obtain_token(force=force_refresh, stale=stale)

    def invalidate_access_token(self) -> None:
        """Forget the cached access token (the next call fetches one)."""
        self._cache("delete", self._token_key)

    def _cache(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        """``self.cache.<operation>(...)``, or ``_CACHE_DOWN`` when the cache cannot be reached:
        a Redis outage must not stop logins, content checks and notifications."""
        try:
            return getattr(self.cache, operation)(*args, **kwargs)
        except (RedisError, OSError) as exc:
            logger.warning("wechat access token: cache unavailable (%s)", type(exc).__name__)
            return _CACHE_DOWN

    def _cached_token(self, *, force: bool, stale: str | None) -> str | None:
        token = self._cache("get", self._token_key)
        if isinstance(token, str) and token and not (force and token == stale):
            return token
        return None

    def _obtain_token(self, *, force: bool, stale: str | None) -> str:
        """A usable token: the cached one, or one fetched under the refresh lock. With
        ``force``, the token ``stale`` is not usable (any other cached one, which another
        process just fetched, is)."""
        deadline = time.monotonic() + TOKEN_LOCK_WAIT
        while True:
            token = self._cached_token(force=force, stale=stale)
            if token:
                return token
            lock_id = uuid.uuid4().hex
            locked = self._cache("add", self._lock_key, lock_id, timeout=TOKEN_LOCK_TIMEOUT)
            if locked is _CACHE_DOWN:
                return self._fetch_token(force_refresh=force)
            if locked:
                try:
                    # Another process may have stored a token between our read and the lock.
                    token = self._cached_token(force=force, stale=stale)
                    return token or self._fetch_token(force_refresh=force)
                finally:
                    # Best effort: do not delete a lock that expired and was taken by another.
                    if self._cache("get", self._lock_key) == lock_id:
                        self._cache("delete", self._lock_key)
            if time.monotonic() >= deadline:
                break
            time.sleep(TOKEN_POLL_INTERVAL * random.uniform(1.0, 2.0))
        logger.warning("wechat access token: refresh lock wait timed out, fetching without it")
        return self._fetch_token(force_refresh=force)

    def _fetch_token(self, *, force_refresh: bool) -> str:
        path = "/cgi-bin/stable_token"
        data = self._call(
            "POST",
            path,
            body={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self._secret,
                "force_refresh": force_refresh,
            },
            redact=(self._secret,),
        )
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatError(ERRCODE_BAD_RESPONSE, "no access_token/expires_in", path=path)
        # Keep it until TOKEN_SAFETY_MARGIN before WeChat's expiry, at least TOKEN_MIN_TTL
        # (but never longer than the token lives).
        ttl = max(expires_in - TOKEN_SAFETY_MARGIN, min(TOKEN_MIN_TTL, expires_in))
        if ttl > 0:
            self._cache("set", self._token_key, token, timeout=ttl)
        logger.info("wechat access token fetched (expires_in=%s)", expires_in)
        return token

    # --- calls with the access token --------------------------------------------------------

    def msg_sec_check(self, *, content: str, openid: str, scene: int) -> SecCheck:
        """Screen a text a member publishes (``POST /wxa/msg_sec_check``, version 2).

        ``scene`` is a :class:`SecScene` (1 profile, 2 comment, 3 forum, 4 social log);
        ``openid`` the author, who must have opened the mini-program in the last two hours.
        WeChat accepts up to 2500 characters. A missing or unknown ``suggest`` is reported as
        "review"."""
        if scene not in SecScene._value2member_map_:
            raise ValueError("scene must be 1, 2, 3 or 4")
        data = self._call_with_token(
            "POST",
            "/wxa/msg_sec_check",
            body={"content": content, "version": 2, "scene": int(scene), "openid": openid},
        )
        result = data.get("result") if isinstance(data.get("result"), dict) else {}
        suggest = result.get("suggest")
        if suggest not in ("pass", "review", "risky"):
            suggest = "review"
        try:
            label = int(result.get("label", 0))
        except (TypeError, ValueError):
            label = 0
        return SecCheck(suggest=suggest, label=label, trace_id=str(data.get("trace_id") or ""))

    def send_subscribe_message(
        self,
        *,
        openid: str,
        template_id: str,
        data: dict[str, str],
        page: str = "",
        miniprogram_state: str = "formal",
        lang: str = "zh_CN",
    ) -> None:
        """Send a subscribe message (``POST /cgi-bin/message/subscribe/send``).

        ``data`` maps the template's keys to values, e.g. ``{"thing1": "Poll closed"}``;
        ``page`` is the mini-program page it opens (with query), ``miniprogram_state``
        "developer", "trial" or "formal". Raises :class:`WeChatError` 43101 when the member has
        no subscription left for the template. Not retried when WeChat may have sent it."""
        if miniprogram_state not in MINIPROGRAM_STATES:
            raise ValueError(f"miniprogram_state must be one of {MINIPROGRAM_STATES}")
        if lang not in MESSAGE_LANGS:
            raise ValueError(f"lang must be one of {MESSAGE_LANGS}")
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": str(value)} for key, value in data.items()},
            "miniprogram_state": miniprogram_state,
            "lang": lang,
        }
        if page:
            body["page"] = page
        self._call_with_token(
            "POST", "/cgi-bin/message/subscribe/send", body=body, idempotent=False
        )

    def send_customer_service_message(
        self, *, openid: str, kind: str, payload: Mapping[str, Any]
    ) -> None:
        """Send a customer-service message to a member who wrote to us in the last 48 hours
        (``POST /cgi-bin/message/custom/send``, customerServiceMessage.send).

        ``kind`` is the ``msgtype``: "text" (payload ``content``), "image" (``media_id``),
        "link" (``title``, ``description``, ``url``, ``thumb_url``) or "miniprogrampage"
        (``title``, ``pagepath``, ``thumb_media_id``). Raises :class:`WeChatError` 45015 when
        the 48-hour window has closed, 45047 when too many messages followed the member's last
        one, 40003 for an openid not of this mini-program. Not retried when WeChat may have
        sent it."""
        fields = CUSTOMER_SERVICE_FIELDS.get(kind)
        if fields is None:
            raise ValueError(f"kind must be one of {sorted(CUSTOMER_SERVICE_FIELDS)}")
        missing = [name for name in fields[0] if not payload.get(name)]
        if missing:
            raise ValueError(f"a {kind} message needs {', '.join(missing)}")
        allowed = fields[0] + fields[1]
        body = {
            "touser": openid,
            "msgtype": kind,
            kind: {name: str(payload[name]) for name in allowed if payload.get(name)},
        }
        self._call_with_token("POST", "/cgi-bin/message/custom/send", body=body, idempotent=False)

    def get_unlimited_qrcode(
        self,
        *,
        scene: str,
        page: str | None = None,
        width: int = 430,
        check_path: bool = False,
        env_version: str = "release",
    ) -> bytes:
        """A mini-program code image (``POST /wxa/getwxacodeunlimit``) opening ``page`` (default:
        the home page) with ``scene`` (1-32 characters: letters, digits and
        ``!#$&'()*+,/:;=?@-._~``). Returns the image bytes (JPEG/PNG)."""
        if not scene or len(scene) > QRCODE_SCENE_MAX:
            raise ValueError(f"scene must be 1 to {QRCODE_SCENE_MAX} characters long")
        if not _QRCODE_SCENE.match(scene):
            raise ValueError("scene may only contain letters, digits and !#$&'()*+,/:;=?@-._~")
        if env_version not in ("release", "trial", "develop"):
            raise ValueError("env_version must be 'release', 'trial' or 'develop'")
        body: dict[str, Any] = {
            "scene": scene,
            "width": width,
            "check_path": check_path,
            "env_version": env_version,
        }
        if page:
            body["page"] = page
        return self._call_with_token("POST", "/wxa/getwxacodeunlimit", body=body, binary=True)

    def _call_with_token(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any],
        idempotent: bool = True,
        binary: bool = False,
    ) -> Any:
        def call(token: str) -> Any:
            return self._call(
                method,
                path,
                params={"access_token": token},
                body=body,
                idempotent=idempotent,
                binary=binary,
                redact=(token,),
            )

        token = self.get_access_token()
        try:
            return call(token)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            errcode = exc.errcode
        logger.info("wechat %s: access token rejected (errcode=%s), refreshing", path, errcode)
        return call(self._obtain_token(force=True, stale=token))

    # --- HTTP ---------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        binary: bool = False,
        redact: Iterable[str] = (),
    ) -> Any:
        """One API call, retried on transient failures. Returns the JSON object, or the image
        bytes when ``binary``; raises :class:`WeChatError` on an errcode."""
        redact = tuple(redact)
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                result = self._attempt(method, path, params, body, binary, redact)
            except WeChatError as exc:
                retry = exc.transient and (idempotent or exc.request_unsent)
                if not retry or attempt >= attempts:
                    logger.warning("wechat %s failed: errcode=%s", path, exc.errcode)
                    raise
                delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)
                logger.info(
                    "wechat %s: transient failure errcode=%s, retry %s/%s",
                    path,
                    exc.errcode,
                    attempt,
                    self.retries,
                )
                time.sleep(delay)
            else:
                logger.debug("wechat %s ok", path)
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        binary: bool,
        redact: tuple[str, ...],
    ) -> Any:
        content = None
        headers = {}
        if body is not None:
            # UTF-8 JSON, not \u escapes: WeChat checks and shows the text as sent.
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        http = self._http or _shared_http()
        try:
            response = http.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                content=content,
                headers=headers,
                timeout=self.timeout,
            )
        # httpx exceptions are not chained (``from None``): only their class name is kept.
        except httpx.TimeoutException as exc:
            error = WeChatUnavailable(ERRCODE_TIMEOUT, f"timeout ({type(exc).__name__})", path=path)
            error.request_unsent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise error from None
        except httpx.TransportError as exc:
            error = WeChatUnavailable(ERRCODE_NETWORK, type(exc).__name__, path=path)
            error.request_unsent = isinstance(exc, httpx.ConnectError)
            raise error from None

        status = response.status_code
        if status >= 500:
            raise WeChatUnavailable(
                ERRCODE_HTTP_STATUS, f"HTTP {status}", path=path, http_status=status
            )
        content_type = response.headers.get("content-type", "").lower()
        if binary and status == 200 and content_type.startswith("image/"):
            return response.content

        # WeChat answers JSON, sometimes labelled text/plain: parse whatever the label.
        try:
            data = json.loads(response.content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            label = content_type.split(";", 1)[0] or "no content type"
            raise WeChatError(
                ERRCODE_BAD_RESPONSE if status < 400 else ERRCODE_HTTP_STATUS,
                f"HTTP {status}, unexpected body ({label})",
                path=path,
                http_status=status,
            )
        try:
            errcode = int(data.get("errcode") or 0)
        except (TypeError, ValueError):
            errcode = ERRCODE_BAD_RESPONSE
        if errcode == ERRCODE_SYSTEM_BUSY:
            error = WeChatUnavailable(
                errcode,
                sanitize_errmsg(data.get("errmsg"), redact=redact),
                path=path,
                http_status=status,
            )
            error.request_unsent = True
            raise error
        if errcode:
            raise WeChatError(
                errcode,
                sanitize_errmsg(data.get("errmsg"), redact=redact),
                path=path,
                http_status=status,
            )
        if status >= 400:
            raise WeChatError(ERRCODE_HTTP_STATUS, f"HTTP {status}", path=path, http_status=status)
        if binary:
            raise WeChatError(ERRCODE_BAD_RESPONSE, "expected an image", path=path)
        return data


def get_client() -> WeChatClient:
    """A client configured from the ``WECHAT_*`` settings as they are now, using the default
    Django cache for the access token. Without credentials it raises ``ServiceNotConfigured``
    (503 ``wechat_not_configured``): a server without WeChat keeps working except the calls
    that need WeChat."""
    if not settings.WECHAT_APPID or not settings.WECHAT_SECRET:
        raise ServiceNotConfigured(
            gettext("This server is not connected to WeChat yet. Please try again later.")
        )
    return WeChatClient(
        base_url=settings.WECHAT_API_BASE,
        appid=settings.WECHAT_APPID,
        secret=settings.WECHAT_SECRET,
        timeout=settings.WECHAT_TIMEOUT,
        retries=settings.WECHAT_RETRIES,
        cache=default_cache,
    )
