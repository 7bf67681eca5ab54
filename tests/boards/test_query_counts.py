"""Pinned query counts of the board's hot endpoints, independent of the data size."""

from __future__ import annotations

import pytest

from roles.models import Task, TaskAssignee
from roles.positions import GAP
from tests.boards.conftest import columns_of

pytestmark = pytest.mark.django_db

# auth token, board + membership (one join), columns, tasks with checklist counts, assignees,
# the member's role capabilities ("may I edit?", asked once)
BOARD_READ_QUERIES = 6
# an admin: auth token, task + board + membership (one join); SAVEPOINT, lock the target
# column, lock the task with the WIP count and the neighbours' positions (one statement),
# UPDATE task + INSERT activity (one statement), RELEASE. Was 10: the task lock, the
# neighbour, the next position, the update and the activity row were one statement each.
MOVE_QUERIES = 7
# auth token, membership, one page of my tasks (counts annotated), their assignees
MY_TASKS_QUERIES = 3


def _fill(board, count: int, assignees) -> None:
    """``count`` tasks spread over the board's columns, each with two assignees (bulk: the
    count of the read must not depend on how they were made)."""
    columns = columns_of(board)
    tasks = Task.objects.bulk_create(
        Task(
            community_id=board.community_id,
            board=board,
            column=columns[i % len(columns)],
            position=(i + 1) * GAP,
            title=f"任务{i}",
        )
        for i in range(count)
    )
    TaskAssignee.objects.bulk_create(
        TaskAssignee(community_id=board.community_id, task=task, user_id=user.pk)
        for task in tasks
        for user in assignees
    )


@pytest.mark.parametrize("tasks", [5, 500])
def test_board_read_query_count(make_member, make_board, django_assert_num_queries, tasks):
    board = make_board()
    members = [make_member()[0].user for _ in range(2)]
    _fill(board, tasks, members)
    _, client = make_member()
    with django_assert_num_queries(BOARD_READ_QUERIES):
        response = client.get(f"/api/v1/boards/{board.pk}")
    assert sum(len(c["tasks"]) for c in response.json()["columns"]) == tasks


def test_move_query_count(admin, make_board, make_task, django_assert_num_queries):
    board = make_board()
    a, b = make_task(board, title="A"), make_task(board, title="B")
    _, client = admin
    with django_assert_num_queries(MOVE_QUERIES):
        response = client.post(f"/api/v1/tasks/{b.pk}/move", {"after_id": a.pk}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("tasks", [1, 15])
def test_my_tasks_query_count(make_member, make_board, make_task, django_assert_num_queries, tasks):
    me, client = make_member()
    board = make_board()
    for i in range(tasks):
        make_task(board, title=f"t{i}", assignee_ids=[me.user_id])
    with django_assert_num_queries(MY_TASKS_QUERIES):
        response = client.get("/api/v1/me/tasks")
    assert len(response.json()["results"]) == tasks
