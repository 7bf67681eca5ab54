"""WeChat's message-push signatures and safe-mode encryption (pure: no Django).

What WeChat documents for its message push (消息推送):

* **URL check and plain pushes**: ``signature`` = SHA-1 (hex) of ``token``, ``timestamp`` and
  ``nonce`` sorted as strings and concatenated.
* **Safe mode** (安全模式): the body carries only ``Encrypt`` (base64); ``msg_signature`` = SHA-1
  of ``token``, ``timestamp``, ``nonce`` and ``Encrypt`` sorted and concatenated. The cipher is
  AES-256-CBC with key = base64-decode(EncodingAESKey + "=") (43 characters -> 32 bytes) and
  iv = the key's first 16 bytes. The plaintext is 16 random bytes, the message length as 4
  bytes big-endian, the message (UTF-8), then the appid it is meant for, padded with PKCS#7 to
  a multiple of 32 bytes (WeChat's block for the padding, not AES's 16).

Signatures are compared in constant time. Errors name what failed, never the key or the
plaintext."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_KEY_CHARS = 43
PAD_BLOCK = 32
RANDOM_BYTES = 16


class PushError(Exception):
    """A push we refuse: ``reason`` is "signature", "decrypt" or "appid"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sha1_signature(*parts: str) -> str:
    """SHA-1 (hex) of the parts sorted as strings and concatenated, as WeChat signs."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's)


def signature_valid(expected_parts: tuple[str, ...], signature: str) -> bool:
    """True when ``signature`` is WeChat's signature of the parts (constant-time compare)."""
    return hmac.compare_digest(sha1_signature(*expected_parts), (signature or "").lower())


def aes_key_from(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey; ValueError for a malformed one."""
    if len(encoding_aes_key) != AES_KEY_CHARS:
        raise ValueError("EncodingAESKey must be 43 characters long")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    if len(key) != 32:  # pragma: no cover (43 base64 characters always make 32 bytes)
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


class PushCrypto:
    """Safe-mode encryption for one mini-program: its token, EncodingAESKey and appid."""

    def __init__(self, *, token: str, encoding_aes_key: str, appid: str):
        self.token = token
        self.appid = appid
        self._key = aes_key_from(encoding_aes_key)

    def __repr__(self) -> str:
        return f"PushCrypto(appid={self.appid!r})"

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        """The base64 ``Encrypt`` of ``message`` for our appid (as WeChat builds it).
        ``random_prefix`` (16 bytes) is only for reproducing published vectors."""
        prefix = os.urandom(RANDOM_BYTES) if random_prefix is None else random_prefix
        if len(prefix) != RANDOM_BYTES:
            raise ValueError("random_prefix must be 16 bytes")
        body = message.encode()
        plain = prefix + struct.pack(">I", len(body)) + body + self.appid.encode()
        pad = PAD_BLOCK - len(plain) % PAD_BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypt: str) -> str:
        """The message inside ``encrypt``; :class:`PushError` ("decrypt") when it is not a
        well-formed ciphertext of this key, ("appid") when it was meant for another appid."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise PushError("decrypt") from None
        if not data or len(data) % 16:
            raise PushError("decrypt")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise PushError("decrypt")
        plain = plain[:-pad]
        if len(plain) < RANDOM_BYTES + 4:
            raise PushError("decrypt")
        (length,) = struct.unpack(">I", plain[RANDOM_BYTES : RANDOM_BYTES + 4])
        start = RANDOM_BYTES + 4
        if start + length > len(plain):
            raise PushError("decrypt")
        message, appid = plain[start : start + length], plain[start + length :]
        if not hmac.compare_digest(appid, self.appid.encode()):
            raise PushError("appid")
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise PushError("decrypt") from None

    def url_check(self, *, signature: str, timestamp: str, nonce: str) -> bool:
        """True when the URL check's (and a plain push's) ``signature`` is WeChat's."""
        return signature_valid((self.token, timestamp, nonce), signature)

    def msg_signature(self, *, timestamp: str, nonce: str, encrypt: str) -> str:
        """The ``msg_signature`` of an encrypted body."""
        return sha1_signature(self.token, timestamp, nonce, encrypt)

    def open(self, *, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Verify ``msg_signature`` and decrypt: the message, or :class:`PushError`."""
        if not signature_valid((self.token, timestamp, nonce, encrypt), msg_signature):
            raise PushError("signature")
        return self.decrypt(encrypt)
