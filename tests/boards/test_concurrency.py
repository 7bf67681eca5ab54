"""Parallel requests on PostgreSQL: real threads, each with its own database connection.

Moves lock the columns they touch, so many members moving cards at once never put two tasks at
one position and never lose one, even when the gap runs out and columns are renumbered; the
WIP limit and the volunteer slots hold under the same storm. The control shows the unique
constraint is what a move without the lock would run into."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections, transaction

from roles.models import Column, SlotClaim, SlotStatus, Task
from tests.boards.conftest import columns_of
from tests.conftest import client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL (SQLite serialises every write)",
    ),
]

MAX_PARALLEL = 32


def _in_threads(count: int, work):
    gate = threading.Event()

    def run(i):
        try:
            gate.wait(timeout=30)
            return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=min(count, MAX_PARALLEL)) as pool:
        futures = [pool.submit(run, i) for i in range(count)]
        gate.set()
        return [future.result() for future in futures]


def _assert_consistent(board, task_ids: set[str]) -> None:
    rows = list(Task.objects.filter(board=board).values_list("id", "column_id", "position"))
    assert {row[0] for row in rows} == task_ids, "a task was lost or duplicated"
    keys = [(column, position) for _id, column, position in rows]
    assert len(set(keys)) == len(keys), "two tasks share a position"


def test_parallel_moves_never_share_a_position_nor_lose_a_task(admin, make_board, make_task):
    board = make_board()
    columns = columns_of(board)
    tasks = [make_task(board, title=f"t{i}", column=columns[i % 3]) for i in range(30)]
    clients = [client_for(admin[0].user) for _ in range(MAX_PARALLEL)]
    rng = random.Random(7)
    plans = []
    for _ in range(160):
        task, anchor = rng.sample(tasks, 2)
        kind = rng.choice(["after", "before", "index", "bottom"])
        body = {"column_id": rng.choice(columns).pk}
        if kind == "after":
            body = {"after_id": anchor.pk, "column_id": anchor.column_id}
        elif kind == "before":
            body = {"before_id": anchor.pk, "column_id": anchor.column_id}
        elif kind == "index":
            body["index"] = rng.randint(0, 12)
        plans.append((task.pk, body))

    def work(i):
        task_id, body = plans[i]
        return (
            clients[i % MAX_PARALLEL]
            .post(f"/api/v1/tasks/{task_id}/move", body, format="json")
            .status_code
        )

    codes = _in_threads(len(plans), work)
    assert set(codes) <= {200, 409}  # 409: the named neighbour had moved away meanwhile
    assert codes.count(200) > 100
    _assert_consistent(board, {t.pk for t in tasks})


def test_parallel_moves_into_one_gap_rebalance_without_collisions(admin, make_board, make_task):
    board = make_board()
    todo, doing, _done = columns_of(board)
    first = make_task(board, title="first", column=doing)
    make_task(board, title="last", column=doing)
    movers = [make_task(board, title=f"m{i}", column=todo) for i in range(60)]
    clients = [client_for(admin[0].user) for _ in range(MAX_PARALLEL)]

    def work(i):
        response = clients[i % MAX_PARALLEL].post(
            f"/api/v1/tasks/{movers[i].pk}/move",
            {"column_id": doing.pk, "after_id": first.pk},
            format="json",
        )
        assert response.status_code == 200, response.content
        return response.json()["rebalanced"]

    rebalanced = _in_threads(len(movers), work)
    assert sum(rebalanced) >= 2  # 60 moves into one gap: it ran out and was renumbered
    _assert_consistent(
        board,
        {first.pk, *(m.pk for m in movers)}
        | set(Task.objects.filter(board=board, title="last").values_list("id", flat=True)),
    )
    order = list(
        Task.objects.filter(column=doing).order_by("position").values_list("title", flat=True)
    )
    assert order[0] == "first" and order[-1] == "last" and len(order) == 62


def test_wip_limit_holds_under_parallel_moves(admin, make_board, make_task):
    board = make_board(
        columns=[{"title": "待办"}, {"title": "进行中", "wip_limit": 3}, {"title": "完成"}]
    )
    todo, doing, _done = columns_of(board)
    tasks = [make_task(board, title=f"t{i}") for i in range(20)]
    clients = [client_for(admin[0].user) for _ in range(20)]

    def work(i):
        return (
            clients[i]
            .post(f"/api/v1/tasks/{tasks[i].pk}/move", {"column_id": doing.pk}, format="json")
            .status_code
        )

    codes = _in_threads(20, work)
    assert codes.count(200) == 3 and codes.count(409) == 17
    assert Task.objects.filter(column=doing).count() == 3


def test_volunteer_slots_never_overfill_and_the_waitlist_keeps_the_rest(
    make_member, make_board, make_task
):
    task = make_task(make_board(), title="需要3人搬物资", slots_total=3)
    members = [make_member() for _ in range(24)]

    def work(i):
        return members[i][1].put(f"/api/v1/tasks/{task.pk}/slot").json()["status"]

    statuses = _in_threads(24, work)
    assert statuses.count("confirmed") == 3 and statuses.count("waitlisted") == 21
    task.refresh_from_db()
    assert task.slots_filled == 3
    assert SlotClaim.objects.filter(task=task, status=SlotStatus.CONFIRMED).count() == 3

    # parallel withdrawals of the confirmed: each frees one slot for the next in line
    confirmed = [
        m
        for m in members
        if SlotClaim.objects.filter(task=task, user=m[0].user, status="confirmed").exists()
    ]

    def withdraw(i):
        return confirmed[i][1].delete(f"/api/v1/tasks/{task.pk}/slot").status_code

    assert _in_threads(3, withdraw) == [204] * 3
    task.refresh_from_db()
    assert task.slots_filled == 3
    assert SlotClaim.objects.filter(task=task, status=SlotStatus.CONFIRMED).count() == 3


def test_control_two_tasks_at_one_position_is_refused_by_the_database(admin, make_board, make_task):
    """What the column lock prevents: a move that wrote a neighbour's position unlocked."""
    board = make_board()
    a, b = make_task(board, title="A"), make_task(board, title="B")
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=b.pk).update(position=a.position)


def test_control_the_slot_counter_cannot_pass_its_total(make_board, make_task):
    task = make_task(make_board(), slots_total=1)
    Task.objects.filter(pk=task.pk).update(slots_filled=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(slots_filled=2)
    assert Column.objects.exists()
