"""The one SHA-256 helper for secrets we store only as a hash.

API bearer tokens, secret-ballot receipts and the edit tokens of anonymous survey responses
are random values of 128 bits or more, so a fast unsalted hash is enough: nobody can guess
them, and the hash lets us find the row by an indexed equality lookup. Never use this for
passwords or other low-entropy values."""

from __future__ import annotations

import hashlib


def sha256_hex(value: str) -> str:
    """The hex SHA-256 of ``value`` (UTF-8), 64 characters."""
    return hashlib.sha256(value.encode()).hexdigest()
