"""The floor of the board benchmark: the least a card move can cost behind the same token
authentication, in raw SQL (never in production URLs: only ``tests.benchmarks.board_settings``,
the settings ``bench_boards.py`` runs gunicorn with, serves this URL module).

``POST /bench/floor/tasks/<task_id>/move {"column_id": ..., "index": n}`` does what a move
must do and nothing else, in one transaction: lock the target column (as the real move does, so
two moves into one column still queue), read the two positions around ``index`` in one
statement, and update the task to their midpoint. No membership, assignee or WIP check, no
activity row, no serializer; when no integer is left between the neighbours the task stays
where it is (the real move renumbers the column: a rare path, see ``rebalances_per_10k_moves``).
What the real ``POST /api/v1/tasks/<id>/move`` adds on top of this is what ``move_over_floor``
measures."""

from __future__ import annotations

from django.db import connection, transaction
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from community.throttling import WriteThrottle
from community.urls import urlpatterns as production_urlpatterns
from roles.positions import between

# The lock is its own statement: in READ COMMITTED a statement that waited for a row lock
# still reads every other table from the snapshot it started with, so neighbours read in the
# locking statement could miss a move committed meanwhile and collide with it.
_LOCK = "SELECT id FROM roles_column WHERE id = %s FOR NO KEY UPDATE"
_NEIGHBOURS = """
SELECT position FROM roles_task WHERE column_id = %(column)s AND id <> %(task)s
ORDER BY position OFFSET %(offset)s LIMIT %(limit)s
"""


class FloorMove(APIView):
    throttle_classes = [WriteThrottle]

    def post(self, request, task_id: str):
        column, index = request.data["column_id"], max(0, int(request.data.get("index", 0)))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_LOCK, [column])
            cursor.execute(
                _NEIGHBOURS,
                {
                    "column": column,
                    "task": task_id,
                    "offset": max(0, index - 1),
                    "limit": 1 if index == 0 else 2,
                },
            )
            found = [row[0] for row in cursor.fetchall()]
            if index == 0:
                previous, following = None, (found[0] if found else None)
            elif found:
                previous, following = found[0], (found[1] if len(found) > 1 else None)
            else:  # past the end: after the last task
                cursor.execute(
                    "SELECT max(position) FROM roles_task WHERE column_id = %s AND id <> %s",
                    [column, task_id],
                )
                previous, following = cursor.fetchone()[0], None
            position = between(previous, following)
            if position is not None:
                cursor.execute(
                    "UPDATE roles_task SET column_id = %s, position = %s, updated_at = %s "
                    "WHERE id = %s",
                    [column, position, timezone.now(), task_id],
                )
        return Response({"moved": position is not None, "position": position})


urlpatterns = [
    path("bench/floor/tasks/<str:task_id>/move", FloorMove.as_view()),
    *production_urlpatterns,
]
