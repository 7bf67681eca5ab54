"""Finalize and reminders: exactly once, never after close, never to someone who voted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Notification
from polls import services, tasks
from polls.models import Poll
from tests.polls.conftest import option_ids, vote

pytestmark = pytest.mark.django_db


def _expire(poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() - timedelta(seconds=1)
    )


def test_finalize_freezes_results_and_notifies_once(make_poll, make_member, moderator):
    poll = make_poll("single")
    a = option_ids(poll)[0]
    voters = [make_member() for _ in range(3)]
    for _, client in voters:
        vote(client, poll, {"option_ids": [a]})
    make_member()  # did not vote: no "closed" notification
    assert tasks.poll_finalize_task.delay(poll.pk).get() is False  # still open: no-op
    _expire(poll)
    assert tasks.poll_finalize_task.delay(poll.pk).get() is True
    assert tasks.poll_finalize_task.delay(poll.pk).get() is False  # twice: nothing more
    assert services.poll_finalize(poll_id=poll.pk) is False
    poll.refresh_from_db()
    assert poll.final_results["result"]["winners"] == [a]
    recipients = set(
        Notification.objects.filter(kind="poll_closed").values_list("recipient_id", flat=True)
    )
    assert recipients == {m.user_id for m, _ in voters} | {moderator[0].user_id}
    assert Notification.objects.filter(kind="poll_closed").count() == 4
    assert set(Notification.objects.values_list("object_key", flat=True)) == {f"poll:{poll.pk}"}


def test_frozen_results_do_not_move(make_poll, member, moderator):
    poll = make_poll("single")
    a, b, _ = option_ids(poll)
    vote(member[1], poll, {"option_ids": [a]})
    _expire(poll)
    services.poll_finalize(poll_id=poll.pk)
    body = moderator[1].get(f"/api/v1/polls/{poll.pk}/results").json()
    assert body["final"] is True and body["result"]["winners"] == [a]


def test_sweep_finalizes_polls_whose_task_was_lost(make_poll):
    poll = make_poll("single")
    _expire(poll)
    assert tasks.polls_sweep.delay().get() == 1
    poll.refresh_from_db()
    assert poll.finalized_at is not None
    assert tasks.polls_sweep.delay().get() == 0


def test_secret_poll_finalize_notifies_participants(make_poll, member, moderator):
    poll = make_poll("single", secret=True)
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    _expire(poll)
    services.poll_finalize(poll_id=poll.pk)
    recipients = set(Notification.objects.values_list("recipient_id", flat=True))
    assert recipients == {member[0].user_id, moderator[0].user_id}


def test_reminders_once_only_to_non_voters_and_never_after_close(make_poll, make_member):
    poll = make_poll("single", reminder_hours=24, closes_at=timezone.now() + timedelta(hours=3))
    far = make_poll("single", reminder_hours=1, closes_at=timezone.now() + timedelta(days=3))
    voter, voter_client = make_member()
    idle, _ = make_member()
    make_member(status="muted")
    vote(voter_client, poll, {"option_ids": option_ids(poll)[:1]})
    assert tasks.polls_remind.delay().get() == 2  # idle member + the moderator author
    assert tasks.polls_remind.delay().get() == 0  # exactly once
    reminded = set(
        Notification.objects.filter(kind="poll_reminder").values_list("recipient_id", flat=True)
    )
    assert idle.user_id in reminded and voter.user_id not in reminded
    assert not Notification.objects.filter(object_key=f"poll:{far.pk}").exists()
    closed = make_poll("single", closes_at=timezone.now() + timedelta(hours=1))
    Poll.objects.filter(pk=closed.pk).update(closed_at=timezone.now())
    assert services.poll_remind(poll_id=closed.pk) == 0
    assert not Notification.objects.filter(object_key=f"poll:{closed.pk}").exists()
