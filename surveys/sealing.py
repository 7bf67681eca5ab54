"""The sealed form of an anonymous response while it waits in the survey's box.

AES-GCM under a key derived (HKDF-SHA256) from the ``BALLOT_KEY`` setting and the survey id, so
a database dump without the application's secrets reveals nothing of a waiting response, and a
sealed response moved to another survey does not open (the survey id is also the associated
data). The plaintext is padded to a multiple of :data:`BUCKET` bytes: the size of a waiting
response says nothing about its answers. Pure: no Django imports; callers pass the secret.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Padding granularity of the plaintext (bytes).
BUCKET = 1024
NONCE_BYTES = 12


def _key(secret: str, survey_id: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"survey-box:" + survey_id.encode(),
    ).derive(secret.encode())


def seal(*, secret: str, survey_id: str, payload: dict[str, Any]) -> bytes:
    """``payload`` (JSON-serialisable) encrypted for ``survey_id``'s box: nonce + ciphertext."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    framed = struct.pack(">I", len(body)) + body
    framed += b"\0" * (-len(framed) % BUCKET)
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key(secret, survey_id)).encrypt(nonce, framed, survey_id.encode())


def unseal(*, secret: str, survey_id: str, sealed: bytes) -> dict[str, Any]:
    """The payload of a sealed response (``cryptography.exceptions.InvalidTag`` when it was
    sealed with another key or for another survey, or altered)."""
    sealed = bytes(sealed)
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    framed = AESGCM(_key(secret, survey_id)).decrypt(nonce, ciphertext, survey_id.encode())
    (length,) = struct.unpack(">I", framed[:4])
    return json.loads(framed[4 : 4 + length])
