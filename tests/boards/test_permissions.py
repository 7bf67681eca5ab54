"""Who may do what on a board, through ``community.authz``: board editors are the admin tiers
and holders of a role with "manage boards"; an assignee moves their own task and ticks its
checklist; members comment where they see the board; everything else 403; other communities'
boards and team boards of another team 404."""

from __future__ import annotations

import pytest

from community.models import Tier
from roles.models import BoardVisibility
from tests.boards.conftest import columns_of, give_role
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _edit_calls(board, task, column):
    """Every editor-only request, as (method, url, body)."""
    return [
        ("post", f"/api/v1/communities/{board.community_id}/boards", {"title": "新看板"}),
        ("patch", f"/api/v1/boards/{board.pk}", {"title": "改名"}),
        ("post", f"/api/v1/boards/{board.pk}/columns", {"title": "新列"}),
        ("patch", f"/api/v1/board-columns/{column.pk}", {"wip_limit": 5}),
        ("post", f"/api/v1/boards/{board.pk}/tasks", {"title": "新任务"}),
        ("patch", f"/api/v1/tasks/{task.pk}", {"version": 1, "title": "改"}),
        ("post", f"/api/v1/tasks/{task.pk}/checklist", {"title": "步骤"}),
        ("post", f"/api/v1/tasks/{task.pk}/move", {"index": 0}),
        ("delete", f"/api/v1/tasks/{task.pk}", None),
    ]


@pytest.mark.parametrize("tier", [Tier.MEMBER, Tier.MODERATOR])
def test_members_and_moderators_may_not_edit_boards(make_member, make_board, make_task, tier):
    board = make_board()
    task = make_task(board)
    _, client = make_member(tier=tier)
    for method, url, body in _edit_calls(board, task, columns_of(board)[0]):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["errors"][0]["code"] == "tier_too_low"


@pytest.mark.parametrize("tier", [Tier.ADMIN, Tier.OWNER])
def test_admin_tiers_edit_boards(make_member, make_board, make_task, tier):
    board = make_board()
    task = make_task(board)
    _, client = make_member(tier=tier)
    for method, url, body in _edit_calls(board, task, columns_of(board)[0]):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code in (200, 201, 204), (method, url, response.content)


def test_a_manage_boards_role_makes_a_member_an_editor(make_member, make_board, make_task):
    board = make_board()
    task = make_task(board)
    holder, client = make_member()
    give_role(holder, "manage_boards")
    for method, url, body in _edit_calls(board, task, columns_of(board)[0]):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code in (200, 201, 204), (method, url, response.content)


def test_a_role_without_manage_boards_grants_nothing_here(make_member, make_board, make_task):
    board = make_board()
    task = make_task(board)
    holder, client = make_member()
    give_role(holder, "create_polls", "manage_events")
    response = client.patch(f"/api/v1/tasks/{task.pk}", {"version": 1, "title": "x"}, format="json")
    assert response.status_code == 403


def test_assignee_moves_only_their_own_task(make_member, make_board, make_task):
    board = make_board()
    doing = columns_of(board)[1]
    me, client = make_member()
    mine = make_task(board, title="mine", assignee_ids=[me.user_id])
    other = make_task(board, title="other")
    assert (
        client.post(
            f"/api/v1/tasks/{mine.pk}/move", {"column_id": doing.pk}, format="json"
        ).status_code
        == 200
    )
    refused = client.post(f"/api/v1/tasks/{other.pk}/move", {"column_id": doing.pk}, format="json")
    assert refused.status_code == 403
    # an assignee may not edit the task itself
    assert (
        client.patch(
            f"/api/v1/tasks/{mine.pk}", {"version": 1, "title": "x"}, format="json"
        ).status_code
        == 403
    )


def test_muted_assignee_may_not_move_or_comment_but_may_read(make_member, make_board, make_task):
    board = make_board()
    me, client = make_member(status="muted")
    task = make_task(board, assignee_ids=[me.user_id])
    assert client.get(f"/api/v1/boards/{board.pk}").status_code == 200
    moved = client.post(f"/api/v1/tasks/{task.pk}/move", {"index": 0}, format="json")
    assert moved.status_code == 403 and moved.json()["errors"][0]["code"] == "muted"
    comment = client.post(f"/api/v1/tasks/{task.pk}/comments", {"body": "hi"}, format="json")
    assert comment.status_code == 403 and comment.json()["errors"][0]["code"] == "muted"


def test_other_communities_boards_answer_404(make_board, make_task):
    board = make_board()
    task = make_task(board)
    stranger = MembershipFactory(community=CommunityFactory(), tier=Tier.OWNER)
    client = client_for(stranger.user)
    urls = [
        f"/api/v1/boards/{board.pk}",
        f"/api/v1/tasks/{task.pk}",
        f"/api/v1/tasks/{task.pk}/comments",
        f"/api/v1/boards/{board.pk}/activity",
        f"/api/v1/communities/{board.community_id}/boards",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/api/v1/tasks/{task.pk}/move", {"index": 0}, format="json").status_code == 404
    )
    assert client.put(f"/api/v1/tasks/{task.pk}/slot").status_code == 404


def test_team_board_is_seen_by_its_team_only(make_member, make_board, make_task):
    team_member, team_client = make_member()
    role = give_role(team_member, name="新人欢迎")
    board = make_board(visibility=BoardVisibility.TEAM, team_role_id=role.pk)
    task = make_task(board)
    outsider, outsider_client = make_member()
    assignee, assignee_client = make_member()
    make_task(board, title="assigned", assignee_ids=[assignee.user_id])
    assert team_client.get(f"/api/v1/boards/{board.pk}").status_code == 200
    assert assignee_client.get(f"/api/v1/boards/{board.pk}").status_code == 200
    assert outsider_client.get(f"/api/v1/boards/{board.pk}").status_code == 404
    assert outsider_client.get(f"/api/v1/tasks/{task.pk}").status_code == 404
    listed = outsider_client.get(f"/api/v1/communities/{board.community_id}/boards").json()
    assert listed["results"] == []
    team_listed = team_client.get(f"/api/v1/communities/{board.community_id}/boards").json()
    assert [b["id"] for b in team_listed["results"]] == [board.pk]


def test_member_comments_where_the_board_is_visible(make_member, make_board, make_task, content_ok):
    board = make_board()
    task = make_task(board)
    _, client = make_member()
    response = client.post(f"/api/v1/tasks/{task.pk}/comments", {"body": "我来帮忙"}, format="json")
    assert response.status_code == 201


def test_owning_role_holder_takes_the_task_then_moves_it(make_member, make_board, make_task):
    board = make_board()
    holder, client = make_member()
    role = give_role(holder, name="活动策划")
    task = make_task(board, owning_role_id=role.pk)
    _, other_client = make_member()
    refused = other_client.post(f"/api/v1/tasks/{task.pk}/take")
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "not_role_holder"
    assert client.get(f"/api/v1/tasks/{task.pk}").json()["my"]["can_take"] is True
    taken = client.post(f"/api/v1/tasks/{task.pk}/take")
    assert taken.status_code == 200 and taken.json()["my"]["can_move"] is True
    doing = columns_of(board)[1]
    assert (
        client.post(
            f"/api/v1/tasks/{task.pk}/move", {"column_id": doing.pk}, format="json"
        ).status_code
        == 200
    )
