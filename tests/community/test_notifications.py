"""The notification outbox: once per dedupe key, sent through subscribeMessage: claim, commit,
call WeChat outside any transaction, record."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, connection, connections, transaction

from community.models import Notification, User
from community.services.notifications import (
    notification_enqueue,
    notification_enqueue_many,
    notification_send,
)
from tests.waiting import stays, wait_for
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

SEND = "/cgi-bin/message/subscribe/send"


def enqueue(membership, kind="test", object_key="poll:1", **kwargs):
    return notification_enqueue(
        community=membership.community,
        recipient=membership.user,
        kind=kind,
        object_key=object_key,
        **kwargs,
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
    wait_for(
        lambda: Notification.objects.get(pk=notification.pk).status not in ("pending", "sending")
    )
    assert Notification.objects.get(pk=notification.pk).status == "sent"
    assert stays(lambda: sends() == 1, duration=1.0)


def sends(wechat_server) -> int:
    return len([r for r, _ in wechat_server.log if r.path == SEND])


def test_dedupe_key_defaults_to_kind_and_object_and_a_new_key_sends_again(member):
    """A second reminder round about the same poll is expressed with its own dedupe key."""
    membership, _client = member
    first = enqueue(membership, kind="test", object_key="poll:1")
    assert first.dedupe_key == "test:poll:1"
    assert enqueue(membership, kind="test", object_key="poll:1") is None
    assert enqueue(membership, object_key="poll:1", dedupe_key="test:poll:1") is None
    second_round = enqueue(membership, object_key="poll:1", dedupe_key="test:poll:1:round-2")
    assert second_round is not None
    assert Notification.objects.filter(recipient=membership.user).count() == 2


def test_the_constraint_refuses_a_second_row_with_the_same_dedupe_key(member):
    membership, _client = member
    common = {"community": membership.community, "recipient": membership.user, "kind": "test"}
    Notification.objects.create(**common, object_key="poll:1", dedupe_key="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        # another object, same key: the key alone decides
        Notification.objects.create(**common, object_key="poll:2", dedupe_key="same")
    # control: the same key for another recipient is another message
    from tests.factories import MembershipFactory

    neighbour = MembershipFactory(community=membership.community)
    Notification.objects.create(
        community=membership.community,
        recipient=neighbour.user,
        kind="test",
        object_key="poll:1",
        dedupe_key="same",
    )
    assert Notification.objects.filter(dedupe_key="same").count() == 2


def test_enqueue_many_is_one_insert_that_skips_existing_keys(
    make_member, django_assert_num_queries
):
    members = [make_member()[0] for _ in range(5)]
    community_id = members[0].community_id
    enqueue(members[0], object_key="poll:9")
    with django_assert_num_queries(1):
        queued = notification_enqueue_many(
            community_id=community_id,
            recipient_ids=[m.user_id for m in members],
            kind="test",
            object_key="poll:9",
            data={"thing1": "x"},
        )
    assert len(queued) == 4
    assert Notification.objects.filter(object_key="poll:9").count() == 5
    again = notification_enqueue_many(
        community_id=community_id,
        recipient_ids=[m.user_id for m in members],
        kind="test",
        object_key="poll:9",
        data={"thing1": "x"},
    )
    assert again == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's activity view")
@pytest.mark.django_db(transaction=True)
def test_wechat_is_called_with_no_transaction_open_and_nothing_locked(wechat_server):
    """From inside the fake WeChat server, while the send is in flight: the sending connection
    is idle (not "idle in transaction"), the notification and its recipient can be locked by
    anyone, the row is claimed (``sending``), and a second send of it does not call WeChat."""
    from tests.factories import MembershipFactory

    membership = MembershipFactory()
    notification = Notification.objects.create(
        community=membership.community, recipient=membership.user, kind="test", object_key="x"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        sender_pid = cursor.fetchone()[0]
    seen = {}

    def during_the_call(request):
        try:
            with connection.cursor() as cursor:  # this server thread's own connection
                cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [sender_pid])
                seen["sender"] = cursor.fetchone()[0]
            with transaction.atomic():
                row = Notification.objects.select_for_update(nowait=True).get(pk=notification.pk)
                User.objects.select_for_update(nowait=True).get(pk=membership.user_id)
            seen["row"] = row.status
            seen["second send"] = notification_send(notification_id=notification.pk)
        except Exception as exc:  # report it in the assertion below
            seen["error"] = repr(exc)
        finally:
            connections.close_all()
        return wechat_json({"errcode": 0, "errmsg": "ok"})

    wechat_server.expect_request(SEND, method="POST").respond_with_handler(during_the_call)
    assert notification_send(notification_id=notification.pk) == "sent"
    assert seen == {"sender": "idle", "row": "sending", "second send": "not_pending"}
    assert sends(wechat_server) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
    assert notification_send(notification_id=notification.pk) == "not_pending"
    assert sends(wechat_server) == 1


def test_a_transient_failure_goes_back_to_pending_with_the_attempt_counted(member, wechat_server):
    from community.wechat import WeChatError

    membership, _client = member
    wechat_server.expect_oneshot_request(SEND, method="POST").respond_with_json(
        {"errcode": -1, "errmsg": "system busy"}
    )
    wechat_server.expect_oneshot_request(SEND, method="POST").respond_with_json(
        {"errcode": -1, "errmsg": "system busy"}
    )
    notification = enqueue(membership, object_key="z")
    with pytest.raises(WeChatError):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert notification.last_error.startswith("-1")
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    assert notification_send(notification_id=notification.pk) == "sent"
    notification.refresh_from_db()
    assert notification.attempts == 2
