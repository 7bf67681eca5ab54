"""A Celery worker killed with SIGKILL while it sends notifications through a slow WeChat:
after a new worker starts, every notification has been received by (the fake) WeChat exactly
once. Counted where the messages arrive, not in our outbox."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
import redis
from django.db import transaction
from werkzeug import Request, Response

from community.services.notifications import notification_enqueue
from tests.conftest import redis_test_url
from tests.factories import CommunityFactory, MembershipFactory
from tests.waiting import stays, wait_for
from tests.wechat_fake import wechat_json

# Sending is claim, commit, call, record (community.services.notifications): the message
# WeChat holds when the worker dies is recorded as claimed, not rolled back, so the redelivered
# task does not send it again. (Before that change this test failed: the held message arrived
# twice.)
pytestmark = [pytest.mark.celery_worker]

SEND = "/cgi-bin/message/subscribe/send"
NOTIFICATIONS = 30
KILL_AT = 8  # the worker dies while WeChat holds this (8th) message
#: Seconds before Redis hands a dead worker's unacknowledged task to another worker.
VISIBILITY_TIMEOUT = 3


def test_killed_worker_every_notification_received_exactly_once(
    wechat_server, celery_workers, needs_postgres
):
    received: list[str] = []
    in_flight = threading.Event()
    killed = threading.Event()

    def slow_wechat(request: Request) -> Response:
        received.append(json.loads(request.get_data())["touser"])
        if len(received) == KILL_AT:
            in_flight.set()
            killed.wait(30)  # WeChat has the message; its answer never reaches the worker
        else:
            time.sleep(0.05)  # a slow WeChat
        return wechat_json({"errcode": 0, "errmsg": "ok"})

    wechat_server.expect_request(SEND, method="POST").respond_with_handler(slow_wechat)
    env = {"TEST_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    first = celery_workers(**env)

    community = CommunityFactory()
    members = [MembershipFactory(community=community) for _ in range(NOTIFICATIONS)]
    with transaction.atomic():  # queued on commit, as product code does
        for membership in members:
            notification_enqueue(
                community=community,
                recipient=membership.user,
                kind="test",
                object_key="poll:storm",
                data={"thing1": "周末徒步投票"},
            )
    expected = Counter(membership.user.openid for membership in members)

    wait_for(in_flight.is_set, timeout=60, message=lambda: "a send in flight\n" + first.output)
    first.kill()
    killed.set()
    second = celery_workers(**env)

    wait_for(
        lambda: set(received) == set(expected),
        timeout=90,
        message=lambda: (
            f"every recipient reached ({len(set(received))}/{NOTIFICATIONS})\n" + second.output
        ),
    )
    # The killed worker's unacknowledged task is handed out again after the visibility timeout:
    # wait until the broker holds no task, queued or unacknowledged (all ran to the end).
    broker = redis.Redis.from_url(redis_test_url())
    wait_for(
        lambda: broker.hlen("unacked") == 0 and broker.llen("celery") == 0,
        timeout=60,
        message=lambda: "the broker drained\n" + second.output,
    )
    assert stays(lambda: Counter(received) == expected, duration=2.0), Counter(received) - expected
