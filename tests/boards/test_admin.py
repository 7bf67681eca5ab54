"""The boards admin: pages render for board editors, writes go through the services (activity
logged, WIP limits and the editor rule enforced), the log is read-only, filters by assignee and
due date."""

from __future__ import annotations

import pytest

from community.models import Tier
from roles.models import Activity, Board, Task
from tests.admin_forms import form_data
from tests.boards.conftest import columns_of
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _staff(client, community, tier):
    user = UserFactory(is_staff=True)
    membership = MembershipFactory(community=community, user=user, tier=tier)
    client.force_login(user)
    return membership


def test_admin_creates_a_board_through_the_service_and_a_moderator_cannot(client, community):
    _staff(client, community, Tier.ADMIN)
    data = {
        "community": community.pk,
        "title": "后台看板",
        "description": "",
        "visibility": "members",
        "team_role": "",
        **{
            f"{p}-{k}": v
            for p in ("columns", "tasks")
            for k, v in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))
        },
        "columns-0-title": "待办",
        "columns-0-position": 0,
    }
    data["columns-TOTAL_FORMS"] = 1
    response = client.post("/admin/roles/board/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    board = Board.objects.get(title="后台看板")
    assert [c.title for c in columns_of(board)] == ["待办"]
    verbs = set(Activity.objects.filter(board=board).values_list("verb", flat=True))
    assert verbs == {"board_created", "column_created"}


def test_moderator_form_shows_the_services_refusal(client, community):
    _staff(client, community, Tier.MODERATOR)
    response = client.post(
        "/admin/roles/board/add/",
        {
            "community": community.pk,
            "title": "x",
            "visibility": "members",
            "columns-TOTAL_FORMS": 0,
            "columns-INITIAL_FORMS": 0,
            "tasks-TOTAL_FORMS": 0,
            "tasks-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not Board.objects.exists()


def test_task_page_edits_through_the_service_and_lists_filter(
    client, community, make_board, make_task, make_member
):
    _staff(client, community, Tier.ADMIN)
    helper, _ = make_member()
    task = make_task(make_board(), title="旧")
    page = client.get(f"/admin/roles/task/{task.pk}/change/")
    assert page.status_code == 200
    data = form_data(page.content.decode())
    data.update({"title": "新", "assignee_users": [helper.user_id]})
    response = client.post(f"/admin/roles/task/{task.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    task.refresh_from_db()
    assert task.title == "新" and task.version == 2
    assert list(task.assignees.values_list("pk", flat=True)) == [helper.user_id]
    listed = client.get(f"/admin/roles/task/?assignees__id__exact={helper.user_id}")
    assert "新" in listed.content.decode()
    assert client.get("/admin/roles/task/?due_at__isnull=True").status_code == 200
    assert client.get("/admin/roles/activity/").status_code == 200
    assert Task.objects.filter(pk=task.pk).exists()
