"""Public ids: random, non-sequential and short enough for a share QR code's 32-char scene."""

from __future__ import annotations

import secrets

from django.db import models

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
PUBLIC_ID_LENGTH = 12
_IDS = len(ALPHABET) ** PUBLIC_ID_LENGTH


def new_public_id() -> str:
    """A 12-character random id (about 70 bits of entropy, no look-alike characters).

    One uniform draw among all 57**12 ids, written in base 57: one read of the system's
    random source, where a draw per character made twelve (and every model instance with a
    public id makes one, saved or not)."""
    number = secrets.randbelow(_IDS)
    characters = []
    for _ in range(PUBLIC_ID_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "".join(characters)


class OpaqueCharField(models.CharField):
    """A string only ever compared whole (an id, a hash): never searched with ``LIKE``.

    On PostgreSQL, Django gives every indexed ``varchar`` a second ``varchar_pattern_ops``
    (``_like``) index for prefix searches; our backend (``community.db.backends.postgresql``)
    skips it for these fields and for foreign keys to them, since no query uses it and every
    insert would pay for it."""

    opaque = True


def is_opaque(field: models.Field) -> bool:
    """True for an :class:`OpaqueCharField` (public ids included) and a foreign key to one."""
    if getattr(field, "opaque", False):
        return True
    if field.is_relation and (field.many_to_one or field.one_to_one):
        return bool(getattr(field.target_field, "opaque", False))
    return False


class PublicIdField(OpaqueCharField):
    """Primary key of every object the API exposes: a random 12-character string."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("default", new_public_id)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("primary_key", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, "community.ids.PublicIdField", args, kwargs
