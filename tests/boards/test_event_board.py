"""The preparation board of an event, from its template: tasks due relative to its start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events import services as event_services
from tests.boards.conftest import give_role
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(admin, settings):
    settings.WECHAT_CONTENT_CHECK = False
    starts = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    return event_services.event_create(
        actor=admin[0], mode="full", title="秋季徒步", starts_at=starts, capacity=20
    )


def test_event_board_has_the_template_tasks_due_relative_to_the_start(admin, event):
    _, client = admin
    role = give_role(admin[0], name="活动策划")
    response = client.post(
        f"/api/v1/events/{event.pk}/board", {"owning_role_id": role.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["event_id"] == event.pk and body["title"] == "秋季徒步"
    tasks = body["columns"][0]["tasks"]
    from datetime import datetime

    due = [datetime.fromisoformat(t["due_at"]) for t in tasks]
    assert [event.starts_at - d for d in due] == [
        timedelta(days=7),
        timedelta(days=1),
        timedelta(0),
    ]
    assert {t["owning_role_id"] for t in tasks} == {role.pk}
    again = client.post(f"/api/v1/events/{event.pk}/board", {}, format="json")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "event_has_board"


def test_event_board_needs_a_board_editor_and_the_events_community(make_member, event):
    _, member_client = make_member()
    assert (
        member_client.post(f"/api/v1/events/{event.pk}/board", {}, format="json").status_code == 403
    )
    stranger = MembershipFactory(community=CommunityFactory(), tier="owner")
    response = client_for(stranger.user).post(f"/api/v1/events/{event.pk}/board", {}, format="json")
    assert response.status_code == 404
