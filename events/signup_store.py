"""Hand-written SQL of the sign-up hot path (besides the seat guard in ``events/seats.py``):
the first insert of a member's registration and the event's waitlist counters. Every
statement runs inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import connection

from community.locking import Strength, lock_sql
from events.models import Event, Registration


def registration_insert_once(**values: Any) -> bool:
    """``INSERT ... ON CONFLICT (community, event, user) DO NOTHING``; True when inserted. A
    parallel first sign-up of the same member waits for the other and then reports False, so
    the caller falls back to the update path without a savepoint."""
    fields = [Registration._meta.get_field(name) for name in values]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    sql = (
        f"INSERT INTO {quote(Registration._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        "ON CONFLICT (community_id, event_id, user_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def event_counters_locked(event_id: str) -> dict[str, Any]:
    """The event's counters, read with its row locked ``FOR NO KEY UPDATE`` (the caller's
    transaction holds it until commit)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seats_taken, capacity, waitlist_count, cancelled_at "  # noqa: S608
            f"FROM {Event._meta.db_table} WHERE id = %s{lock_sql()}",
            [event_id],
        )
        taken, capacity, waiting, cancelled_at = cursor.fetchone()
    return {
        "taken": taken,
        "capacity": capacity,
        "waiting": waiting,
        "cancelled": cancelled_at is not None,
    }


def waitlist_join(event_id: str) -> int:
    """One more member in line: their place (``waitlist_seq``), taken under the event lock, so
    places follow the order in which members were refused a seat."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Event._meta.db_table} SET waitlist_count = waitlist_count + 1, "  # noqa: S608
            "waitlist_seq = waitlist_seq + 1 WHERE id = %s RETURNING waitlist_seq",
            [event_id],
        )
        return cursor.fetchone()[0]


def waitlist_leave(event_id: str, n: int = 1) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Event._meta.db_table} SET waitlist_count = waitlist_count - %s "  # noqa: S608
            "WHERE id = %s",
            [n, event_id],
        )


def event_still_on(event_id: str) -> bool:
    """True when the event is not cancelled, share-locking its row until commit (the guard
    of a batch of reminders: a cancellation either committed before or waits)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Event._meta.db_table} "  # noqa: S608
            f"WHERE id = %s AND cancelled_at IS NULL{lock_sql(Strength.SHARE)}",
            [event_id],
        )
        return cursor.fetchone() is not None
