"""Services of the fake API of the derivation tests."""

from __future__ import annotations

from community.errors import Conflict, Forbidden


def _locked() -> Conflict:
    return Conflict("locked", code="thing_locked")


def thing_create(*, name: str) -> None:
    if name == "admin":
        raise Forbidden("reserved", code="name_reserved")
    raise _locked()


def thing_archive(*, thing_id: str) -> None:
    raise Conflict("archived")
