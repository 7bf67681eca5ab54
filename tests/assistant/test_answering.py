"""Answering stored messages when things fail: WeChat down (the message is kept and the
sweep answers it later), the 48-hour window (our clock and WeChat's 45015), WeChat's refusals,
a worker lost while sending (never sent twice)."""

from __future__ import annotations

from datetime import timedelta

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
from assistant.services import assistant_sweep, message_answer, message_receive, reply_send
from assistant.services.replies import MAX_ANSWER_ATTEMPTS, SENDING_LEASE, SWEEP_GRACE
from community.schedule import JOBS
from tests.assistant.conftest import REVIEW, text_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Answer and sweep as a worker would: the test transaction never commits, so what the
    services queue after commit (the eager tasks) is captured and run at the end of each call."""

    class Run:
        @staticmethod
        def answer(message_id):
            with django_capture_on_commit_callbacks(execute=True):
                return message_answer(message_id=message_id)

        @staticmethod
        def sweep(now):
            with django_capture_on_commit_callbacks(execute=True):
                return assistant_sweep(now=now)

    return Run


def _receive(user, text, **kwargs):
    """Store a push as the endpoint does, without running the task (the worker is down)."""
    return message_receive(fields=text_push(user, text, **kwargs))


def test_wechat_down_keeps_the_message_and_the_sweep_answers_it_later(member, wechat, run):
    membership, _client = member
    wechat.check_down = True
    message = _receive(membership.user, "报名")
    run.answer(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.RECEIVED  # kept, not lost, not answered unchecked
    assert wechat.cs.sent == []

    wechat.check_down = False
    later = timezone.now() + SWEEP_GRACE + timedelta(seconds=1)
    result = run.sweep(later)
    assert result["messages"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.HANDED_OVER and message.screening == "pass"
    assert len(wechat.cs.sent) == 1


def test_the_sweep_job_is_registered(run):
    assert any(job.task == "assistant.tasks.assistant_sweep" for job in JOBS)


def test_screening_that_never_answers_ends_with_a_person(member, wechat, run):
    membership, _client = member
    wechat.check_down = True
    message = _receive(membership.user, "你好")
    for _attempt in range(MAX_ANSWER_ATTEMPTS):
        run.answer(message.pk)
    message.refresh_from_db()
    assert message.screening == "unchecked"
    assert message.status == MessageStatus.HANDED_OVER
    assert message.attempts == MAX_ANSWER_ATTEMPTS


def test_a_text_wechat_wants_reviewed_goes_to_a_person(member, wechat, run):
    membership, _client = member
    message = _receive(membership.user, f"{REVIEW} 下次活动")
    run.answer(message.pk)
    message.refresh_from_db()
    assert message.screening == "review" and message.status == MessageStatus.HANDED_OVER


def test_answering_twice_answers_once(member, wechat, run):
    membership, _client = member
    message = _receive(membership.user, "你好")
    run.answer(message.pk)
    assert run.answer(message.pk) is None
    assert OutboundReply.objects.count() == 1
    assert len(wechat.cs.sent) == 1


def _pending_reply(membership, wechat, run):
    message = _receive(membership.user, "你好")
    wechat.cs.fail_with = ["http500"]  # WeChat took the request but did not send: not retried
    run.answer(message.pk)
    return OutboundReply.objects.get()


def test_wechat_5xx_leaves_the_reply_pending_and_the_sweep_sends_it(member, wechat, run):
    membership, _client = member
    reply = _pending_reply(membership, wechat, run)
    assert reply.status == ReplyStatus.PENDING and reply.attempts == 1
    assert reply.error_code == "-1003"
    run.sweep(timezone.now() + SWEEP_GRACE + timedelta(seconds=1))
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and reply.attempts == 2
    assert len(wechat.cs.sent) == 1


@pytest.mark.parametrize(
    ("errcode", "status"),
    [
        (45015, ReplyStatus.WINDOW_EXPIRED),
        (45047, ReplyStatus.FAILED),
        (40003, ReplyStatus.FAILED),
    ],
)
def test_wechat_refusals_are_recorded_not_retried(member, wechat, errcode, status, run):
    membership, _client = member
    message = _receive(membership.user, "你好")
    wechat.cs.fail_with = [errcode]
    run.answer(message.pk)
    reply = OutboundReply.objects.get()
    assert reply.status == status and reply.error_code == str(errcode)
    assert wechat.cs.calls == 1
    run.sweep(timezone.now() + SWEEP_GRACE + timedelta(seconds=1))
    assert wechat.cs.calls == 1


def test_our_clock_past_the_window_does_not_call_wechat(member, wechat, run):
    membership, _client = member
    message = _receive(membership.user, "你好")
    wechat.cs.fail_with = ["http500"]
    run.answer(message.pk)
    reply = OutboundReply.objects.get()
    reply_send(reply_id=reply.pk, now=timezone.now() + timedelta(hours=48, seconds=1))
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.WINDOW_EXPIRED
    assert wechat.cs.calls == 1  # only the first, failed attempt


def test_a_reply_whose_worker_died_while_sending_is_never_sent_twice(member, wechat, run):
    membership, _client = member
    reply = _pending_reply(membership, wechat, run)
    OutboundReply.objects.filter(pk=reply.pk).update(
        status=ReplyStatus.SENDING, claimed_at=timezone.now()
    )
    result = run.sweep(timezone.now() + SENDING_LEASE + timedelta(seconds=1))
    reply.refresh_from_db()
    assert result["lost"] == 1
    assert reply.status == ReplyStatus.FAILED and reply.error_code == "unknown_outcome"
    assert reply_send(reply_id=reply.pk).status == ReplyStatus.FAILED
    assert wechat.cs.sent == []


def test_a_follow_up_after_a_persons_answer_goes_back_to_people(member, wechat, run):
    membership, _client = member
    first = _receive(membership.user, "你好")
    run.answer(first.pk)
    Conversation.objects.update(state=ConversationState.ANSWERED)
    second = _receive(membership.user, "谢谢，还有一个问题")
    run.answer(second.pk)
    second.refresh_from_db()
    assert second.status == MessageStatus.HANDED_OVER and second.answer_source == "person"
    assert Conversation.objects.get().state == ConversationState.WAITING_FOR_HUMAN


def test_a_message_after_the_window_reopens_with_the_assistant(member, wechat, run):
    membership, _client = member
    first = _receive(membership.user, "你好")
    run.answer(first.pk)
    Conversation.objects.update(
        last_member_message_at=timezone.now() - timedelta(hours=49),
        state=ConversationState.WAITING_FOR_HUMAN,
    )
    _receive(membership.user, "又来了")
    assert Conversation.objects.get().state == ConversationState.AUTO
    assert InboundMessage.objects.count() == 2
