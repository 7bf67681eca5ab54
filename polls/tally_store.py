"""Hand-written SQL of the polls hot path: the one-statement ballot upserts, the tally changes
and the "still open" guard. Every statement runs inside the caller's transaction; PostgreSQL
gets the single-statement forms, other databases a portable equivalent."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils.translation import gettext as _

from community.db.prepared import prepared_cursor
from community.errors import Conflict
from community.locking import Strength, lock_rows, lock_sql
from polls.models import (
    Ballot,
    Poll,
    Tally,
)

logger = logging.getLogger(__name__)

RECEIPT_MIN_LENGTH = 32


def insert_once(model, conflict: Iterable[str], **values: Any) -> bool:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING`` in one statement (PostgreSQL and
    SQLite); True when the row was inserted. A concurrent insert of the same key waits for the
    other transaction and then reports False, so callers never need a savepoint."""
    fields = [model._meta.get_field(name) for name in values]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    target = ", ".join(quote(model._meta.get_field(name).column) for name in conflict)
    sql = (
        # identifiers come from model meta, values are parameters
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({target}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def tally_rows(removed: Iterable[str], added: Iterable[str]) -> list[tuple[str, int]]:
    delta = Counter(added)
    delta.subtract(removed)
    rows = sorted((key, change) for key, change in delta.items() if change)
    if any(change not in (1, -1) for _key, change in rows):
        raise ValueError(f"tally changes must be +1 or -1: {rows!r}")
    return rows


def tally_record(
    poll: Poll,
    *,
    now: datetime,
    voters: int,
    removed: Iterable[str] = (),
    added: Iterable[str] = (),
) -> None:
    """The last statement of a ballot transaction: the "still open" guard on the poll row, then
    the tally changes (-1 per removed key, +1 per added key). Raises 409 (rolling back the whole
    transaction) when the poll closed or was finalized meanwhile.

    The guard also requires the poll's ``shape_version`` to be the one ``poll`` (the copy the
    ballot was validated against, read without a lock) carries: an edit of the kind, ranges
    or options bumps it under the poll's row lock, so a vote validated before such an edit
    committed is refused with 409 ``poll_changed`` instead of storing a ballot of the old
    shape (which later breaks change and withdraw). Edits of the shape are refused once
    anyone voted, so the guard only ever refuses votes racing the first one.

    Locks, in this order: the poll row — ``UPDATE voter_count`` (exclusive) when a ballot is
    added or withdrawn, ``FOR SHARE`` when one is replaced, so replacements do not queue behind
    each other — then the tally rows in key order. Every ballot write follows this order, so
    they cannot deadlock; the finalize task's ``FOR NO KEY UPDATE`` on the poll conflicts with both,
    so it either sees this ballot or this guard matches no row.

    A ballot holds each key at most once, so every net change is +1 or -1; it is sent as the
    inserted count (1 or 0) and applied as ``count + 2 * excluded.count - 1``. A decrement of a
    missing or zero row would break ``count >= 0``, which is the point: tallies never drift.
    On PostgreSQL guard and upsert are one statement (a data-modifying CTE), so hot tally rows
    stay locked only for that statement and the commit."""
    rows = tally_rows(removed, added)
    quote = connection.ops.quote_name
    table, key, count = quote(Tally._meta.db_table), quote("key"), quote("count")
    upsert_tail = (
        f"ON CONFLICT (community_id, poll_id, {key}) "
        f"DO UPDATE SET {count} = {table}.{count} + 2 * excluded.{count} - 1"
    )
    params: list[Any] = []
    for tally_key, change in rows:
        params += [poll.community_id, poll.pk, tally_key, 1 if change > 0 else 0]
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))

    if connection.vendor == "postgresql" and rows:
        head, head_params = guard_sql(poll, now=now, voters=voters)
        sql = (
            f"WITH guard AS ({head}) "  # noqa: S608 - identifiers from model meta
            f"INSERT INTO {table} (community_id, poll_id, {key}, {count}) "
            f"SELECT v.c, v.p, v.k, v.n FROM (VALUES {values}) AS v(c, p, k, n) "
            f"WHERE EXISTS (SELECT 1 FROM guard) ORDER BY v.k {upsert_tail}"
        )
        with prepared_cursor() as cursor:
            cursor.execute(sql, head_params + params)
            ok = cursor.rowcount > 0
    else:
        guard = Poll.objects.filter(
            pk=poll.pk,
            shape_version=poll.shape_version,
            closed_at__isnull=True,
            finalized_at__isnull=True,
            opens_at__lte=now,
            closes_at__gt=now,
        )
        if voters:
            ok = bool(guard.update(voter_count=F("voter_count") + voters))
        else:
            sql, guard_params = guard.values("pk").query.sql_with_params()
            if connection.vendor == "postgresql":
                sql += " FOR SHARE"
            with connection.cursor() as cursor:
                cursor.execute(sql, guard_params)
                ok = cursor.fetchone() is not None
        if ok and rows:
            sql = (
                f"INSERT INTO {table} (community_id, poll_id, {key}, {count}) "  # noqa: S608
                f"VALUES {values} {upsert_tail}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    if not ok:
        raise guard_refusal(poll)
    poll.voter_count += voters


def guard_sql(poll: Poll, *, now: datetime, voters: int) -> tuple[str, list[Any]]:
    """The "still open" guard of a ballot as a statement to put at the head of a
    data-modifying CTE (PostgreSQL): ``UPDATE voter_count`` when a voter comes or goes,
    ``FOR SHARE`` when a ballot is replaced. It yields one row when the poll is open at
    ``now`` with the shape ``poll`` was validated against, none otherwise."""
    poll_table = connection.ops.quote_name(Poll._meta.db_table)
    condition = (
        "id = %s AND shape_version = %s AND closed_at IS NULL AND finalized_at IS NULL "
        "AND opens_at <= %s AND closes_at > %s"
    )
    condition_params = [poll.pk, poll.shape_version, now, now]
    if voters:
        head = (
            f"UPDATE {poll_table} SET voter_count = voter_count + %s "  # noqa: S608
            f"WHERE {condition} RETURNING 1"
        )
        return head, [voters, *condition_params]
    return f"SELECT 1 FROM {poll_table} WHERE {condition} FOR SHARE", condition_params  # noqa: S608


def guard_refusal(poll: Poll) -> Conflict:
    """Why the guard matched no row: the poll's shape changed since the ballot was validated
    (its kind, ranges or options were edited meanwhile), or it closed."""
    current = Poll.objects.filter(pk=poll.pk).values_list("shape_version", flat=True).first()
    if current is not None and current != poll.shape_version:
        return Conflict(
            _("This poll was changed while you were voting. Please look at it again and vote."),
            code="poll_changed",
        )
    return Conflict(_("This poll has closed; votes are no longer accepted."), code="poll_closed")


def poll_hold_open(*, poll_id: str, now: datetime) -> bool:
    """The "still open" guard without a write, as the last statement of a transaction: True
    when the poll is open at ``now``, and then its row stays share-locked (``FOR SHARE``)
    until commit, so a close waits for this transaction; a close in progress is waited for
    and then seen. Call inside a transaction."""
    guard = Poll.objects.filter(
        pk=poll_id,
        closed_at__isnull=True,
        finalized_at__isnull=True,
        opens_at__lte=now,
        closes_at__gt=now,
    )
    sql, params = guard.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql + lock_sql(Strength.SHARE), params)
        return cursor.fetchone() is not None


