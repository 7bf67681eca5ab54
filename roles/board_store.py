"""Hand-written SQL of the board's hot path: renumbering a column (the rebalance).

A column is renumbered in two statements without a deferrable constraint: first every task of
the column is shifted above ``LIMIT`` (old positions are all below it, so no shifted row meets
an unshifted one), then each gets its fresh position ``(i + 1) * GAP`` (all below ``LIMIT``,
so none meets a row still shifted). The unique constraint ``(community, column, position)``
holds after each row. Call with the column locked (``community/locking.py``)."""

from __future__ import annotations

from django.db import connection

from roles.models import Task
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
