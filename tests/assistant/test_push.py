"""The push endpoint as WeChat reaches it: the URL check, messages in safe mode (JSON and
XML), refusals, storing once, and the answer end to end through the fake WeChat."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from assistant.models import (
    Conversation,
    ConversationState,
    InboundMessage,
    MessageStatus,
    OutboundReply,
    ReplyStatus,
)
from assistant.push import configured_crypto
from assistant.push_crypto import PushCrypto, sha1_signature
from tests.assistant.conftest import RISKY, TEST_AES_KEY, enter_push, text_push
from tests.factories import CommunityFactory, MembershipFactory
from tests.wechat_fake import wechat_push

pytestmark = pytest.mark.django_db


def _url_check(client, *, token="test-push-token", echostr="4375120948345356249"):  # noqa: S107
    timestamp, nonce = "1714036504", "1514711492"
    query = {
        "signature": sha1_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    return client.get(f"/wechat/push?{urlencode(query)}")


def test_url_check_echoes_echostr(push_client):
    response = _url_check(push_client)
    assert response.status_code == 200
    assert response.content == b"4375120948345356249"
    assert response["Content-Type"].startswith("text/plain")


def test_url_check_with_another_token_is_refused(push_client):
    response = _url_check(push_client, token="not-ours")
    assert response.status_code == 403
    assert b"4375120948345356249" not in response.content


def test_not_configured_answers_503(push_client, settings):
    settings.WECHAT_PUSH_AES_KEY = ""
    assert _url_check(push_client).status_code == 503


def _capture(django_capture_on_commit_callbacks, call):
    with django_capture_on_commit_callbacks(execute=True):
        return call()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_message_is_stored_and_answered_end_to_end(
    fmt, settings, push_client, member, wechat, django_capture_on_commit_callbacks
):
    """Nothing matches (no rule, FAQ entry or live trigger): the member is told a person will
    answer, and the conversation waits in the moderators' queue."""
    settings.WECHAT_PUSH_FORMAT = fmt
    membership, _client = member
    fields = text_push(membership.user, "停车场在哪里？")
    response = _capture(
        django_capture_on_commit_callbacks, lambda: wechat_push(push_client, fields)
    )
    assert response.status_code == 200 and response.content == b"success"
    message = InboundMessage.objects.get()
    assert message.community_id == membership.community_id
    assert message.member_id == membership.pk
    assert message.content == "停车场在哪里？"
    assert message.wechat_msg_id == fields["MsgId"]
    assert message.status == MessageStatus.HANDED_OVER
    assert message.screening == "pass"
    assert wechat.checks == ["停车场在哪里？"]
    conversation = message.conversation
    assert conversation.state == ConversationState.WAITING_FOR_HUMAN
    assert wechat.cs.sent == [
        {
            "touser": membership.user.openid,
            "msgtype": "text",
            "text": {"content": wechat.cs.sent[0]["text"]["content"]},
        }
    ]
    assert (
        "人工" in wechat.cs.sent[0]["text"]["content"]
        or "客服" in (wechat.cs.sent[0]["text"]["content"])
    )
    notice = OutboundReply.objects.get()
    assert notice.status == ReplyStatus.SENT and notice.author is None
    # The openid itself is not on the assistant's rows.
    assert membership.user.openid not in json.dumps(
        list(InboundMessage.objects.values("openid_hash", "extra", "session_from"))
    )


def test_the_notice_is_sent_once_per_window(
    push_client, member, wechat, django_capture_on_commit_callbacks
):
    membership, _client = member
    for text in ("你好", "在吗", "有人吗"):
        _capture(
            django_capture_on_commit_callbacks,
            lambda text=text: wechat_push(push_client, text_push(membership.user, text)),
        )
    assert InboundMessage.objects.filter(status=MessageStatus.HANDED_OVER).count() == 3
    assert len(wechat.cs.sent) == 1


def test_a_retried_push_is_stored_and_answered_once(
    push_client, member, wechat, django_capture_on_commit_callbacks
):
    membership, _client = member
    fields = text_push(membership.user, "报名怎么弄")
    for _attempt in range(3):
        response = _capture(
            django_capture_on_commit_callbacks, lambda: wechat_push(push_client, fields)
        )
        assert response.content == b"success"
    assert InboundMessage.objects.count() == 1
    assert len(wechat.cs.sent) == 1
    assert len(wechat.checks) == 1


@pytest.mark.parametrize("tamper", ["signature", "body", "plain"])
def test_unsigned_or_unencrypted_pushes_are_refused_and_nothing_is_stored(
    tamper, push_client, member, wechat
):
    membership, _client = member
    response = wechat_push(push_client, text_push(membership.user, "你好"), tamper=tamper)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not Conversation.objects.exists()


def _signed(push_client, encrypt: str, fmt: str = "json"):
    crypto = configured_crypto()
    timestamp, nonce = str(int(time.time())), "123"
    query = {
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": crypto.msg_signature(timestamp=timestamp, nonce=nonce, encrypt=encrypt),
        "signature": sha1_signature(crypto.token, timestamp, nonce),
    }
    body = json.dumps({"ToUserName": "gh", "Encrypt": encrypt})
    return push_client.post(
        f"/wechat/push?{urlencode(query)}", data=body, content_type="application/json"
    )


