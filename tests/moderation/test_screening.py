"""Screening walk: every write endpoint wired to the queue, against the fake WeChat server:
pass publishes, risky refuses, review publishes hidden in the queue, an unreachable WeChat
holds the text hidden in the queue (never lost, never shown unchecked)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import Case, ContentHold
from roles.services import boards as board_services
from roles.services import tasks_edit
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

CHECK = "/wxa/msg_sec_check"


def verdict(wechat_server, suggest: str | None) -> None:
    """Answer every content check with ``suggest``; None: WeChat is down (HTTP 500)."""
    if suggest is None:
        wechat_server.expect_request(CHECK).respond_with_response(wechat_json({}, status=500))
    else:
        wechat_server.expect_request(CHECK).respond_with_json(
            {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": 100}}
        )


def create_poll(client, community):
    return client.post(
        f"/api/v1/communities/{community.pk}/polls",
        {
            "title": "周末去哪",
            "kind": "single",
            "closes_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "options": [{"label": "爬山"}, {"label": "看展"}],
        },
        format="json",
    )


def listed_polls(client, community):
    response = client.get(f"/api/v1/communities/{community.pk}/polls")
    return [p["id"] for p in response.json()["results"]]


def comment(client, task):
    return client.post(f"/api/v1/tasks/{task.pk}/comments", {"body": "加个微信"}, format="json")


def listed_comments(client, task):
    return [c["id"] for c in client.get(f"/api/v1/tasks/{task.pk}/comments").json()["results"]]


@pytest.fixture
def board_admin(make_member):
    return make_member(tier="admin")


@pytest.fixture
def task(board_admin, settings):
    settings.WECHAT_CONTENT_CHECK = False  # the board's own texts are not under test here
    board = board_services.board_create(actor=board_admin[0], title="活动筹备")
    return tasks_edit.task_create(actor=board_admin[0], board=board, title="订场地", column_id=None)


def create_event(client, community):
    return client.post(
        f"/api/v1/communities/{community.pk}/events",
        {
            "title": "周六爬山",
            "mode": "quick",
            "starts_at": (timezone.now() + timedelta(days=2)).isoformat(),
        },
        format="json",
    )


def listed_events(client, community):
    response = client.get(f"/api/v1/communities/{community.pk}/events")
    return [e["id"] for e in response.json()["results"]]


WRITES = {
    "event": (create_event, listed_events, "community"),
    "poll": (create_poll, listed_polls, "community"),
    "task_comment": (comment, listed_comments, "task"),
}


@pytest.mark.parametrize("kind", list(WRITES))
@pytest.mark.parametrize(
    "suggest,status,shown,held",
    [
        ("pass", 201, True, None),
        ("risky", 400, False, None),
        ("review", 201, False, "review"),
        (None, 201, False, "unchecked"),
    ],
)
def test_every_published_text_is_screened(
    wechat_server,
    settings,
    make_member,
    community,
    task,
    board_admin,
    kind,
    suggest,
    status,
    shown,
    held,
):
    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, suggest)
    create, listed, where = WRITES[kind]
    target = community if where == "community" else task
    _, author = board_admin
    _, reader = make_member()
    response = create(author, target)
    assert response.status_code in (status, 200 if status == 201 else status), response.content
    if status == 400:
        assert response.json()["errors"][0]["code"] == "content_risky"
        assert not Case.objects.exists()
        return
    object_id = response.json()["id"]
    assert (object_id in listed(reader, target)) is shown
    hold = ContentHold.objects.filter(target_kind=kind, target_id=object_id).first()
    assert (hold.why if hold else None) == held
    assert Case.objects.filter(target_id=object_id, status="open").exists() is (held is not None)
