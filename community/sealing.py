"""Sealing: what the ballot box of a secret poll and the box of an anonymous survey hold while
they wait to be mixed.

``nonce || AES-GCM(key, framed plaintext, aad=box)``: the key is derived (HKDF-SHA256) from the
``BALLOT_KEY`` secret and the box's name (``poll:<id>``, ``survey:<id>``), which is also the
associated data, so a database dump without the application's secrets reveals nothing of a
waiting entry, and an entry moved to another box does not open. The plaintext is framed with its
length and padded to a multiple of ``bucket`` bytes, so the size of an entry says nothing about
its content. :func:`tag` names an entry for look-ups (a keyed hash, another key derived from the
same secret and box). Pure: no Django imports; callers pass the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
import threading
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from community.json_text import compact_json

NONCE_BYTES = 12


@lru_cache(maxsize=1024)
def _key(secret: str, box: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wxc-box-v1", info=box.encode()).derive(
        secret.encode()
    )


@lru_cache(maxsize=1024)
def _tag_key(secret: str, box: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"wxc-box-tag-v1", info=box.encode()
    ).derive(secret.encode())


_THREAD = threading.local()
_AEADS_PER_THREAD = 256


def _aead(secret: str, box: str) -> AESGCM:
    """The box's AES-GCM object, kept per thread: building one cost 20-40 µs of CPU in a
    request (OpenSSL finds the cipher again each time), as much as the encryption itself. Kept
    per thread because the library does not promise that one object may encrypt in two
    threads at once; a thread keeps the boxes it used last (a few hundred at most)."""
    aeads = _THREAD.__dict__.setdefault("aeads", {})
    found = aeads.get((secret, box))
    if found is None:
        if len(aeads) >= _AEADS_PER_THREAD:
            aeads.clear()
        found = aeads[(secret, box)] = AESGCM(_key(secret, box))
    return found


def tag(*, secret: str, box: str, value: str) -> str:
    """A keyed, box-bound lookup tag for ``value`` (HMAC-SHA256, hex): the same value in the
    same box always gives the same tag, so a waiting entry can be found by it without opening
    any entry; without the secret the tag cannot be computed from ``value`` nor linked to it."""
    return hmac.new(_tag_key(secret, box), value.encode(), hashlib.sha256).hexdigest()


def seal(*, secret: str, box: str, payload: Any, bucket: int = 1024) -> bytes:
    """``payload`` (JSON-serialisable) encrypted for ``box``, padded to ``bucket`` bytes."""
    body = compact_json(payload)
    framed = struct.pack(">I", len(body)) + body
    framed += b"\0" * (-len(framed) % bucket)
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(secret, box).encrypt(nonce, framed, box.encode())


def unseal(*, secret: str, box: str, sealed: bytes) -> Any:
    """The payload of a sealed entry (``cryptography.exceptions.InvalidTag`` when it was sealed
    with another key or for another box, or altered)."""
    sealed = bytes(sealed)
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    framed = _aead(secret, box).decrypt(nonce, ciphertext, box.encode())
    (length,) = struct.unpack(">I", framed[:4])
    return json.loads(framed[4 : 4 + length])