def test_a_signed_push_for_another_appid_or_garbage_is_refused(push_client, member, wechat):
    membership, _client = member
    other = PushCrypto(token="test-push-token", encoding_aes_key=TEST_AES_KEY, appid="wx-other")
    foreign = other.encrypt(json.dumps(text_push(membership.user, "你好")))
    assert _signed(push_client, foreign).status_code == 400
    assert _signed(push_client, "bm90IGEgY2lwaGVydGV4dA==").status_code == 400
    crypto = configured_crypto()
    assert _signed(push_client, crypto.encrypt("not json")).status_code == 400
    assert _signed(push_client, crypto.encrypt("[1, 2]")).status_code == 400
    assert not InboundMessage.objects.exists()


def test_xml_with_a_doctype_is_refused(settings, push_client, member, wechat):
    settings.WECHAT_PUSH_FORMAT = "xml"
    crypto = configured_crypto()
    evil = '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>'
    encrypt = crypto.encrypt(evil)
    timestamp, nonce = "1", "2"
    query = {
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": crypto.msg_signature(timestamp=timestamp, nonce=nonce, encrypt=encrypt),
    }
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
    response = push_client.post(
        f"/wechat/push?{urlencode(query)}", data=body, content_type="text/xml"
    )
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_session_from_routes_to_that_community(
    push_client, wechat, django_capture_on_commit_callbacks
):
    """A member of two communities opens the chat from the second one's event page: their
    messages go there (until they enter from elsewhere)."""
    first = MembershipFactory()
    second = MembershipFactory(user=first.user)
    first.last_active_at = timezone.now()
    first.save()
    user = first.user
    _capture(
        django_capture_on_commit_callbacks,
        lambda: wechat_push(
            push_client, enter_push(user, f"c={second.community_id}&p=pages/events/index")
        ),
    )
    _capture(
        django_capture_on_commit_callbacks,
        lambda: wechat_push(push_client, text_push(user, "几点集合")),
    )
    message = InboundMessage.objects.get(msg_type="text")
    assert message.community_id == second.community_id
    assert not message.community_guessed
    assert message.conversation.page == "pages/events/index"
    event = InboundMessage.objects.get(msg_type="event")
    assert event.status == MessageStatus.IGNORED


def test_without_session_from_the_only_community_or_a_flagged_guess(
    push_client, wechat, django_capture_on_commit_callbacks
):
    only = MembershipFactory()
    _capture(
        django_capture_on_commit_callbacks,
        lambda: wechat_push(push_client, text_push(only.user, "你好")),
    )
    message = InboundMessage.objects.get(user=only.user)
    assert message.community_id == only.community_id and not message.community_guessed

    first = MembershipFactory(last_active_at=timezone.now() - timedelta(days=3))
    recent = MembershipFactory(user=first.user, last_active_at=timezone.now())
    _capture(
        django_capture_on_commit_callbacks,
        lambda: wechat_push(push_client, text_push(first.user, "你好", msg_id=1)),
    )
    guessed = InboundMessage.objects.get(user=first.user)
    assert guessed.community_id == recent.community_id and guessed.community_guessed


def test_session_from_naming_a_community_of_others_is_not_trusted(
    push_client, wechat, django_capture_on_commit_callbacks
):
    mine = MembershipFactory()
    other = CommunityFactory()
    _capture(
        django_capture_on_commit_callbacks,
        lambda: wechat_push(push_client, enter_push(mine.user, f"c={other.pk}&p=x")),
    )
    assert not InboundMessage.objects.filter(community=other).exists()
    assert not Conversation.objects.filter(community=other).exists()


def test_a_non_member_is_not_stored(push_client, outsider, wechat):
    user, _client = outsider
    assert wechat_push(push_client, text_push(user, "你好")).content == b"success"
    assert not InboundMessage.objects.exists()


def test_a_risky_message_is_stored_flagged_and_not_answered(
    push_client, member, wechat, django_capture_on_commit_callbacks
):
    membership, _client = member
    _capture(
        django_capture_on_commit_callbacks,
        lambda: wechat_push(push_client, text_push(membership.user, f"{RISKY} 人工")),
    )
    message = InboundMessage.objects.get()
    assert message.screening == "risky"
    assert message.status == MessageStatus.HANDED_OVER
    assert message.conversation.state == ConversationState.WAITING_FOR_HUMAN
    assert wechat.cs.sent == []


def test_bad_requests_to_the_endpoint_store_nothing(push_client, member, wechat):
    assert push_client.get("/wechat/push").status_code == 403
    assert push_client.get("/wechat/push?signature=x&timestamp=1&nonce=2").status_code == 403
    assert push_client.put("/wechat/push").status_code == 405
    assert (
        push_client.post("/wechat/push", data=b"", content_type="application/json").status_code
        == 403
    )
    crypto = configured_crypto()
    query = urlencode(
        {
            "timestamp": "1",
            "nonce": "2",
            "encrypt_type": "aes",
            "msg_signature": crypto.msg_signature(timestamp="1", nonce="2", encrypt=""),
        }
    )
    for body in (b"", b"{}", b"[]", b"not json", json.dumps({"Encrypt": 5}).encode()):
        response = push_client.post(
            f"/wechat/push?{query}", data=body, content_type="application/json"
        )
        assert response.status_code in (400, 403)
    assert not InboundMessage.objects.exists()
