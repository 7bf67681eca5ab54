"""Reading WeChat's message push: the outer body (JSON or XML, as configured), its signature,
the safe-mode decryption and the message inside (same format).

Only safe mode is accepted: a push without ``encrypt_type=aes`` is refused, so a forged plain
body can never pass for a member's message (the URL signature alone does not cover the body)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # noqa: S405 (DOCTYPE refused below; expat limits entities)
from dataclasses import dataclass

from django.conf import settings

from assistant.push_crypto import PushCrypto, PushError, sha1_signature

#: WeChat's pushes are small; anything larger is not one of them.
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class PushQuery:
    """The query string WeChat adds to a push."""

    signature: str
    timestamp: str
    nonce: str
    encrypt_type: str = ""
    msg_signature: str = ""
    echostr: str = ""


def configured_crypto() -> PushCrypto | None:
    """Our :class:`PushCrypto` from the settings, or None when the push is not configured."""
    token, key = settings.WECHAT_PUSH_TOKEN, settings.WECHAT_PUSH_AES_KEY
    if not token or not key or not settings.WECHAT_APPID:
        return None
    return PushCrypto(token=token, encoding_aes_key=key, appid=settings.WECHAT_APPID)


def parse_fields(raw: bytes, fmt: str) -> dict[str, str]:
    """The top-level fields of a JSON object or an ``<xml>`` document, as strings.
    :class:`PushError` ("format") when it is neither."""
    if len(raw) > MAX_BODY_BYTES:
        raise PushError("format")
    if fmt == "json":
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise PushError("format") from None
        if not isinstance(data, dict):
            raise PushError("format")
        return {
            str(k): ("" if v is None else str(v))
            for k, v in data.items()
            if not isinstance(v, dict | list)
        }
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise PushError("format")
    try:
        root = ET.fromstring(raw)  # noqa: S314 (no DTD: refused above)
    except ET.ParseError:
        raise PushError("format") from None
    if root.tag != "xml":
        raise PushError("format")
    return {child.tag: (child.text or "").strip() for child in root}


def open_push(*, crypto: PushCrypto, query: PushQuery, body: bytes, fmt: str) -> dict[str, str]:
    """Verify and decrypt a pushed body: the fields of the message inside. :class:`PushError`
    "signature" (wrong or missing signature, not safe mode), "format", "decrypt" or "appid"."""
    if query.encrypt_type != "aes" or not query.msg_signature:
        raise PushError("signature")
    outer = parse_fields(body, fmt)
    encrypt = outer.get("Encrypt", "")
    if not encrypt:
        raise PushError("format")
    message = crypto.open(
        msg_signature=query.msg_signature,
        timestamp=query.timestamp,
        nonce=query.nonce,
        encrypt=encrypt,
    )
    return parse_fields(message.encode(), fmt)


def seal_push(
    *, crypto: PushCrypto, fields: dict, fmt: str, timestamp: str, nonce: str
) -> tuple[dict[str, str], bytes]:
    """What WeChat sends for ``fields`` in safe mode: the query and the body. Used by our
    fake WeChat in the tests and by the development tools."""
    if fmt == "json":
        inner = json.dumps(fields, ensure_ascii=False)
    else:
        inner = "<xml>" + "".join(_xml_field(k, v) for k, v in fields.items()) + "</xml>"
    encrypt = crypto.encrypt(inner)
    signature = crypto.msg_signature(timestamp=timestamp, nonce=nonce, encrypt=encrypt)
    to_user = str(fields.get("ToUserName", ""))
    if fmt == "json":
        body = json.dumps({"ToUserName": to_user, "Encrypt": encrypt}).encode()
    else:
        body = (
            f"<xml>{_xml_field('ToUserName', to_user)}{_xml_field('Encrypt', encrypt)}</xml>"
        ).encode()
    query = {
        "signature": sha1_signature(crypto.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": signature,
    }
    return query, body


def _xml_field(name: str, value) -> str:
    if isinstance(value, int):
        return f"<{name}>{value}</{name}>"
    text = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<{name}><![CDATA[{text}]]></{name}>"
