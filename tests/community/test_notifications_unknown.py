"""At most one message per dedupe key: a send whose outcome was never learnt (the worker died
mid-call, or the answer timed out after the request went out) is recorded ``unknown``, never
sent again, keeps its consent credit spent, is counted by the sweep and listed in the admin.
Only a send WeChat certainly did not process is retried."""

from __future__ import annotations

import time

import pytest
from django.db import connections, transaction
from django.test import Client
from django.utils import timezone

from community.models import Notification, SubscriptionCredit
from community.services.notifications import (
    LEASE_EXPIRED,
    SEND_LEASE,
    notification_refund_credit,
    notification_send,
    notifications_pending_ids,
)
from community.tasks import notifications_sweep
from community.wechat import WeChatError
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

SEND = "/cgi-bin/message/subscribe/send"


@pytest.fixture(autouse=True)
def one_time_template(settings):
    settings.WECHAT_TEMPLATES = {"poll_closed": "tmpl-closed", "test": {"id": "t", "long_term": 1}}


def _accept(user, times: int = 1) -> None:
    SubscriptionCredit.objects.update_or_create(
        user=user, template_id="tmpl-closed", defaults={"credits": times, "last_decision": "accept"}
    )


def _credits(user) -> int:
    return SubscriptionCredit.objects.get(user=user, template_id="tmpl-closed").credits


def _notify(membership, key: str = "poll:1", kind: str = "poll_closed") -> Notification:
    with transaction.atomic():
        return Notification.objects.create(
            community=membership.community,
            recipient=membership.user,
            kind=kind,
            object_key=key,
            data={"thing1": "周末徒步"},
        )


def sends(wechat_server) -> int:
    return len([r for r, _ in wechat_server.log if r.path == SEND])


def test_a_claim_left_by_a_dead_worker_becomes_unknown_and_is_never_sent_again(
    member, wechat_server
):
    """The row a killed worker left ``sending``: within the lease nobody touches it; past the
    lease the sweep records it ``unknown`` (counted) and neither the sweep nor a redelivered
    task sends it; the credit it took stays spent."""
    membership, _client = member
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    _accept(membership.user, times=2)
    now = timezone.now()
    dead = _notify(membership, key="a")
    live = _notify(membership, key="b")
    waiting = _notify(membership, key="c")
    Notification.objects.filter(pk__in=[dead.pk, live.pk]).update(
        status="sending", attempts=1, credit_template_id="tmpl-closed", claimed_at=now
    )
    Notification.objects.filter(pk=dead.pk).update(claimed_at=now - SEND_LEASE * 2)
    Notification.objects.filter(pk=waiting.pk).update(created_at=now - SEND_LEASE)

    result = notifications_sweep(now=now.isoformat())
    assert result == {"redispatched": 1, "unknown": 1}  # eager: the waiting one was sent
    dead.refresh_from_db()
    assert (dead.status, dead.last_error, dead.attempts) == ("unknown", LEASE_EXPIRED, 1)
    assert Notification.objects.get(pk=live.pk).status == "sending"  # within its lease
    assert Notification.objects.get(pk=waiting.pk).status == "sent"
    assert sends(wechat_server) == 1  # the waiting one only

    # Redelivered task, a later sweep, a refund attempt: none sends or refunds it.
    assert notification_send(notification_id=dead.pk) == "not_pending"
    assert dead.pk not in notifications_pending_ids(now=now + SEND_LEASE * 10)
    later = (now + SEND_LEASE * 10).isoformat()
    assert notifications_sweep(now=later) == {"redispatched": 0, "unknown": 1}  # `live` now
    assert notification_refund_credit(notification_id=dead.pk) is False
    assert sends(wechat_server) == 1
    assert _credits(membership.user) == 1  # `waiting` took one: the credits given were 2
    assert Notification.objects.filter(status="unknown").count() == 2


def test_an_answer_that_timed_out_is_unknown_not_retried_and_keeps_its_credit(
    member, wechat_server, settings
):
    """The request reached WeChat, the answer did not come back in time: maybe delivered."""
    settings.WECHAT_TIMEOUT = 0.3
    settings.WECHAT_RETRIES = 2

    arrived = []

    def slow(request):
        arrived.append(request.path)
        time.sleep(1.0)
        return wechat_json({"errcode": 0, "errmsg": "ok"})

    wechat_server.expect_request(SEND, method="POST").respond_with_handler(slow)
    membership, _client = member
    _accept(membership.user)
    notification = _notify(membership)
    assert notification_send(notification_id=notification.pk) == "unknown"
    time.sleep(1.0)  # a retry would have arrived by now
    assert arrived == [SEND]  # the client did not retry a send that may have arrived
    notification.refresh_from_db()
    assert notification.status == "unknown" and notification.attempts == 1
    assert notification.last_error.startswith("-")  # a local errcode: no answer
    assert notification_send(notification_id=notification.pk) == "not_pending"
    assert arrived == [SEND]
    assert _credits(membership.user) == 0 and notification.credit_refunded_at is None


def test_a_request_that_never_reached_wechat_is_retried(member, settings):
    """Control: nothing listens on the port, no connection is made: certainly not sent, so it
    goes back to pending (credit held for the retry) instead of unknown."""
    settings.WECHAT_API_BASE = "http://127.0.0.1:9/"
    settings.WECHAT_RETRIES = 0
    membership, _client = member
    _accept(membership.user)
    notification = _notify(membership)
    with pytest.raises(WeChatError):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert _credits(membership.user) == 0  # held by the message while it is retried


@pytest.mark.django_db(transaction=True)
def test_an_outcome_learnt_after_the_sweep_gave_up_is_recorded(wechat_server):
    """A worker slower than the lease (which a live worker never is) still records what
    WeChat answered over the ``unknown`` the sweep wrote meanwhile."""
    membership = MembershipFactory()
    notification = _notify(membership, kind="test")
    swept = {}

    def answer_after_the_sweep(request):
        try:
            later = (timezone.now() + SEND_LEASE * 2).isoformat()
            swept["result"] = notifications_sweep(now=later)
            swept["status"] = Notification.objects.get(pk=notification.pk).status
        finally:
            connections.close_all()
        return wechat_json({"errcode": 0, "errmsg": "ok"})

    wechat_server.expect_request(SEND, method="POST").respond_with_handler(answer_after_the_sweep)
    assert notification_send(notification_id=notification.pk) == "sent"
    assert swept == {"result": {"redispatched": 0, "unknown": 1}, "status": "unknown"}
    assert Notification.objects.get(pk=notification.pk).status == "sent"
    assert sends(wechat_server) == 1


def test_the_admin_lists_unknown_messages_of_my_communities():
    hiking, books = CommunityFactory(name="徒步群"), CommunityFactory(name="读书会")
    staff = UserFactory(is_staff=True)
    MembershipFactory(community=hiking, user=staff, tier="moderator")
    hiker = MembershipFactory(community=hiking, user__nickname="徒步的人")
    reader = MembershipFactory(community=books, user__nickname="读书的人")
    for membership in (hiker, reader):
        row = _notify(membership, key="poll:unknown")
        Notification.objects.filter(pk=row.pk).update(status="unknown", last_error=LEASE_EXPIRED)
    sent = _notify(hiker, key="poll:sent")
    Notification.objects.filter(pk=sent.pk).update(status="sent")
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/community/notification/", {"status__exact": "unknown"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "徒步的人" in html and "读书的人" not in html  # my communities only
    assert "poll:unknown" in html and "poll:sent" not in html
    assert LEASE_EXPIRED in html
