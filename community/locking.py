"""Row locks, taken one way everywhere: only inside a transaction, only on the rows meant, in
the weakest mode that works, in a fixed order.

Why (see pretix's ``base/services/locking.py`` and Zulip's database-concurrency notes):

* A lock outside ``transaction.atomic`` is released by autocommit at once and protects nothing,
  so asking for one there is a bug: :class:`LockOutsideTransaction` is raised.
* ``select_for_update()`` with ``select_related()`` also locks every joined row (the community of
  a poll, the user of a notification); :func:`lock_rows` always passes ``of=("self",)``.
* A plain ``FOR UPDATE`` conflicts with the ``FOR KEY SHARE`` lock that PostgreSQL takes on the
  referenced row for every foreign-key insert, so locking a community would stall every new
  membership, poll and notification pointing at it. Rows we update without changing their key
  are locked ``FOR NO KEY UPDATE``; only rows about to be deleted need ``FOR UPDATE``.
* Rows are locked in primary-key order, so two transactions locking overlapping sets wait
  for each other instead of deadlocking.

Every ``select_for_update`` of the code base goes through here; hand-written SQL appends
:func:`lock_sql`."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


class LockOutsideTransaction(RuntimeError):
    """A row lock was requested outside ``transaction.atomic`` (a programming error)."""


class Strength(StrEnum):
    """PostgreSQL row-lock modes we use, weakest first."""

    SHARE = "FOR SHARE"  # keep the row as read until commit; blocks updates, not readers
    NO_KEY_UPDATE = "FOR NO KEY UPDATE"  # about to update non-key columns (the usual case)
    UPDATE = "FOR UPDATE"  # about to delete the row or change its key


def ensure_in_transaction(using: str = DEFAULT_DB_ALIAS) -> None:
    """Raise :class:`LockOutsideTransaction` unless a transaction is open on ``using``."""
    if not connections[using].in_atomic_block:
        raise LockOutsideTransaction(
            "row locks are held until commit; take them inside transaction.atomic()"
        )


def lock_rows(
    queryset: QuerySet[M], *, for_delete: bool = False, skip_locked: bool = False
) -> QuerySet[M]:
    """``queryset`` locking only its own rows, ``FOR NO KEY UPDATE`` (``FOR UPDATE`` with
    ``for_delete``), ordered by primary key. ``skip_locked`` leaves rows another transaction
    holds out of the result (work queues). Raises :class:`LockOutsideTransaction` when no
    transaction is open."""
    ensure_in_transaction(queryset.db)
    return queryset.select_for_update(
        no_key=not for_delete, of=("self",), skip_locked=skip_locked
    ).order_by("pk")


def lock_sql(strength: Strength = Strength.NO_KEY_UPDATE, *, using: str = DEFAULT_DB_ALIAS) -> str:
    """The locking clause to append to a hand-written ``SELECT`` of one table (empty on
    databases without row locks, such as SQLite, which locks the whole database on write).
    Raises :class:`LockOutsideTransaction` when no transaction is open."""
    ensure_in_transaction(using)
    if not connections[using].features.has_select_for_update:
        return ""
    return f" {strength.value}"
