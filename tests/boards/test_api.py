"""Boards end to end over HTTP: create, read, tasks, moves, WIP limits, stale edits, checklist,
comments, volunteer slots, the activity log and "my tasks"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from roles.models import Activity, Task
from tests.boards.conftest import CHECK, columns_of, order_of

pytestmark = pytest.mark.django_db


def test_admin_creates_a_board_with_default_columns_and_reads_it(admin):
    _, client = admin
    community_id = admin[0].community_id
    response = client.post(
        f"/api/v1/communities/{community_id}/boards", {"title": "周六徒步"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [c["title"] for c in body["columns"]] == ["待办", "进行中", "已完成"]
    assert [c["is_done"] for c in body["columns"]] == [False, False, True]
    assert body["my"] == {"can_edit": True, "can_comment": True}
    listed = client.get(f"/api/v1/communities/{community_id}/boards").json()["results"]
    assert [b["id"] for b in listed] == [body["id"]]


def test_task_lifecycle_over_http(admin, make_member, make_board):
    _, client = admin
    helper, helper_client = make_member()
    board = make_board()
    todo, doing, done = columns_of(board)
    due = (timezone.now() + timedelta(days=3)).isoformat()
    response = client.post(
        f"/api/v1/boards/{board.pk}/tasks",
        {
            "title": "做海报",
            "description": "A4 两张",
            "due_at": due,
            "labels": ["设计", "设计 "],
            "links": [{"url": "https://example.com/brief", "title": "说明"}],
            "assignee_ids": [helper.user_id],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    task = response.json()
    assert task["labels"] == ["设计"]
    assert task["column_id"] == todo.pk
    assert [a["id"] for a in task["assignees"]] == [helper.user_id]
    assert task["my"]["can_edit"] is True
    # the assignee moves their own task
    moved = helper_client.post(
        f"/api/v1/tasks/{task['id']}/move", {"column_id": doing.pk}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["column_id"] == doing.pk
    board_body = helper_client.get(f"/api/v1/boards/{board.pk}").json()
    assert [t["title"] for t in board_body["columns"][1]["tasks"]] == ["做海报"]
    assert board_body["my"]["can_edit"] is False
    # the log shows who did what, on the task and on the board
    verbs = [
        a["verb"] for a in client.get(f"/api/v1/tasks/{task['id']}/activity").json()["results"]
    ]
    assert verbs == ["task_moved", "task_assigned", "task_created"]
    board_verbs = [
        a["verb"] for a in client.get(f"/api/v1/boards/{board.pk}/activity").json()["results"]
    ]
    assert board_verbs[:3] == verbs and board_verbs[-1] == "board_created"


def test_move_by_neighbours_and_index(admin, make_board, make_task):
    _, client = admin
    board = make_board()
    todo, doing, _done = columns_of(board)
    a, b, c = (make_task(board, title=t) for t in "ABC")
    d = make_task(board, title="D", column=doing)

    def move(task, **body):
        response = client.post(f"/api/v1/tasks/{task.pk}/move", body, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    move(c, after_id=a.pk)
    assert order_of(todo) == ["A", "C", "B"]
    move(a, before_id=b.pk)
    assert order_of(todo) == ["C", "A", "B"]
    move(b, index=0)
    assert order_of(todo) == ["B", "C", "A"]
    move(b, column_id=doing.pk, before_id=d.pk)
    assert order_of(doing) == ["B", "D"]
    move(c, column_id=doing.pk, index=99)
    assert order_of(doing) == ["B", "D", "C"]
    gone = client.post(f"/api/v1/tasks/{a.pk}/move", {"after_id": b.pk}, format="json")
    assert gone.status_code == 409
    assert gone.json()["errors"][0]["code"] == "neighbour_not_in_column"


def test_repeated_moves_into_one_gap_rebalance_the_column_and_keep_the_order(
    admin, make_board, make_task
):
    _, client = admin
    board = make_board()
    todo = columns_of(board)[0]
    first = make_task(board, title="first")
    make_task(board, title="last")
    rebalanced = 0
    titles = ["first"]
    for i in range(40):  # each new task lands right after "first": the gap halves every time
        task = make_task(board, title=f"t{i}")
        body = client.post(
            f"/api/v1/tasks/{task.pk}/move", {"after_id": first.pk}, format="json"
        ).json()
        rebalanced += body["rebalanced"]
        titles.insert(1, f"t{i}")
    assert rebalanced >= 2  # 2**16 allows 16 halvings before a renumbering
    assert order_of(todo) == [*titles, "last"]
    positions = list(Task.objects.filter(column=todo).values_list("position", flat=True))
    assert len(set(positions)) == len(positions) == 42
    assert Activity.objects.filter(verb="task_moved", data__rebalanced=True).count() == rebalanced


def test_wip_limit_refuses_a_move_and_a_create_over_it(admin, make_board, make_task):
    _, client = admin
    board = make_board(
        columns=[{"title": "待办"}, {"title": "进行中", "wip_limit": 1}, {"title": "完成"}]
    )
    todo, doing, _done = columns_of(board)
    a, b = make_task(board, title="A"), make_task(board, title="B")
    assert (
        client.post(
            f"/api/v1/tasks/{a.pk}/move", {"column_id": doing.pk}, format="json"
        ).status_code
        == 200
    )
    refused = client.post(f"/api/v1/tasks/{b.pk}/move", {"column_id": doing.pk}, format="json")
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "wip_limit_reached"
    assert order_of(doing) == ["A"] and order_of(todo) == ["B"]
    # moving inside the full column is not "arriving"
    assert client.post(f"/api/v1/tasks/{a.pk}/move", {"index": 0}, format="json").status_code == 200
    created = client.post(
        f"/api/v1/boards/{board.pk}/tasks", {"title": "C", "column_id": doing.pk}, format="json"
    )
    assert created.status_code == 409
    assert created.json()["errors"][0]["code"] == "wip_limit_reached"


def test_stale_edit_answers_409_with_the_current_task(admin, make_board, make_task):
    _, client = admin
    task = make_task(make_board(), title="旧标题")
    first = client.patch(
        f"/api/v1/tasks/{task.pk}", {"version": 1, "title": "新标题"}, format="json"
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(
        f"/api/v1/tasks/{task.pk}", {"version": 1, "description": "覆盖"}, format="json"
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["errors"][0]["code"] == "task_version_stale"
    assert body["current"]["title"] == "新标题" and body["current"]["version"] == 2
    task.refresh_from_db()
    assert task.description == ""


def test_assignee_ticks_the_checklist_and_a_member_cannot(
    admin, make_member, make_board, make_task
):
    _, client = admin
    helper, helper_client = make_member()
    _other, other_client = make_member()
    task = make_task(make_board(), assignee_ids=[helper.user_id])
    item = client.post(
        f"/api/v1/tasks/{task.pk}/checklist", {"title": "买胶带"}, format="json"
    ).json()
    url = f"/api/v1/checklist-items/{item['id']}"
    assert other_client.patch(url, {"done": True}, format="json").status_code == 403
    ticked = helper_client.patch(url, {"done": True}, format="json")
    assert ticked.status_code == 200 and ticked.json()["done"] is True
    assert helper_client.patch(url, {"title": "改名"}, format="json").status_code == 403
    card = client.get(f"/api/v1/tasks/{task.pk}").json()
    assert (card["checklist_total"], card["checklist_done"]) == (1, 1)


def test_comment_is_screened_and_mentions_are_notified(
    admin, make_member, make_board, make_task, content_ok
):
    from community.models import Notification

    _, client = admin
    friend, _ = make_member()
    task = make_task(make_board())
    response = client.post(
        f"/api/v1/tasks/{task.pk}/comments",
        {"body": "海报@小王 看一下", "mention_ids": [friend.user_id]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert any(request.path == CHECK for request, _ in content_ok.log)
    assert Notification.objects.filter(kind="task_mentioned", recipient=friend.user).count() == 1
    listed = client.get(f"/api/v1/tasks/{task.pk}/comments").json()["results"]
    assert [c["body"] for c in listed] == ["海报@小王 看一下"]


def test_risky_comment_is_refused_and_not_stored(admin, make_board, make_task, wechat_server):
    _, client = admin
    task = make_task(make_board())
    wechat_server.expect_request(CHECK).respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "risky", "label": 20001}}
    )
    response = client.post(f"/api/v1/tasks/{task.pk}/comments", {"body": "广告"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "content_risky"
    assert not task.comments.exists()


def test_volunteer_slots_fill_then_waitlist_and_withdraw_promotes(
    admin, make_member, make_board, make_task
):
    task = make_task(make_board(), title="需要2人搬物资", slots_total=2)
    clients = [make_member()[1] for _ in range(3)]
    statuses = [c.put(f"/api/v1/tasks/{task.pk}/slot").json()["status"] for c in clients]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    assert clients[0].put(f"/api/v1/tasks/{task.pk}/slot").json()["status"] == "confirmed"
    assert clients[0].delete(f"/api/v1/tasks/{task.pk}/slot").status_code == 204
    mine = clients[2].get(f"/api/v1/tasks/{task.pk}").json()
    assert mine["my"]["slot_status"] == "confirmed"
    assert mine["slots_filled"] == 2
    no_slots = make_task(make_board())
    refused = clients[1].put(f"/api/v1/tasks/{no_slots.pk}/slot")
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "no_slots"


def test_my_tasks_across_communities_sorted_by_due_date_and_paginated(
    make_member, make_board, make_task
):
    from tests.factories import CommunityFactory, MembershipFactory

    me, client = make_member()
    board = make_board()
    now = timezone.now()
    make_task(board, title="later", due_at=now + timedelta(days=5), assignee_ids=[me.user_id])
    make_task(board, title="undated", assignee_ids=[me.user_id])
    make_task(board, title="not mine", due_at=now + timedelta(days=1))
    elsewhere = CommunityFactory()
    MembershipFactory(community=elsewhere, user=me.user)
    other_admin = MembershipFactory(community=elsewhere, tier="admin")
    other_board = make_board(actor=other_admin)
    make_task(
        other_board,
        title="soon",
        actor=other_admin,
        due_at=now + timedelta(hours=3),
        assignee_ids=[me.user_id],
    )
    first = client.get("/api/v1/me/tasks?page_size=2").json()
    assert [t["title"] for t in first["results"]] == ["soon", "later"]
    second = client.get(first["next"]).json()
    assert [t["title"] for t in second["results"]] == ["undated"]
    assert second["next"] is None
