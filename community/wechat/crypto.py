"""Decrypting the ``encryptedData`` WeChat gives the mini-program (share tickets, group info).

WeChat encrypts it with AES-128-CBC, PKCS#7 padding, the member's ``session_key`` as key and a
per-message ``iv``; all three travel base64-encoded. The plaintext is a JSON object carrying a
``watermark`` whose ``appid`` must be ours (data encrypted for another mini-program is refused).

The session key is a credential: nothing here logs it or puts it (or the plaintext) in an
exception.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.utils.translation import gettext
from rest_framework import status

from community.errors import DomainError

_KEY_BYTES = 16  # AES-128
_BLOCK_BYTES = 16
_BLOCK_BITS = 128


class DecryptError(DomainError):
    """The encrypted data could not be decrypted or is not meant for this mini-program.

    Codes: ``invalid_encrypted_data`` (bad base64, key, iv, padding or JSON) and ``wrong_appid``
    (decrypted fine, but the watermark names another mini-program)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_encrypted_data"

    def __init__(self, message: str | None = None, *, code: str | None = None):
        super().__init__(
            message
            or gettext(
                "The share information could not be verified. "
                "Please open the mini-program from the group again."
            ),
            code=code,
        )


def _b64decode(value: str, *, length: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise DecryptError() from None
    if length is not None and len(raw) != length:
        raise DecryptError()
    return raw


def decrypt_data(*, session_key: str, encrypted_data: str, iv: str, appid: str) -> dict:
    """The JSON object WeChat encrypted in ``encrypted_data`` (all arguments base64 as WeChat
    sends them), after checking that ``watermark.appid`` is ``appid``.

    Raises :class:`DecryptError` on any failure."""
    key = _b64decode(session_key, length=_KEY_BYTES)
    iv_bytes = _b64decode(iv, length=_BLOCK_BYTES)
    data = _b64decode(encrypted_data)
    if not data or len(data) % _BLOCK_BYTES:
        raise DecryptError()

    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv_bytes)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
    try:
        plaintext = unpadder.update(padded) + unpadder.finalize()
        payload = json.loads(plaintext.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):  # bad padding, bad UTF-8, bad JSON
        raise DecryptError() from None
    if not isinstance(payload, dict):
        raise DecryptError()

    watermark = payload.get("watermark")
    if not isinstance(watermark, dict) or watermark.get("appid") != appid:
        raise DecryptError(code="wrong_appid")
    return payload


def encrypt_data(*, session_key: str, payload: dict, iv: str) -> str:
    """The base64 ``encryptedData`` WeChat would send for ``payload``: the inverse of
    :func:`decrypt_data`, for tests and the fake WeChat server.

    ``session_key`` and ``iv`` are base64 (16 bytes each). Include the watermark yourself, e.g.
    ``{"openGId": "...", "watermark": {"appid": "wx...", "timestamp": 1700000000}}``."""
    key = _b64decode(session_key, length=_KEY_BYTES)
    iv_bytes = _b64decode(iv, length=_BLOCK_BYTES)
    plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv_bytes)).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")
