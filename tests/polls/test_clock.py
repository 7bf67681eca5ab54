"""Work that follows the clock: results are final at the deadline on first read, whether or not
a worker ran; a reader never waits for a lock; no task is queued with a far ETA."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from celery.app.task import Task
from django.db import connection, connections, transaction
from django.utils import timezone

from community.models import Notification
from community.schedule import MAX_TASK_DELAY
from polls import services, tasks
from polls.models import Ballot, Poll
from tests.polls.conftest import option_ids, vote


def _expire(poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() - timedelta(seconds=1)
    )


def _closed_notices(poll: Poll) -> set[str]:
    return set(
        Notification.objects.filter(kind="poll_closed", object_key=f"poll:{poll.pk}").values_list(
            "recipient_id", flat=True
        )
    )


# --- finalization on read ------------------------------------------------------------------
@pytest.mark.django_db
def test_first_read_after_the_deadline_freezes_results_without_any_worker(
    make_poll, make_member, moderator
):
    """No task runs here (the test transaction never commits, so nothing queued after commit
    runs): the results read after the deadline are final anyway, and equal the stored ballots."""
    poll = make_poll("single")
    a, b, _ = option_ids(poll)
    voters = [make_member() for _ in range(3)]
    for i, (_m, client) in enumerate(voters):
        vote(client, poll, {"option_ids": [a if i else b]})
    _, reader = make_member()
    before = reader.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert before["status"] == "open" and before["final"] is False
    _expire(poll)

    body = reader.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert body["status"] == "closed" and body["final"] is True
    stored = [b_.choices["option_ids"][0] for b_ in Ballot.objects.filter(poll=poll)]
    assert {o["option"]: o["count"] for o in body["result"]["options"]} == {
        a: stored.count(a),
        b: stored.count(b),
        option_ids(poll)[2]: 0,
    }
    poll.refresh_from_db()
    assert poll.finalized_at is not None and poll.final_results["voters"] == 3
    assert poll.close_notified_at is None and not _closed_notices(poll)  # no worker ran

    # The sweep (or the task queued by that read) then queues the notifications, once.
    assert tasks.polls_sweep.delay().get() == 1
    assert _closed_notices(poll) == {m.user_id for m, _ in voters} | {moderator[0].user_id}
    assert tasks.polls_sweep.delay().get() == 0
    assert services.poll_finalize(poll_id=poll.pk) is False
    assert Notification.objects.filter(kind="poll_closed").count() == 4


@pytest.mark.django_db
def test_read_queues_the_notifications_at_once_after_commit(
    make_poll, member, moderator, django_capture_on_commit_callbacks
):
    poll = make_poll("single")
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    _expire(poll)
    with django_capture_on_commit_callbacks(execute=True):
        body = member[1].get(f"/api/v1/polls/{poll.pk}").json()
    assert body["status"] == "closed"
    poll.refresh_from_db()
    assert poll.finalized_at is not None and poll.close_notified_at is not None
    assert _closed_notices(poll) == {member[0].user_id, moderator[0].user_id}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        member[1].get(f"/api/v1/polls/{poll.pk}/results")
    assert callbacks == []  # already final: a read writes nothing and queues nothing


@pytest.mark.django_db
def test_reading_an_open_poll_writes_nothing(make_poll, member, django_assert_num_queries):
    poll = make_poll("single")
    services.poll_finalize_on_read(poll=poll)
    with django_assert_num_queries(0):
        services.poll_finalize_on_read(poll=poll)
    poll.refresh_from_db()
    assert poll.finalized_at is None
    # With a frozen clock past the deadline the same call freezes them.
    later = poll.closes_at + timedelta(seconds=1)
    assert services.poll_finalize_on_read(poll=poll, now=later).finalized_at == later


@pytest.mark.django_db
def test_reopen_then_deadline_freezes_again(make_poll, member, moderator):
    poll = make_poll("single")
    a, b, _ = option_ids(poll)
    vote(member[1], poll, {"option_ids": [a]})
    services.poll_close(actor=moderator[0], poll_id=poll.pk)
    assert member[1].get(f"/api/v1/polls/{poll.pk}/results").json()["final"] is True
    services.poll_reopen(
        actor=moderator[0], poll_id=poll.pk, closes_at=timezone.now() + timedelta(hours=1)
    )
    poll.refresh_from_db()
    assert (poll.final_results, poll.finalized_at, poll.close_notified_at) == (None, None, None)
    vote(member[1], poll, {"option_ids": [b]})
    _expire(poll)
    body = member[1].get(f"/api/v1/polls/{poll.pk}/results").json()
    assert body["final"] is True and body["result"]["winners"] == [b]


# --- a reader never queues behind a lock -----------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_reader_skips_a_locked_poll_and_the_next_read_freezes_it(make_poll, member, moderator):
    """A transaction holds the poll row as a replacing ballot's guard does (``FOR SHARE``): a
    read after the deadline answers at once with live results; the finalize task (which waits,
    the control) stays blocked until the lock goes; the next read freezes the results."""
    poll = make_poll("single")
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    _expire(poll)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1 FROM polls_poll WHERE id = %s FOR SHARE", [poll.pk])
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    finalized: list[bool] = []

    def finalize_waiting():
        try:
            finalized.append(services.poll_finalize(poll_id=poll.pk))
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        started = time.monotonic()
        body = member[1].get(f"/api/v1/polls/{poll.pk}/results").json()
        assert time.monotonic() - started < 5
        assert (
            body["status"] == "closed" and body["final"] is False and body["participant_count"] == 1
        )
        waiter = threading.Thread(target=finalize_waiting)
        waiter.start()
        waiter.join(timeout=1.5)
        assert waiter.is_alive() and finalized == []  # control: a waiting finalizer queues
    finally:
        release.set()
        holder.join(timeout=30)
    waiter.join(timeout=30)
    assert finalized == [True]
    body = member[1].get(f"/api/v1/polls/{poll.pk}/results").json()
    assert body["final"] is True


# --- no task far in the future ---------------------------------------------------------------
def _late_calls(calls: list[tuple[str, dict]], now: datetime) -> list[tuple[str, dict]]:
    """The recorded ``apply_async`` calls that ask for a delay beyond MAX_TASK_DELAY."""
    limit = MAX_TASK_DELAY.total_seconds()
    late = []
    for name, options in calls:
        eta, countdown = options.get("eta"), options.get("countdown")
        if isinstance(eta, str):
            eta = datetime.fromisoformat(eta)
        if (eta is not None and (eta - now).total_seconds() > limit) or (
            countdown is not None and countdown > limit
        ):
            late.append((name, options))
    return late


@pytest.mark.django_db(transaction=True)
def test_no_task_is_queued_with_an_eta_beyond_a_few_minutes(
    make_poll, member, moderator, monkeypatch
):
    """Every task enqueued while a poll is created, edited, voted in, closed, reopened, read
    after its deadline and swept asks for no ETA or countdown beyond MAX_TASK_DELAY (Celery's
    ``Task.apply_async`` is wrapped to record its options, then runs as usual)."""
    calls: list[tuple[str, dict]] = []
    apply_async = Task.apply_async

    def recording(self, args=None, kwargs=None, **options):
        calls.append((self.name, options))
        return apply_async(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", recording)
    now = timezone.now()
    poll = make_poll("single", closes_at=now + timedelta(days=3), reminder_hours=24)
    services.poll_update(actor=moderator[0], poll_id=poll.pk, closes_at=now + timedelta(days=4))
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    assert [name for name, _ in calls] == []  # nothing scheduled for the deadline
    services.poll_close(actor=moderator[0], poll_id=poll.pk)
    assert ("polls.tasks.poll_finalize_task", {}) in calls  # a close finalizes at once
    services.poll_reopen(actor=moderator[0], poll_id=poll.pk, closes_at=now + timedelta(days=2))
    _expire(poll)
    moderator[1].get(f"/api/v1/polls/{poll.pk}/results")
    tasks.polls_sweep.delay()
    tasks.polls_remind.delay()
    names = {name for name, _ in calls}
    assert {"polls.tasks.poll_finalize_task", "community.tasks.send_notification"} <= names
    assert _late_calls(calls, timezone.now()) == []
    # Control: the check does catch the ETA at closes_at that a poll used to be queued with.
    old_style = [("polls.tasks.poll_finalize_task", {"eta": now + timedelta(days=3)})]
    assert _late_calls(old_style, now) == old_style
