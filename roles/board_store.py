"""Hand-written SQL of the board's hot path: a move's locks and reads (:func:`column_lock`,
:func:`move_spot`), its write with the activity row (:func:`move_write`), and renumbering a
column (the rebalance).

A column is renumbered in two statements without a deferrable constraint: first every task of
the column is shifted above ``LIMIT`` (old positions are all below it, so no shifted row meets
an unshifted one), then each gets its fresh position ``(i + 1) * GAP`` (all below ``LIMIT``,
so none meets a row still shifted). The unique constraint ``(community, column, position)``
holds after each row. Call with the column locked (``community/locking.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from community.locking import lock_sql
from roles.models import Activity, ActivityVerb, Column, Task
from roles.positions import LIMIT, spread


def column_renumber(*, community_id: str, column_id: str, ordered_ids: list[str]) -> dict[str, int]:
    """Give the tasks ``ordered_ids`` (every task of the column, in their new order) fresh
    gapped positions; returns the new position of each. The tasks must already be in the
    column (moved in with a position above ``2 * LIMIT``)."""
    positions = dict(zip(ordered_ids, spread(len(ordered_ids)), strict=True))
    if not ordered_ids:
        return positions
    table = connection.ops.quote_name(Task._meta.db_table)
    scope = "community_id = %s AND column_id = %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET position = position + %s WHERE {scope} AND position < %s",  # noqa: S608
            [LIMIT, community_id, column_id, LIMIT],
        )
        if connection.vendor != "postgresql":  # development SQLite: one statement per task
            for task_id, position in positions.items():
                cursor.execute(
                    f"UPDATE {table} SET position = %s WHERE id = %s",  # noqa: S608
                    [position, task_id],
                )
            return positions
        values = ", ".join(["(%s, %s)"] * len(ordered_ids))
        params: list = []
        for task_id, position in positions.items():
            params += [task_id, position]
        cursor.execute(
            f"UPDATE {table} AS t SET position = v.position "  # noqa: S608
            f"FROM (VALUES {values}) AS v(id, position) "
            f"WHERE t.id = v.id AND t.community_id = %s AND t.column_id = %s",
            [*params, community_id, column_id],
        )
    return positions


# --- a move (``roles.services.tasks_move``) ---------------------------------------------------
_COLUMN_SQL = (
    f"SELECT * FROM {Column._meta.db_table} "  # noqa: S608 (no input in the SQL)
    "WHERE id = %s AND community_id = %s AND board_id = %s"
)


def column_lock(*, community_id: str, board_id: str, column_id: str) -> Column | None:
    """The column ``column_id`` of the board, row-locked (``FOR NO KEY UPDATE``) until commit;
    None when the board has no such column. Every move into a column takes this lock first."""
    sql = _COLUMN_SQL + lock_sql()
    rows = list(Column.objects.raw(sql, [column_id, community_id, board_id]))
    return rows[0] if rows else None


@dataclass(frozen=True)
class MoveSpot:
    """What a move reads under its column lock, with the task row locked in the same
    statement: where the task is, how many tasks the target column holds (WIP), and the
    positions around the requested place (``ref``: the named neighbour's, None when it is
    not in the column)."""

    from_column: str
    held: int
    previous: int | None
    following: int | None
    ref: int | None


def move_spot(
    *,
    community_id: str,
    task_id: str,
    column_id: str,
    after_id: str | None,
    before_id: str | None,
    index: int | None,
) -> MoveSpot | None:
    """Lock the task (after its target column, which the caller holds: the lock order of
    every board service) and read, in ONE statement, everything the move decides on; None
    when the task is gone. The reads see the column as committed when this statement
    started, after the column lock was granted, so no move into it can have slipped in; a
    task leaving it meanwhile only frees a position. Was four or five ORM statements."""
    task = connection.ops.quote_name(Task._meta.db_table)
    siblings = f"FROM {task} s WHERE s.community_id = %s AND s.column_id = %s AND s.id <> %s"
    scope = [community_id, column_id, task_id]
    if after_id or before_id:  # the named neighbour's position, None when not in the column
        ref = f"(SELECT s.position {siblings} AND s.id = %s)"
        ref_params = [*scope, after_id or before_id]
        if after_id:
            columns = f"{ref}, (SELECT min(s.position) {siblings} AND s.position > {ref})"
            params = [*ref_params, *scope, *ref_params]
        else:
            columns = f"(SELECT max(s.position) {siblings} AND s.position < {ref}), {ref}"
            params = [*scope, *ref_params, *ref_params]
    elif index is not None and index >= 0:
        nth = f"(SELECT s.position {siblings} ORDER BY s.position LIMIT 1 OFFSET %s)"
        if index == 0:
            columns = f"NULL, {nth}"
            params = [*scope, 0]
        else:  # past the end (fewer than ``index`` others): after the last one
            columns = f"COALESCE({nth}, (SELECT max(s.position) {siblings})), {nth}"
            params = [*scope, index - 1, *scope, *scope, index]
    else:
        columns = f"(SELECT max(s.position) {siblings}), NULL"
        params = list(scope)
    sql = (
        f"SELECT t.column_id, (SELECT count(*) FROM {task} h "  # noqa: S608 (no input)
        f"WHERE h.community_id = %s AND h.column_id = %s), {columns} "
        f"FROM {task} t WHERE t.id = %s AND t.community_id = %s" + lock_sql()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [community_id, column_id, *params, task_id, community_id])
        row = cursor.fetchone()
    if row is None:
        return None
    from_column, held, previous_pos, following_pos = row
    ref_pos = previous_pos if after_id else following_pos if before_id else None
    return MoveSpot(from_column, held, previous_pos, following_pos, ref_pos)


def move_write(
    *,
    community_id: str,
    board_id: str,
    task_id: str,
    column_id: str,
    position: int,
    now: datetime,
    actor_id: str | None,
    data: dict[str, Any],
) -> None:
    """Put the (locked) task at ``position`` of ``column_id`` and log the move on the board's
    activity, in one statement on PostgreSQL (two elsewhere)."""
    update = (
        f"UPDATE {Task._meta.db_table} SET column_id = %s, position = %s, updated_at = %s "  # noqa: S608
        "WHERE id = %s AND community_id = %s"
    )
    insert = (
        f"INSERT INTO {Activity._meta.db_table} "  # noqa: S608 (no input in the SQL)
        "(community_id, board_id, task_id, actor_id, verb, data, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )
    data_param = Activity._meta.get_field("data").get_db_prep_save(data, connection)
    update_params = [column_id, position, now, task_id, community_id]
    insert_params = [
        community_id,
        board_id,
        task_id,
        actor_id,
        ActivityVerb.TASK_MOVED,
        data_param,
        now,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH moved AS ({update}) {insert}", update_params + insert_params)
        else:
            cursor.execute(update, update_params)
            cursor.execute(insert, insert_params)