def upsert_named_portable(membership, poll, choices, now) -> tuple[bool, dict | None]:
    """Insert the ballot, or lock and replace it; returns (created, previous choices/reason)."""
    inserted = insert_once(
        Ballot,
        ("community", "poll", "voter"),
        community=poll.community_id,
        poll=poll.pk,
        voter=membership.user_id,
        choices=choices.data,
        reason=choices.reason,
        created_at=now,
        updated_at=now,
    )
    if inserted:
        return True, None
    old = (
        lock_rows(
            Ballot.objects.filter(
                community_id=poll.community_id, poll_id=poll.pk, voter_id=membership.user_id
            )
        )
        .values("pk", "choices", "reason")
        .get()
    )
    if old["choices"] != choices.data or old["reason"] != choices.reason:
        Ballot.objects.filter(pk=old["pk"]).update(
            choices=choices.data, reason=choices.reason, updated_at=now
        )
    return False, old


_UPSERT_NAMED_SQL = """
WITH old AS (
    SELECT id, choices, reason FROM {t}
    WHERE community_id = %(c)s AND poll_id = %(p)s AND voter_id = %(v)s {lock}
), ins AS (
    INSERT INTO {t} (community_id, poll_id, voter_id, choices, reason, created_at, updated_at)
    SELECT %(c)s, %(p)s, %(v)s, %(choices)s, %(reason)s, %(now)s, %(now)s
    WHERE NOT EXISTS (SELECT 1 FROM old)
    ON CONFLICT (community_id, poll_id, voter_id) DO NOTHING
    RETURNING id
), upd AS (
    UPDATE {t} AS b SET choices = %(choices)s, reason = %(reason)s, updated_at = %(now)s
    FROM old WHERE b.id = old.id
    RETURNING old.choices, old.reason
)
SELECT (SELECT count(*) FROM ins), (SELECT choices FROM upd), (SELECT reason FROM upd)
"""


def upsert_named_pg(membership, poll, choices, now) -> tuple[bool, dict | None]:
    """PostgreSQL: insert or replace the member's ballot in one statement and return the
    previous choices (locked by ``FOR NO KEY UPDATE`` first, so they are the ones being replaced). If
    a concurrent first vote of the same member was not yet visible, the insert waits for it and
    does nothing; the statement is then run again and replaces that ballot."""
    field = Ballot._meta.get_field("choices")
    sql = _UPSERT_NAMED_SQL.format(
        t=connection.ops.quote_name(Ballot._meta.db_table), lock=lock_sql().strip()
    )
    params = {
        "c": poll.community_id,
        "p": poll.pk,
        "v": membership.user_id,
        "choices": field.get_db_prep_save(choices.data, connection),
        "reason": choices.reason,
        "now": now,
    }
    for _attempt in range(3):
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            inserted, old_choices, old_reason = cursor.fetchone()
        if inserted:
            return True, None
        if old_choices is not None:
            if not isinstance(old_choices, dict):
                old_choices = field.from_db_value(old_choices, None, connection)
            return False, {"choices": old_choices, "reason": old_reason}
    raise Conflict(_("Your ballot changed meanwhile; please try again."), code="retry")
