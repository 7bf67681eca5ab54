"""Reminders: one insert that skips members already reminded, no lock on the poll while it
runs, and none committed after a close (the guard, share-locking the poll, comes last)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community.models import Notification
from community.services.notifications import notification_enqueue_many
from polls import services
from polls.models import Poll, PollStatus
from polls.selectors import non_voter_memberships
from tests.waiting import wait_for

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


def _reminders(poll) -> int:
    return Notification.objects.filter(kind="poll_reminder", object_key=f"poll:{poll.pk}").count()


@postgres_only
@pytest.mark.django_db
def test_reminders_are_one_insert_and_the_poll_is_share_locked_only_last(make_poll, make_member):
    poll = make_poll("single", closes_at=timezone.now() + timedelta(hours=3))
    for _ in range(6):
        make_member()
    with CaptureQueriesContext(connection) as captured:
        assert services.poll_remind(poll_id=poll.pk) == 7  # six members and the author
    statements = [q["sql"] for q in captured.captured_queries]
    inserts = [i for i, sql in enumerate(statements) if "INSERT" in sql]
    assert len(inserts) == 1 and '"community_notification"' in statements[inserts[0]]
    assert not any("FOR UPDATE" in sql or "FOR NO KEY UPDATE" in sql for sql in statements)
    guard = [i for i, sql in enumerate(statements) if sql.endswith("FOR SHARE")]
    assert len(guard) == 1 and guard[0] > inserts[0]
    assert all(sql.startswith("RELEASE SAVEPOINT") for sql in statements[guard[0] + 1 :])
    assert services.poll_remind(poll_id=poll.pk) == 0  # existing keys are skipped
    assert _reminders(poll) == 7


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_close_committing_while_reminders_are_queued_rolls_them_back(
    make_poll, make_member, moderator
):
    """The close holds the poll row (not yet committed) when the reminder job starts: the job
    still sees the poll open, inserts its rows, then waits at its guard. Once the close
    commits, the guard sees it and the reminders roll back: none exists for the closed poll."""
    poll = make_poll("single", closes_at=timezone.now() + timedelta(hours=3))
    for _ in range(4):
        make_member()
    closing, commit = threading.Event(), threading.Event()

    def close():
        try:
            with transaction.atomic():
                services.poll_close(actor=moderator[0], poll_id=poll.pk)
                closing.set()
                assert commit.wait(timeout=30)
        finally:
            connections.close_all()

    def remind():
        try:
            return services.poll_remind(poll_id=poll.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        closer = pool.submit(close)
        assert closing.wait(timeout=30)
        reminder = pool.submit(remind)
        wait_for(lambda: reminder.done() or _lock_waiters() >= 1, timeout=20, interval=0.05)
        assert not reminder.done(), f"queued {reminder.result()} without waiting for the close"
        commit.set()
        closer.result(timeout=30)
        assert reminder.result(timeout=30) == 0
    assert Poll.objects.get(pk=poll.pk).closed_at is not None
    assert _reminders(poll) == 0


@pytest.mark.django_db(transaction=True)
def test_control_without_the_guard_reminders_are_queued_after_the_close(
    make_poll, make_member, moderator
):
    """Control: checking "open" first and inserting without the guard after a close that
    committed in between leaves reminders for a closed poll."""
    poll = make_poll("single", closes_at=timezone.now() + timedelta(hours=3))
    for _ in range(4):
        make_member()
    copy = Poll.objects.get(pk=poll.pk)
    assert copy.status_at(timezone.now()) == PollStatus.OPEN  # the job's first check
    services.poll_close(actor=moderator[0], poll_id=poll.pk)  # commits
    with transaction.atomic():  # the unguarded insert
        notification_enqueue_many(
            community_id=copy.community_id,
            recipient_ids=non_voter_memberships(poll=copy).values_list("user_id", flat=True),
            kind="poll_reminder",
            object_key=f"poll:{copy.pk}",
            data={},
        )
    assert Poll.objects.get(pk=poll.pk).closed_at is not None
    assert _reminders(poll) == 5
