"""WeChat's retries arriving together (PostgreSQL, real threads): the same push posted by
several threads at once is stored once and answered once, and the answering task run twice at
once sends one reply."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from assistant.models import Conversation, InboundMessage, OutboundReply
from assistant.services import message_answer, message_receive
from tests.assistant.conftest import text_push
from tests.factories import MembershipFactory
from tests.wechat_fake import wechat_push

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 6


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set DATABASE_URL)")


def _together(work, count=THREADS) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait(10)
            results[index] = work()
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_simultaneous_retries_of_one_push_are_stored_and_answered_once(wechat):
    membership = MembershipFactory()
    fields = text_push(membership.user, "同一条消息")
    results = _together(lambda: wechat_push(Client(), fields).content)
    assert results == [b"success"] * THREADS
    assert InboundMessage.objects.count() == 1
    assert OutboundReply.objects.count() == 1
    assert len(wechat.cs.sent) == 1
    assert len(wechat.checks) == 1


def test_the_answering_task_run_twice_at_once_sends_one_reply(wechat, settings):
    membership = MembershipFactory()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    message = message_receive(fields=text_push(membership.user, "你好"))  # commits; task ran
    InboundMessage.objects.filter(pk=message.pk).update(status="received", screening="pending")
    OutboundReply.objects.all().delete()
    Conversation.objects.update(state="auto", handover_notice_at=None, handed_over_at=None)
    sent_before = len(wechat.cs.sent)
    results = _together(lambda: message_answer(message_id=message.pk), count=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert OutboundReply.objects.count() == 1
    assert InboundMessage.objects.get().status == "handed_over"
    assert len(wechat.cs.sent) - sent_before == 1
