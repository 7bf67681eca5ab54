"""The notification outbox: once per (recipient, kind, object), sent through subscribeMessage."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from community.models import Notification
from community.services.notifications import notification_enqueue, notification_send
from tests.waiting import stays, wait_for

pytestmark = pytest.mark.django_db

SEND = "/cgi-bin/message/subscribe/send"


def enqueue(membership, kind="test", object_key="poll:1"):
    return notification_enqueue(
        community=membership.community,
        recipient=membership.user,
        kind=kind,
        object_key=object_key,
        data={"thing1": "周末徒步投票", "time2": "2026-11-30 20:00"},
        page="pages/poll/index?id=1",
    )


def test_enqueue_sends_after_commit_once(member, wechat_server, django_capture_on_commit_callbacks):
    membership, _client = member
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue(membership)
        second = enqueue(membership)
    assert first is not None and second is None
    assert Notification.objects.count() == 1
    first.refresh_from_db()
    assert first.status == "sent" and first.attempts == 1
    sends = [req for req, _resp in wechat_server.log if req.path == SEND]
    assert len(sends) == 1
    body = json.loads(sends[0].get_data())
    assert body["touser"] == membership.user.openid
    assert body["template_id"] == "tmpl-test"
    assert body["data"]["thing1"] == {"value": "周末徒步投票"}


def test_refusal_is_recorded_and_not_retried(member, wechat_server):
    membership, _client = member
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
    )
    with transaction.atomic():
        notification = Notification.objects.create(
            community=membership.community, recipient=membership.user, kind="test", object_key="x"
        )
    assert notification_send(notification_id=notification.pk) == "refused"
    assert notification_send(notification_id=notification.pk) == "not_pending"
    notification.refresh_from_db()
    assert notification.status == "refused" and notification.attempts == 1
    assert len([r for r, _ in wechat_server.log if r.path == SEND]) == 1


def test_kind_without_template_is_skipped(member):
    membership, _client = member
    notification = Notification.objects.create(
        community=membership.community, recipient=membership.user, kind="unknown", object_key="x"
    )
    assert notification_send(notification_id=notification.pk) == "skipped"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_sends_the_notification_once(wechat_server, celery_worker_process):
    """Product path end to end: enqueue → on_commit → Redis → celery worker → fake WeChat."""
    from tests.factories import MembershipFactory

    membership = MembershipFactory()
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    notification = enqueue(membership)
    assert enqueue(membership) is None  # the duplicate never reaches the queue

    def sends() -> int:
        return len([r for r, _ in wechat_server.log if r.path == SEND])

    wait_for(lambda: sends() >= 1, message=lambda: celery_worker_process.output)
    wait_for(lambda: Notification.objects.get(pk=notification.pk).status != "pending")
    assert Notification.objects.get(pk=notification.pk).status == "sent"
    assert stays(lambda: sends() == 1, duration=1.0)
