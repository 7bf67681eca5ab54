"""Finalize through a real Celery worker on Redis, against the PostgreSQL test database."""

from __future__ import annotations

import json

import pytest

from community.models import Notification
from polls.models import Poll
from tests.polls.conftest import option_ids
from tests.waiting import stays, wait_for

pytestmark = pytest.mark.celery_worker

SEND = "/cgi-bin/message/subscribe/send"


def test_close_finalizes_and_notifies_exactly_once_through_a_worker(
    wechat_server, celery_workers, make_poll, make_member, moderator
):
    """Close, a duplicate finalize (as a redelivery) and the sweep race on one worker: the
    results are frozen once and each member receives the "closed" message once, counted where
    it arrives (the fake WeChat server), not in our own outbox."""
    from community.models import SubscriptionCredit
    from polls import services, tasks

    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    worker = celery_workers(TEST_WECHAT_TEMPLATES=json.dumps({"poll_closed": "tmpl-closed"}))
    poll = make_poll("single")
    voter, client = make_member()
    response = client.put(
        f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": option_ids(poll)[:1]}, format="json"
    )
    assert response.status_code == 200, response.content
    for user in (voter.user, moderator[0].user):  # each accepted one "closed" message
        SubscriptionCredit.objects.create(user=user, template_id="tmpl-closed", credits=1)
    services.poll_close(actor=moderator[0], poll_id=poll.pk)  # enqueues finalize on commit
    tasks.poll_finalize_task.delay(poll.pk)  # a duplicate, as a redelivery would be
    tasks.polls_sweep.delay()  # and the sweep, racing with both

    def received() -> list[str]:
        return sorted(
            json.loads(request.get_data())["touser"]
            for request, _ in wechat_server.log
            if request.path == SEND
        )

    expected = sorted([voter.user.openid, moderator[0].user.openid])
    wait_for(
        lambda: len(received()) >= len(expected),
        timeout=60,
        message=lambda: f"messages to {expected}, got {received()}\n{worker.output}",
    )
    # Let the duplicate finalize and the sweep run out: still one message per member.
    wait_for(lambda: Notification.objects.filter(kind="poll_closed", status="sent").count() == 2)
    assert stays(lambda: received() == expected, duration=2.0), received()
    for body in (json.loads(r.get_data()) for r, _ in wechat_server.log if r.path == SEND):
        assert body["template_id"] == "tmpl-closed"
        assert body["page"] == f"pages/polls/detail?id={poll.pk}"
    final = Poll.objects.get(pk=poll.pk)
    assert final.finalized_at is not None and final.final_results["voters"] == 1
