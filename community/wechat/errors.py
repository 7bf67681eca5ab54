"""Errors of the WeChat server-API client, and their mapping to the project's domain errors.

The client raises :class:`WeChatError` (or its subclass :class:`WeChatUnavailable` for transient
failures: timeouts, network errors, HTTP 5xx, errcode -1). Services that call WeChat on behalf of a
member turn it into a :class:`~community.errors.DomainError` with :func:`as_domain_error`::

    try:
        session = get_client().code2session(code)
    except WeChatError as exc:
        raise as_domain_error(exc) from exc

Exception texts carry the endpoint path (never a query string), the errcode and WeChat's
sanitised ``errmsg``; never the app secret, a login code, a session key or an access token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext

from community.errors import DomainError, Forbidden, TooManyRequests, UpstreamUnavailable

# --- errcodes documented by WeChat --------------------------------------------------------------
ERRCODE_SYSTEM_BUSY = -1
ERRCODE_INVALID_CREDENTIAL = 40001  # access_token invalid or not the latest one
ERRCODE_INVALID_ACCESS_TOKEN = 40014
ERRCODE_ACCESS_TOKEN_EXPIRED = 42001
ERRCODE_INVALID_CODE = 40029
ERRCODE_CODE_USED = 40163
ERRCODE_HIGH_RISK_USER = 40226  # the WeChat account is restricted (login blocked)
ERRCODE_MINUTE_QUOTA = 45011  # API minute-quota reached
ERRCODE_NOT_SUBSCRIBED = 43101  # the member has not (or no longer) subscribed to the template
ERRCODE_INVALID_OPENID = 40003  # the openid is not a user of this mini-program
# customerServiceMessage.send: the 48 hours after the member's last message have passed.
ERRCODE_REPLY_WINDOW = 45015
ERRCODE_REPLY_LIMIT = 45047  # too many customer-service messages since the member's last one

#: errcodes meaning "the access token is not valid": refresh it once and retry the call.
TOKEN_ERRCODES = frozenset(
    {ERRCODE_INVALID_CREDENTIAL, ERRCODE_INVALID_ACCESS_TOKEN, ERRCODE_ACCESS_TOKEN_EXPIRED}
)

# --- local errcodes: failures that never reached a WeChat answer (WeChat never sends these) ----
ERRCODE_TIMEOUT = -1001
ERRCODE_NETWORK = -1002
ERRCODE_HTTP_STATUS = -1003  # an HTTP error status without a WeChat errcode (see http_status)
ERRCODE_BAD_RESPONSE = -1004  # a body that is not the documented JSON (or image)

ERRMSG_MAX_LENGTH = 200

# key=value pairs of credentials that must not survive in any text we keep.
_CREDENTIAL_PAIRS = re.compile(
    r"(?i)\b(access_token|appsecret|secret|js_code|code|session_key)=[^&\s\"']+"
)
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")


def sanitize_errmsg(text: object, *, redact: Iterable[str] = ()) -> str:
    """``text`` made safe to keep in an exception: the given ``redact`` values (the secret, a
    code, a token) and any ``name=value`` credential pairs removed, control characters collapsed,
    truncated to ``ERRMSG_MAX_LENGTH`` characters."""
    value = "" if text is None else str(text)
    for secret in redact:
        if secret:
            value = value.replace(secret, "***")
    value = _CREDENTIAL_PAIRS.sub(lambda m: f"{m.group(1)}=***", value)
    value = _CONTROL_CHARS.sub(" ", value).strip()
    if len(value) > ERRMSG_MAX_LENGTH:
        value = value[: ERRMSG_MAX_LENGTH - 1] + "…"
    return value


class WeChatError(Exception):
    """A WeChat API call that failed.

    ``errcode`` is WeChat's errcode (or one of the negative local ``ERRCODE_*`` values when no
    WeChat answer was received), ``errmsg`` WeChat's message, sanitised and truncated,
    ``transient`` whether trying again later may succeed, ``path`` the endpoint path (no query
    string) and ``http_status`` the HTTP status when one was received.
    """

    def __init__(
        self,
        errcode: int,
        errmsg: str = "",
        *,
        transient: bool = False,
        path: str = "",
        http_status: int | None = None,
    ):
        self.errcode = int(errcode)
        self.errmsg = sanitize_errmsg(errmsg)
        self.transient = transient
        self.path = path.split("?", 1)[0]
        self.http_status = http_status
        # Set by the client for failures where the request certainly was not processed (the
        # connection was never made, or WeChat answered "system busy"): safe to retry even a
        # non-idempotent call such as sending a subscribe message.
        self.request_unsent = False
        super().__init__(self.errcode, self.errmsg)

    def __str__(self) -> str:
        where = f"WeChat {self.path}" if self.path else "WeChat"
        text = f"{where} failed: errcode {self.errcode}"
        if self.errmsg:
            text += f" ({self.errmsg})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(errcode={self.errcode}, path={self.path!r})"

    def __reduce__(self):
        # Keyword-only constructor arguments do not survive Exception's default pickling.
        state = {
            "transient": self.transient,
            "path": self.path,
            "http_status": self.http_status,
            "request_unsent": self.request_unsent,
        }
        return (type(self), (self.errcode, self.errmsg), state)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached or is busy: a timeout, a network error, an HTTP 5xx or
    errcode -1. Always ``transient``; the client already retried it ``retries`` times."""

    def __init__(
        self,
        errcode: int,
        errmsg: str = "",
        *,
        path: str = "",
        http_status: int | None = None,
    ):
        super().__init__(errcode, errmsg, transient=True, path=path, http_status=http_status)


def as_domain_error(exc: WeChatError) -> DomainError:
    """The :class:`~community.errors.DomainError` to show a member for a failed WeChat call, with
    a translated message (translated in the language active when this is called)."""
    if isinstance(exc, WeChatUnavailable) or exc.transient or exc.errcode == ERRCODE_SYSTEM_BUSY:
        return UpstreamUnavailable(
            gettext("WeChat is busy. Please try again in a moment."), code="wechat_busy"
        )
    if exc.errcode == ERRCODE_INVALID_CODE:
        return DomainError(
            gettext("The login code is invalid. Please sign in again."), code="invalid_code"
        )
    if exc.errcode == ERRCODE_CODE_USED:
        return DomainError(
            gettext("This login code was already used. Please sign in again."), code="code_used"
        )
    if exc.errcode == ERRCODE_MINUTE_QUOTA:
        return TooManyRequests(
            gettext("WeChat is receiving too many requests. Please try again in a minute."),
            code="wechat_rate_limited",
        )
    if exc.errcode == ERRCODE_HIGH_RISK_USER:
        return Forbidden(
            gettext("This WeChat account is restricted by WeChat and cannot sign in."),
            code="user_blocked",
        )
    return UpstreamUnavailable(
        gettext("WeChat could not complete the request. Please try again later."),
        code="wechat_error",
    )
