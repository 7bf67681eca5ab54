"""``WeChatClient.send_customer_service_message`` against the fake WeChat: the body of each
``msgtype``, refusals of incomplete payloads before any call, and a mini-program page without
a cover image sent as a text with a link that opens the page."""

from __future__ import annotations

import pytest

from assistant.models import OutboundReply, ReplyKind, ReplyStatus
from assistant.services import message_receive, reply_send
from assistant.services.replies import _queue_reply
from community.wechat import WeChatError, get_client
from tests.assistant.conftest import text_push

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("text", {"content": "你好"}, {"content": "你好"}),
        ("image", {"media_id": "MEDIA"}, {"media_id": "MEDIA"}),
        (
            "link",
            {"title": "群规", "url": "https://example.com/r", "description": "看看"},
            {"title": "群规", "url": "https://example.com/r", "description": "看看"},
        ),
        (
            "miniprogrampage",
            {"title": "下次活动", "pagepath": "pages/events/index", "thumb_media_id": "T"},
            {"title": "下次活动", "pagepath": "pages/events/index", "thumb_media_id": "T"},
        ),
    ],
)
def test_each_kind_is_sent_as_wechat_documents_it(wechat, kind, payload, expected):
    get_client().send_customer_service_message(openid="o-1", kind=kind, payload=payload)
    assert wechat.cs.sent == [{"touser": "o-1", "msgtype": kind, kind: expected}]


@pytest.mark.parametrize(
    ("kind", "payload"),
    [("video", {"media_id": "x"}), ("text", {}), ("miniprogrampage", {"title": "t"})],
)
def test_incomplete_messages_are_refused_without_a_call(wechat, kind, payload):
    with pytest.raises(ValueError):
        get_client().send_customer_service_message(openid="o-1", kind=kind, payload=payload)
    assert wechat.cs.calls == 0


def test_45015_is_raised_as_a_wechat_error(wechat):
    wechat.cs.fail_with = [45015]
    with pytest.raises(WeChatError) as caught:
        get_client().send_customer_service_message(
            openid="o-1", kind="text", payload={"content": "x"}
        )
    assert caught.value.errcode == 45015 and not caught.value.transient


def test_a_page_without_cover_goes_as_a_text_link(member, wechat, settings):
    settings.ASSISTANT_THUMB_MEDIA_ID = ""
    membership, _client = member
    message = message_receive(fields=text_push(membership.user, "规则"))
    reply = _queue_reply(
        message.conversation,
        in_reply_to=message,
        kind=ReplyKind.MINIPROGRAMPAGE,
        payload={"title": "群规<全文>", "pagepath": "pages/rules/index?c=1"},
        source="rule:x",
        dedupe_key="answer:test",
        now=message.received_at,
    )
    assert reply_send(reply_id=reply.pk).status == ReplyStatus.SENT
    [body] = wechat.cs.sent
    assert body["msgtype"] == "text"
    content = body["text"]["content"]
    assert 'data-miniprogram-path="pages/rules/index?c=1"' in content
    assert "群规&lt;全文&gt;" in content
    assert OutboundReply.objects.get().kind == ReplyKind.MINIPROGRAMPAGE
