"""Finalize through a real Celery worker on Redis, against the PostgreSQL test database."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Notification
from polls.models import Poll
from tests.polls.conftest import option_ids

pytestmark = pytest.mark.celery_worker


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_close_finalizes_and_notifies_exactly_once_through_a_worker(
    celery_worker_process, make_poll, make_member, moderator
):
    from community.celery import app
    from polls import services, tasks

    # Earlier eager tests may have built producer pools for the empty broker; start afresh.
    app._pool = None
    app.amqp._producer_pool = None
    poll = make_poll("single")
    _, client = make_member()
    client.put(
        f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": option_ids(poll)[:1]}, format="json"
    )
    services.poll_close(actor=moderator[0], poll_id=poll.pk)  # enqueues finalize on commit
    tasks.poll_finalize_task.delay(poll.pk)  # a duplicate, as a redelivery would be
    tasks.polls_sweep.delay()  # and the sweep, racing with both
    finalized = _wait_for(lambda: Poll.objects.get(pk=poll.pk).finalized_at is not None)
    if not finalized:
        celery_worker_process.terminate()
        print(celery_worker_process.stdout.read())
    assert finalized
    assert _wait_for(lambda: Notification.objects.filter(kind="poll_closed").count() == 2)
    time.sleep(2)  # let any duplicate run
    assert Notification.objects.filter(kind="poll_closed").count() == 2
    assert Poll.objects.get(pk=poll.pk).final_results["voters"] == 1
    assert Poll.objects.get(pk=poll.pk).closes_at > timezone.now() - timedelta(minutes=5)
