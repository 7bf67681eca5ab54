"""Exactly one beat is the rule, but a second one (a deploy that started a new beat before the
old one stopped) must do no harm: two runs of a periodic job at once do its work once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from community.models import Notification
from polls import tasks
from polls.models import Poll
from tests.polls.conftest import option_ids, vote

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def test_two_polls_sweeps_at_once_finalize_and_notify_once(
    transactional_db, make_poll, make_member, moderator
):
    poll = make_poll("single")
    voters = [make_member() for _ in range(3)]
    for _member, client in voters:
        vote(client, poll, {"option_ids": option_ids(poll)[:1]})
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() - timedelta(seconds=1)
    )
    barrier = threading.Barrier(2)
    finalized: list[int] = []
    errors: list[BaseException] = []

    def beat() -> None:
        try:
            barrier.wait(timeout=10)
            finalized.append(tasks.polls_sweep())  # as a worker runs it
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(finalized) == 2  # both sweeps saw the poll due and ran its finalize
    poll.refresh_from_db()
    assert poll.finalized_at is not None and poll.final_results["voters"] == 3
    notices = Notification.objects.filter(kind="poll_closed", object_key=f"poll:{poll.pk}")
    recipients = list(notices.values_list("recipient_id", flat=True))
    # One close notice per member: the second finalize found the poll already final.
    assert sorted(recipients) == sorted({m.user_id for m, _ in voters} | {moderator[0].user_id})
