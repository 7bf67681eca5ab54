"""The hand-over queue round trip: a member's message handed over, a moderator lists the
queue, reads the conversation and answers (API and admin) within the 48-hour window; after it
the reply is refused with 409 ``window_expired``. Members, other communities and bad input
are refused in our error shape, leaving the database as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from assistant.models import (
    Conversation,
    ConversationState,
    InboundMessage,
    MessageStatus,
    OutboundReply,
    ReplyStatus,
)
from assistant.services import message_answer, message_receive
from tests.admin_forms import change_form
from tests.assistant.conftest import text_push
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed_over(member, wechat, django_capture_on_commit_callbacks):
    """A member wrote; nothing matched: the conversation waits for a person (notice sent)."""
    membership, _client = member

    def make(text="活动可以带家属吗", user=None):
        with django_capture_on_commit_callbacks(execute=True):
            message = message_receive(fields=text_push(user or membership.user, text))
            message_answer(message_id=message.pk)
        return Conversation.objects.get(pk=message.conversation_id)

    return make


@pytest.fixture
def moderator(make_member):
    return make_member(tier="moderator")


def _snapshot():
    return (
        list(Conversation.objects.order_by("pk").values()),
        list(OutboundReply.objects.order_by("pk").values()),
        list(InboundMessage.objects.order_by("pk").values()),
    )


def test_round_trip_through_the_api(community, handed_over, moderator, member, wechat):
    conversation = handed_over()
    _mod, client = moderator
    listed = client.get(f"/api/v1/communities/{community.pk}/conversations")
    assert listed.status_code == 200
    [item] = listed.json()["results"]
    assert item["id"] == conversation.pk and item["state"] == "waiting_for_human"
    assert item["member"]["id"] == member[0].user_id

    detail = client.get(f"/api/v1/conversations/{conversation.pk}").json()
    kinds = [
        (entry["direction"], (entry.get("message") or entry.get("reply"))["status"])
        for entry in detail["thread"]
    ]
    assert kinds == [("in", "handed_over"), ("out", "sent")]

    answered = client.post(
        f"/api/v1/conversations/{conversation.pk}/replies",
        {"text": "可以，家属请在报名时填写人数。"},
        format="json",
    )
    assert answered.status_code == 201, answered.json()
    assert answered.json()["status"] == "sent"
    assert wechat.cs.texts()[-1] == "可以，家属请在报名时填写人数。"
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.ANSWERED
    assert conversation.assigned_to_id == _mod.user_id
    message = InboundMessage.objects.get()
    assert message.status == MessageStatus.ANSWERED_HUMAN and message.answered_at is not None
    assert conversation.first_response_at is not None

    empty = client.get(f"/api/v1/communities/{community.pk}/conversations").json()["results"]
    assert empty == []
    answered_list = client.get(
        f"/api/v1/communities/{community.pk}/conversations?state=answered"
    ).json()["results"]
    assert [c["id"] for c in answered_list] == [conversation.pk]

    closed = client.post(f"/api/v1/conversations/{conversation.pk}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"


def test_after_the_window_the_reply_is_refused(handed_over, moderator, wechat):
    conversation = handed_over()
    Conversation.objects.filter(pk=conversation.pk).update(
        last_member_message_at=timezone.now() - timedelta(hours=48, minutes=1)
    )
    _mod, client = moderator
    before = _snapshot()
    response = client.post(
        f"/api/v1/conversations/{conversation.pk}/replies", {"text": "抱歉回复晚了"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "window_expired"
    assert _snapshot() == before
    assert len(wechat.cs.sent) == 1  # the notice only


def test_wechat_45015_refuses_the_reply_with_window_expired(handed_over, moderator, wechat):
    conversation = handed_over()
    _mod, client = moderator
    wechat.cs.fail_with = [45015]
    response = client.post(
        f"/api/v1/conversations/{conversation.pk}/replies", {"text": "在的"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "window_expired"
    reply = OutboundReply.objects.get(author__isnull=False)
    assert reply.status == ReplyStatus.WINDOW_EXPIRED and reply.error_code == "45015"


def test_wechat_down_keeps_the_moderators_reply_pending(handed_over, moderator, wechat):
    conversation = handed_over()
    _mod, client = moderator
    wechat.cs.fail_with = ["http500"]
    response = client.post(
        f"/api/v1/conversations/{conversation.pk}/replies", {"text": "在的"}, format="json"
    )
    assert response.status_code == 201 and response.json()["status"] == "pending"


def test_members_and_other_communities_are_refused(community, handed_over, member, wechat):
    conversation = handed_over()
    _membership, member_client = member
    before = _snapshot()
    assert member_client.get(f"/api/v1/communities/{community.pk}/conversations").status_code == 403
    refused = member_client.post(
        f"/api/v1/conversations/{conversation.pk}/replies", {"text": "x"}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "tier_too_low"

    elsewhere = MembershipFactory(tier="admin")
    from tests.conftest import client_for

    other = client_for(elsewhere.user)
    for response in (
        other.get(f"/api/v1/conversations/{conversation.pk}"),
        other.post(
            f"/api/v1/conversations/{conversation.pk}/replies", {"text": "x"}, format="json"
        ),
        other.post(f"/api/v1/conversations/{conversation.pk}/close"),
        other.get(f"/api/v1/communities/{community.pk}/conversations"),
    ):
        assert response.status_code == 404
        assert "errors" in response.json()
    assert _snapshot() == before


@pytest.mark.parametrize(
    "body",
    [{}, {"text": ""}, {"text": "   "}, {"text": {"a": 1}}, {"text": ["a"]}, {"text": "长" * 2001}],
)
def test_bad_replies_are_refused_and_change_nothing(handed_over, moderator, wechat, body):
    conversation = handed_over()
    _mod, client = moderator
    before = _snapshot()
    response = client.post(f"/api/v1/conversations/{conversation.pk}/replies", body, format="json")
    assert 400 <= response.status_code < 500
    assert response.json()["errors"][0]["attr"] in ("text", None)
    assert _snapshot() == before


def test_bad_list_filter_is_refused(community, moderator):
    _mod, client = moderator
    response = client.get(f"/api/v1/communities/{community.pk}/conversations?state=nope")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "state"


def test_queue_query_count_does_not_grow(
    community, handed_over, moderator, django_assert_num_queries
):
    handed_over()
    _mod, client = moderator
    url = f"/api/v1/communities/{community.pk}/conversations"
    client.get(url)
    with django_assert_num_queries(3) as few:
        client.get(url)
    for _index in range(4):
        handed_over(user=MembershipFactory(community=community).user)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(url).json()["results"]) == 5


def _staff(community, tier):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=tier)
    client = Client()
    client.force_login(user)
    return user, client


def test_round_trip_through_the_admin(
    community, handed_over, wechat, django_capture_on_commit_callbacks
):
    conversation = handed_over()
    user, client = _staff(community, "moderator")
    page = client.get("/admin/assistant/conversation/?state__exact=waiting_for_human")
    assert page.status_code == 200 and conversation.pk in page.content.decode()
    url = f"/admin/assistant/conversation/{conversation.pk}/change/"
    data = change_form(client, url)
    assert "活动可以带家属吗" in client.get(url).content.decode()
    data["reply"] = "可以带家属。"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    reply = OutboundReply.objects.get(author=user)
    assert reply.status == ReplyStatus.SENT
    assert wechat.cs.texts()[-1] == "可以带家属。"
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.ANSWERED


def test_admin_refuses_a_reply_after_the_window_on_the_form(community, handed_over, wechat):
    conversation = handed_over()
    _user, client = _staff(community, "moderator")
    url = f"/admin/assistant/conversation/{conversation.pk}/change/"
    data = change_form(client, url)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_member_message_at=timezone.now() - timedelta(hours=49)
    )
    data["reply"] = "晚了"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "48" in response.content.decode()
    assert not OutboundReply.objects.filter(author__isnull=False).exists()


def test_admin_of_another_community_does_not_see_it(handed_over, wechat):
    conversation = handed_over()
    _user, client = _staff(MembershipFactory().community, "admin")
    page = client.get("/admin/assistant/conversation/")
    assert conversation.pk not in page.content.decode()
    assert client.get(f"/admin/assistant/conversation/{conversation.pk}/change/").status_code in (
        302,
        404,
    )
