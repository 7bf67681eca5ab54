"""A consent credit comes back, once, when WeChat finally did not deliver the message; the
credits are visible (read-only) in the admin, scoped to the moderator's communities."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from community.models import Notification, SubscriptionCredit
from community.services.notifications import (
    MAX_ATTEMPTS,
    notification_refund_credit,
    notification_send,
)
from community.wechat import WeChatError
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

SEND = "/cgi-bin/message/subscribe/send"
TEMPLATES = {
    "poll_closed": "tmpl-closed",
    "poll_reminder": {"id": "tmpl-remind", "long_term": True},
}


@pytest.fixture(autouse=True)
def templates(settings):
    settings.WECHAT_TEMPLATES = TEMPLATES
    settings.WECHAT_RETRIES = 0


def _accept(user, times: int = 1) -> None:
    SubscriptionCredit.objects.update_or_create(
        user=user, template_id="tmpl-closed", defaults={"credits": times, "last_decision": "accept"}
    )


def _credits(user) -> int:
    return SubscriptionCredit.objects.get(user=user, template_id="tmpl-closed").credits


def _notify(membership, kind: str = "poll_closed", key: str = "poll:1") -> Notification:
    with transaction.atomic():
        return Notification.objects.create(
            community=membership.community,
            recipient=membership.user,
            kind=kind,
            object_key=key,
            data={"thing1": "周末徒步"},
        )


def _wechat_answers(wechat_server, errcode: int, errmsg: str) -> None:
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": errcode, "errmsg": errmsg}
    )


@pytest.mark.django_db
def test_a_message_the_member_refused_clears_the_stale_credits(member, wechat_server):
    """43101: WeChat holds no consent of the member for this template. The credit the
    message took is not given back, and the ones we still counted were stale: cleared, so
    the next message waits for the member to accept again instead of failing the same way."""
    membership, _client = member
    _accept(membership.user, times=3)
    _wechat_answers(wechat_server, 43101, "user refuse to accept the msg")
    notification = _notify(membership)
    assert notification_send(notification_id=notification.pk) == "refused"
    notification.refresh_from_db()
    assert notification.credit_template_id == "tmpl-closed"
    assert notification.credit_refunded_at is None
    assert _credits(membership.user) == 0
    row = SubscriptionCredit.objects.get(user=membership.user, template_id="tmpl-closed")
    assert row.last_decision == "accept"  # the member did not turn the template off
    assert notification_refund_credit(notification_id=notification.pk) is False


@pytest.mark.django_db
def test_the_final_failure_after_the_retries_gives_the_credit_back(member, wechat_server):
    membership, _client = member
    _accept(membership.user)
    _wechat_answers(wechat_server, -1, "system error")  # transient
    notification = _notify(membership)
    with pytest.raises(WeChatError):
        notification_send(notification_id=notification.pk)
    assert _credits(membership.user) == 0  # retrying: the credit stays taken
    Notification.objects.filter(pk=notification.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert notification_send(notification_id=notification.pk) == "failed"
    assert _credits(membership.user) == 1


@pytest.mark.django_db
def test_a_delivered_message_keeps_its_credit_spent(member, wechat_server):
    membership, _client = member
    _accept(membership.user)
    _wechat_answers(wechat_server, 0, "ok")
    notification = _notify(membership)
    assert notification_send(notification_id=notification.pk) == "sent"
    assert notification_refund_credit(notification_id=notification.pk) is False
    assert _credits(membership.user) == 0


@pytest.mark.django_db
def test_a_long_term_template_took_no_credit_and_gets_none(member, wechat_server):
    membership, _client = member
    _accept(membership.user)
    _wechat_answers(wechat_server, 43101, "user refuse to accept the msg")
    notification = _notify(membership, kind="poll_reminder")
    assert notification_send(notification_id=notification.pk) == "refused"
    assert _credits(membership.user) == 1  # untouched, never spent


@pytest.mark.django_db
def test_a_retried_refund_gives_back_once(member, wechat_server):
    membership, _client = member
    _accept(membership.user)
    _wechat_answers(wechat_server, 40003, "invalid openid")  # final, not a refusal
    notification = _notify(membership)
    assert notification_send(notification_id=notification.pk) == "failed"
    assert notification_refund_credit(notification_id=notification.pk) is False
    assert notification_refund_credit(notification_id=notification.pk) is False
    assert _credits(membership.user) == 1


@pytest.mark.django_db
def test_no_refund_after_the_member_turned_the_template_off(member):
    membership, client = member
    _accept(membership.user)
    notification = _notify(membership)
    # a final failure whose credit was taken; the member turned the template off meanwhile
    Notification.objects.filter(pk=notification.pk).update(
        status="failed", credit_template_id="tmpl-closed", attempts=1
    )
    client.post("/api/v1/subscriptions", {"results": {"tmpl-closed": "ban"}}, format="json")
    assert notification_refund_credit(notification_id=notification.pk) is True  # handled
    assert _credits(membership.user) == 0  # but nothing given back against the ban


@pytest.mark.django_db(transaction=True)
def test_parallel_final_failure_handlers_refund_once(wechat_server):
    """Two handlers of the same final failure (a redelivered task, the sweep) race on
    PostgreSQL: the credit comes back once."""
    membership = MembershipFactory()
    _accept(membership.user)
    notification = _notify(membership)
    # the state a final failure leaves before its refund ran: credit taken, not refunded
    Notification.objects.filter(pk=notification.pk).update(
        status="failed", credit_template_id="tmpl-closed", attempts=MAX_ATTEMPTS
    )
    SubscriptionCredit.objects.filter(user=membership.user).update(credits=0)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def handler() -> None:
        try:
            barrier.wait()
            results.append(notification_refund_credit(notification_id=notification.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=handler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert _credits(membership.user) == 1


@pytest.mark.django_db
def test_the_admin_lists_credits_of_my_communities_only():
    hiking, books = CommunityFactory(name="徒步群"), CommunityFactory(name="读书会")
    staff = UserFactory(is_staff=True)
    MembershipFactory(community=hiking, user=staff, tier="moderator")
    hiker = MembershipFactory(community=hiking, user__nickname="徒步的人").user
    MembershipFactory(community=books, user=hiker)  # in both: listed once
    reader = MembershipFactory(community=books, user__nickname="读书的人").user
    _accept(hiker, times=2)
    _accept(reader, times=3)
    client = Client()
    client.force_login(staff)

    page = client.get("/admin/community/subscriptioncredit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "徒步的人" in html and "读书的人" not in html
    assert html.count("tmpl-closed</td>") + html.count("tmpl-closed</a>") == 1
    assert "订阅消息额度" in html  # the Chinese page title
    filtered = client.get(
        "/admin/community/subscriptioncredit/",
        {"user__memberships__community__id__exact": hiking.pk, "last_decision": "accept"},
    )
    assert "徒步的人" in filtered.content.decode()
    row = SubscriptionCredit.objects.get(user=hiker)
    assert client.get(f"/admin/community/subscriptioncredit/{row.pk}/change/").status_code == 200
    assert (
        client.post(
            f"/admin/community/subscriptioncredit/{row.pk}/change/", {"credits": 9}
        ).status_code
        == 403
    )
    assert client.get("/admin/community/subscriptioncredit/add/").status_code == 403
    other = SubscriptionCredit.objects.get(user=reader)
    assert client.get(f"/admin/community/subscriptioncredit/{other.pk}/change/").status_code == 302
