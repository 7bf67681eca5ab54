"""Notifications of the task boards, all through the outbox (exactly once per dedupe key):

* ``task_assigned``: once per assignment (a member unassigned and assigned again is told again);
* ``task_mentioned``: once per comment and mentioned member;
* ``task_slot_confirmed``: once per volunteer claim, when it is confirmed (at once or from the
  waitlist);
* ``task_due_soon``: once per assignee and due date, when the task falls due within 24 hours
  (a new due date is a new reminder);
* ``tasks_overdue``: one digest per member, community and local day listing their overdue
  tasks, to the assignees and to the holders of each task's owning role -- never one message
  per task.

The clock-driven two run from the ``boards-remind`` job (``community/schedule.py``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.services.notifications import notification_enqueue_many
from community.timezones import localize
from roles.models import Task, TaskAssignee

NOTIFY_ASSIGNED = "task_assigned"
NOTIFY_MENTIONED = "task_mentioned"
NOTIFY_SLOT_CONFIRMED = "task_slot_confirmed"
NOTIFY_DUE_SOON = "task_due_soon"
NOTIFY_OVERDUE = "tasks_overdue"
DUE_SOON = timedelta(hours=24)
#: Overdue tasks older than this are no longer in the daily digest (a forgotten board must not
#: message its members forever).
OVERDUE_HORIZON = timedelta(days=30)


def task_object_key(task_id: str) -> str:
    return f"task:{task_id}"


def _page(task_id: str) -> str:
    return f"pages/boards/task?id={task_id}"


def notify_assigned(*, task: Task, user_id: str, assignment_id: int) -> None:
    """Tell a member they were assigned to ``task`` (once per assignment)."""
    notification_enqueue_many(
        community_id=task.community_id,
        recipient_ids=[user_id],
        kind=NOTIFY_ASSIGNED,
        object_key=task_object_key(task.pk),
        data={"thing1": task.title[:20], "phrase2": _("Assigned to you")},
        page=_page(task.pk),
        dedupe_key=f"{NOTIFY_ASSIGNED}:{task.pk}:{assignment_id}",
    )


def notify_mentioned(*, task: Task, comment_id: str, user_ids: list[str], author: str) -> None:
    """Tell each member mentioned in a comment (once per comment)."""
    notification_enqueue_many(
        community_id=task.community_id,
        recipient_ids=user_ids,
        kind=NOTIFY_MENTIONED,
        object_key=task_object_key(task.pk),
        data={"thing1": task.title[:20], "name2": author[:10]},
        page=_page(task.pk),
        dedupe_key=f"{NOTIFY_MENTIONED}:{comment_id}",
    )


def notify_slot_confirmed(*, task: Task, user_id: str, claim_id: str) -> None:
    """Tell a volunteer their slot is confirmed (once per claim)."""
    notification_enqueue_many(
        community_id=task.community_id,
        recipient_ids=[user_id],
        kind=NOTIFY_SLOT_CONFIRMED,
        object_key=task_object_key(task.pk),
        data={"thing1": task.title[:20], "phrase2": _("Confirmed")},
        page=_page(task.pk),
        dedupe_key=f"{NOTIFY_SLOT_CONFIRMED}:{claim_id}",
    )


def _open_tasks():
    return Task.objects.filter(column__is_done=False, due_at__isnull=False)


def tasks_remind_due(*, now: datetime | None = None) -> int:
    """Queue "due within 24 hours" to the assignees of open tasks entering that window; once
    per assignee and due date. Returns how many messages were queued."""
    now = now or timezone.now()
    queued = 0
    tasks = _open_tasks().filter(due_at__gt=now, due_at__lte=now + DUE_SOON)
    rows = (
        TaskAssignee.objects.filter(task__in=tasks)
        .select_related("task", "task__community")
        .order_by("task_id", "user_id")
    )
    by_task: dict[str, tuple[Task, list[str]]] = {}
    for row in rows:
        by_task.setdefault(row.task_id, (row.task, []))[1].append(row.user_id)
    for task, user_ids in by_task.values():
        due = localize(task.due_at, task.community)
        with transaction.atomic():
            queued += len(
                notification_enqueue_many(
                    community_id=task.community_id,
                    recipient_ids=user_ids,
                    kind=NOTIFY_DUE_SOON,
                    object_key=task_object_key(task.pk),
                    data={"thing1": task.title[:20], "time2": due.strftime("%Y-%m-%d %H:%M")},
                    page=_page(task.pk),
                    dedupe_key=f"{NOTIFY_DUE_SOON}:{task.pk}:{task.due_at.isoformat()}",
                )
            )
    return queued


def overdue_recipients(*, now: datetime) -> dict[str, dict[str, list[Task]]]:
    """Community id -> member (user id) -> their overdue open tasks: assignees and the holders
    of each task's owning role (``role_holders`` below)."""
    overdue = list(
        _open_tasks()
        .filter(due_at__lte=now, due_at__gt=now - OVERDUE_HORIZON)
        .select_related("community")
        .order_by("due_at", "id")
    )
    result: dict[str, dict[str, list[Task]]] = defaultdict(lambda: defaultdict(list))
    if not overdue:
        return result
    by_id = {task.pk: task for task in overdue}
    for task_id, user_id in TaskAssignee.objects.filter(task_id__in=list(by_id)).values_list(
        "task_id", "user_id"
    ):
        task = by_id[task_id]
        result[task.community_id][user_id].append(task)
    for task, user_ids in role_holders(overdue):
        for user_id in user_ids:
            if task not in result[task.community_id][user_id]:
                result[task.community_id][user_id].append(task)
    return result


def role_holders(tasks: list[Task]) -> list[tuple[Task, list[str]]]:
    """The active holders of each task's owning role (one query per community)."""
    from roles.selectors_boards import role_holder_ids

    by_community: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        if task.owning_role_id:
            by_community[task.community_id].append(task)
    result = []
    for community_id, owned in by_community.items():
        holders = role_holder_ids(
            community_id=community_id, role_ids=sorted({t.owning_role_id for t in owned})
        )
        result += [(task, sorted(holders[task.owning_role_id])) for task in owned]
    return result


def tasks_overdue_digest(*, now: datetime | None = None) -> int:
    """Queue one digest per member, community and local day about their overdue open tasks
    (assignees and owning-role holders). Returns how many digests were queued."""
    now = now or timezone.now()
    queued = 0
    for members in overdue_recipients(now=now).values():
        for user_id, tasks in sorted(members.items()):
            community = tasks[0].community
            day = localize(now, community).date().isoformat()
            with transaction.atomic():
                queued += len(
                    notification_enqueue_many(
                        community_id=community.pk,
                        recipient_ids=[user_id],
                        kind=NOTIFY_OVERDUE,
                        object_key=f"tasks_overdue:{day}",
                        data={
                            "thing1": tasks[0].title[:20],
                            "number2": str(len(tasks)),
                            "phrase3": _("Overdue"),
                        },
                        page="pages/boards/my-tasks",
                        dedupe_key=f"{NOTIFY_OVERDUE}:{day}",
                    )
                )
    return queued
