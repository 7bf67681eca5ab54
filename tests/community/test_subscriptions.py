"""Subscribe messages, the WeChat way: the page asks for templates, each acceptance allows one
message, the outbox spends a credit per send and skips (recording it) a send without one."""

from __future__ import annotations

import pytest
from django.db import transaction

from community.models import Notification, SubscriptionCredit
from community.services.notifications import notification_send
from tests.contract.conformance import assert_conforms

pytestmark = pytest.mark.django_db

SEND = "/cgi-bin/message/subscribe/send"
TEMPLATES = {
    "poll_closed": "tmpl-closed",
    "poll_reminder": {"id": "tmpl-remind", "long_term": True},
    "test": {"id": "tmpl-test", "long_term": True},
}


@pytest.fixture(autouse=True)
def templates(settings):
    settings.WECHAT_TEMPLATES = TEMPLATES


def _notify(membership, kind: str, key: str) -> Notification:
    with transaction.atomic():
        return Notification.objects.create(
            community=membership.community,
            recipient=membership.user,
            kind=kind,
            object_key=key,
            data={"thing1": "周末徒步"},
        )


def _sends(wechat_server) -> list[dict]:
    import json

    return [json.loads(r.get_data()) for r, _ in wechat_server.log if r.path == SEND]


def test_a_page_is_told_which_templates_to_request(member):
    _m, client = member
    body = assert_conforms(
        client.get("/api/v1/subscriptions", {"page": "poll"}), "listSubscriptionTemplates"
    )
    assert body["max_per_request"] == 3
    assert [(t["kind"], t["template_id"], t["long_term"]) for t in body["templates"]] == [
        ("poll_closed", "tmpl-closed", False),
        ("poll_reminder", "tmpl-remind", True),
    ]
    assert all(t["purpose"] and t["credits"] == 0 for t in body["templates"])
    assert client.get("/api/v1/subscriptions", {"page": "nope"}).status_code == 400


def test_each_acceptance_allows_one_message_and_ban_clears_them(member):
    _m, client = member
    url = "/api/v1/subscriptions"

    def record(decision):
        response = client.post(url, {"results": {"tmpl-closed": decision}}, format="json")
        assert_conforms(response, "recordSubscriptionDecisions")
        assert response.json() == client.get(url).json()  # what a GET right after shows
        return {t["template_id"]: t for t in response.json()["templates"]}["tmpl-closed"]

    assert record("accept")["credits"] == 1
    assert record("accept")["credits"] == 2
    assert record("reject") == {**record("reject"), "credits": 2, "last_decision": "reject"}
    assert record("ban")["credits"] == 0
    unknown = client.post(url, {"results": {"tmpl-other": "accept"}}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["code"] == "unknown_template"


def test_a_one_time_message_without_credit_is_skipped_without_calling_wechat(member, wechat_server):
    membership, _client = member
    notification = _notify(membership, "poll_closed", "poll:1")
    assert notification_send(notification_id=notification.pk) == "no_credit"
    notification.refresh_from_db()
    assert notification.status == "no_credit" and notification.attempts == 0
    assert _sends(wechat_server) == []


def test_each_send_spends_one_credit(member, wechat_server):
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    membership, client = member
    client.post("/api/v1/subscriptions", {"results": {"tmpl-closed": "accept"}}, format="json")
    first = _notify(membership, "poll_closed", "poll:1")
    second = _notify(membership, "poll_closed", "poll:2")
    assert notification_send(notification_id=first.pk) == "sent"
    assert notification_send(notification_id=second.pk) == "no_credit"
    assert [s["template_id"] for s in _sends(wechat_server)] == ["tmpl-closed"]
    assert SubscriptionCredit.objects.get(user=membership.user).credits == 0


def test_a_retry_does_not_spend_a_second_credit(member, wechat_server):
    from community.wechat import WeChatError

    membership, client = member
    client.post("/api/v1/subscriptions", {"results": {"tmpl-closed": "accept"}}, format="json")
    client.post("/api/v1/subscriptions", {"results": {"tmpl-closed": "accept"}}, format="json")
    wechat_server.expect_oneshot_request(SEND, method="POST").respond_with_json(
        {"errcode": -1, "errmsg": "system busy"}
    )
    wechat_server.expect_oneshot_request(SEND, method="POST").respond_with_json(
        {"errcode": -1, "errmsg": "system busy"}
    )
    notification = _notify(membership, "poll_closed", "poll:1")
    with pytest.raises(WeChatError):
        notification_send(notification_id=notification.pk)  # transient: back to pending
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    assert notification_send(notification_id=notification.pk) == "sent"
    assert SubscriptionCredit.objects.get(user=membership.user).credits == 1


def test_a_long_term_template_needs_no_credit(member, wechat_server):
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    membership, _client = member
    notification = _notify(membership, "poll_reminder", "poll:1")
    assert notification_send(notification_id=notification.pk) == "sent"
    assert [s["template_id"] for s in _sends(wechat_server)] == ["tmpl-remind"]
