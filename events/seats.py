"""Seat counters that are never exceeded: the hand-written SQL of the seat guard.

A *seat counter* is a row with a "taken" column and an optional "capacity" column (an
event's seats; later a board's volunteer slots). Taking seats is one conditional ``UPDATE``
of that row, ``SET taken = taken + n WHERE taken + n <= capacity``: it row-locks the counter
until commit, and PostgreSQL re-checks the ``WHERE`` on the newest row version after waiting
for a concurrent taker, so parallel takers can never pass the capacity; a check constraint
on the table (``taken <= capacity``) backs it, so even a buggy caller fails instead of
overselling. Callers make this the last statement that takes seats in their transaction, so
the lock is held for as short a time as possible.

Nothing here knows about events: a :class:`SeatCounter` names the table and its columns, and
an optional ``extra`` SQL condition (for events: nobody is waiting in line) joins the guard.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from community.locking import lock_sql


@dataclass(frozen=True)
class SeatCounter:
    """Where a counter lives: ``table``'s row ``pk`` with ``taken`` and ``capacity`` (NULL
    capacity: unlimited) columns; ``extra`` is SQL ANDed into the guard of ``take``."""

    table: str
    taken: str = "seats_taken"
    capacity: str = "capacity"
    pk: str = "id"
    extra: str = ""


def take(counter: SeatCounter, *, pk: object, n: int, guard_extra: bool = True) -> int | None:
    """Take ``n`` seats if they fit (and ``counter.extra`` holds, unless ``guard_extra`` is
    false); the seats taken afterwards, or None when refused (nothing changed)."""
    extra = f" AND ({counter.extra})" if counter.extra and guard_extra else ""
    t, c = counter.taken, counter.capacity
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {counter.table} SET {t} = {t} + %s "  # noqa: S608 (no input in the SQL)
            f"WHERE {counter.pk} = %s AND ({c} IS NULL OR {t} + %s <= {c}){extra} "
            f"RETURNING {t}",
            [n, pk, n],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def release(counter: SeatCounter, *, pk: object, n: int) -> int:
    """Give back ``n`` seats; the seats taken afterwards."""
    t = counter.taken
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {counter.table} SET {t} = {t} - %s WHERE {counter.pk} = %s "  # noqa: S608
            f"RETURNING {t}",
            [n, pk],
        )
        return cursor.fetchone()[0]


def lock_counter(counter: SeatCounter, *, pk: object) -> tuple[int, int | None]:
    """Lock the counter row ``FOR NO KEY UPDATE`` (inside a transaction) and read
    ``(taken, capacity)``: for decisions that depend on the free seats (partial seats,
    promotions), taken under the lock so nobody moves the counter meanwhile."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {counter.taken}, {counter.capacity} FROM {counter.table} "  # noqa: S608
            f"WHERE {counter.pk} = %s{lock_sql()}",
            [pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(pk)
    return row[0], row[1]
