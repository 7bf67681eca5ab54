"""End to end against the fake WeChat server: a member's pushed message is matched (FAQ entry,
live next event) and answered with a customer-service message; the entry counts as served once
even when WeChat pushes the message again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.models import FaqEntry, InboundMessage, MessageStatus
from community.models import Tier
from events import services as event_services
from tests.assistant.conftest import text_push
from tests.wechat_fake import wechat_push

pytestmark = pytest.mark.django_db


def push(client, capture, fields):
    with capture(execute=True):
        response = wechat_push(client, fields)
    assert response.status_code == 200 and response.content == b"success"


def test_an_faq_entry_answers_a_pushed_message_once(
    push_client, member, wechat, django_capture_on_commit_callbacks
):
    membership, _ = member
    entry = FaqEntry.objects.create(
        community=membership.community,
        question="活动收费吗",
        answer="AA 制，当场结清。",
        keywords=["收费", "费用"],
        status="published",
    )
    fields = text_push(membership.user, "请问费用怎么算？")
    push(push_client, django_capture_on_commit_callbacks, fields)
    push(push_client, django_capture_on_commit_callbacks, fields)  # WeChat's retry
    message = InboundMessage.objects.get()
    assert (message.status, message.answer_source) == (
        MessageStatus.ANSWERED_AUTO,
        f"faq:{entry.pk}",
    )
    assert wechat.cs.sent == [
        {
            "touser": membership.user.openid,
            "msgtype": "text",
            "text": {"content": "AA 制，当场结清。"},
        }
    ]
    entry.refresh_from_db()
    assert entry.times_served == 1


def test_the_next_event_is_answered_live(
    push_client, member, make_member, wechat, settings, django_capture_on_commit_callbacks
):
    membership, _ = member
    settings.WECHAT_CONTENT_CHECK = False  # the event's title is not what this test screens
    moderator, _ = make_member(tier=Tier.MODERATOR)
    event_services.event_create(
        actor=moderator,
        mode="quick",
        title="周六香山",
        starts_at=timezone.now() + timedelta(days=2),
        capacity=12,
    )
    settings.WECHAT_CONTENT_CHECK = True
    push(push_client, django_capture_on_commit_callbacks, text_push(membership.user, "下次活动？"))
    message = InboundMessage.objects.get()
    assert (message.status, message.answer_source) == (
        MessageStatus.ANSWERED_AUTO,
        "live:next_event",
    )
    content = wechat.cs.sent[0]["text"]["content"]
    assert "周六香山" in content and "12" in content
