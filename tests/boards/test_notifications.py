"""Board notifications through the outbox, exactly once per dedupe key, and the clock-driven
ones walked with a frozen clock through the ``boards-remind`` job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Notification
from community.schedule import JOBS
from roles.services import tasks_edit, tasks_slots
from roles.services.tasks_notify import tasks_overdue_digest, tasks_remind_due
from tests.boards.conftest import columns_of, give_role

pytestmark = pytest.mark.django_db

REMIND = next(job for job in JOBS if job.name == "boards-remind")


def _outbox(kind: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", "dedupe_key"))


def test_assigned_once_per_assignment_and_again_after_reassignment(
    admin, make_member, make_board, make_task
):
    helper, _ = make_member()
    task = make_task(make_board(), assignee_ids=[helper.user_id])
    task = tasks_edit.task_update(
        actor=admin[0], task=task, version=1, title="改标题", assignee_ids=[helper.user_id]
    )
    assert len(_outbox("task_assigned")) == 1  # still assigned: not told again
    task = tasks_edit.task_update(actor=admin[0], task=task, version=2, assignee_ids=[])
    tasks_edit.task_update(actor=admin[0], task=task, version=3, assignee_ids=[helper.user_id])
    assert [r for r, _ in _outbox("task_assigned")] == [helper.user_id] * 2


def test_the_admin_assigning_themself_is_not_notified(admin, make_board, make_task):
    make_task(make_board(), assignee_ids=[admin[0].user_id])
    assert _outbox("task_assigned") == []


def test_slot_confirmed_at_once_and_when_promoted_from_the_waitlist(
    make_member, make_board, make_task
):
    task = make_task(make_board(), slots_total=1)
    first, second = make_member()[0], make_member()[0]
    tasks_slots.slot_claim(actor=first, task=task)
    tasks_slots.slot_claim(actor=second, task=task)
    assert [r for r, _ in _outbox("task_slot_confirmed")] == [first.user_id]
    tasks_slots.slot_withdraw(actor=first, task=task)
    assert sorted(r for r, _ in _outbox("task_slot_confirmed")) == sorted(
        [first.user_id, second.user_id]
    )


def test_due_soon_once_per_assignee_and_due_date(admin, make_member, make_board, make_task):
    helper, _ = make_member()
    now = timezone.now()
    task = make_task(make_board(), due_at=now + timedelta(hours=30), assignee_ids=[helper.user_id])
    assert tasks_remind_due(now=now) == 0  # 30 h away: not yet
    later = now + timedelta(hours=7)
    assert tasks_remind_due(now=later) == 1
    assert tasks_remind_due(now=later + timedelta(minutes=15)) == 0  # once
    tasks_edit.task_update(actor=admin[0], task=task, version=1, due_at=now + timedelta(hours=20))
    assert tasks_remind_due(now=later) == 1  # a new due date is a new reminder
    assert len(_outbox("task_due_soon")) == 2


def test_done_tasks_get_no_reminder(admin, make_member, make_board, make_task):
    helper, _ = make_member()
    board = make_board()
    now = timezone.now()
    make_task(
        board,
        column=columns_of(board)[-1],
        due_at=now + timedelta(hours=2),
        assignee_ids=[helper.user_id],
    )
    assert tasks_remind_due(now=now) == 0
    assert tasks_overdue_digest(now=now + timedelta(days=1)) == 0


def test_overdue_is_one_digest_a_day_per_member_not_one_per_task(
    make_member, make_board, make_task
):
    helper, _ = make_member()
    holder, _ = make_member()
    role = give_role(holder, name="活动策划")
    board = make_board()
    now = timezone.now().replace(hour=2, minute=0)  # 10:00 in Shanghai: one local day ahead
    for i in range(3):
        make_task(
            board,
            title=f"late{i}",
            due_at=now + timedelta(hours=i + 1),
            assignee_ids=[helper.user_id],
            owning_role_id=role.pk,
        )
    day_after = now + timedelta(days=1)
    assert tasks_overdue_digest(now=day_after) == 2  # the assignee and the role holder
    assert tasks_overdue_digest(now=day_after + timedelta(hours=1)) == 0
    digest = Notification.objects.get(kind="tasks_overdue", recipient_id=helper.user_id)
    assert digest.data["number2"] == "3"
    assert tasks_overdue_digest(now=day_after + timedelta(days=1)) == 2  # the next day


def test_the_periodic_job_runs_both_reminders(make_member, make_board, make_task):
    helper, _ = make_member()
    now = timezone.now()
    make_task(make_board(), due_at=now + timedelta(hours=3), assignee_ids=[helper.user_id])
    make_task(make_board(), due_at=now - timedelta(hours=3), assignee_ids=[helper.user_id])
    REMIND.delay(now)  # Celery is eager in tests
    assert [r for r, _ in _outbox("task_due_soon")] == [helper.user_id]
    assert [r for r, _ in _outbox("tasks_overdue")] == [helper.user_id]
