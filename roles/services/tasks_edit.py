"""Writes of tasks: create, edit (with its version), delete, assignees, the checklist.

An edit names the ``version`` of the task it was made on; when the task changed since (another
editor, a move), the edit is refused with :class:`TaskVersionConflict` (409, the API answers
with the current task) instead of overwriting a change its author never saw."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import VISIBLE_STATUSES, Action, ensure
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.locking import lock_rows
from community.models import Membership
from community.text import member_text, text_key
from roles.board_store import column_renumber
from roles.models import (
    MAX_ASSIGNEES,
    MAX_LABELS,
    MAX_LINKS,
    MAX_SLOTS,
    ActivityVerb,
    Board,
    ChecklistItem,
    Column,
    Task,
    TaskAssignee,
)
from roles.positions import LIMIT, between
from roles.services.boards import activity_record, clean_role, locked_task, require_editor
from roles.services.tasks_notify import notify_assigned

MAX_CHECKLIST = 50


class TaskVersionConflict(Conflict):
    """The task changed since the copy the edit was made on. ``task_id`` names it, so the API
    can answer with the current task."""

    default_code = "task_version_stale"

    def __init__(self, task_id: str):
        super().__init__(
            _("This task was changed meanwhile. Review the current version and try again.")
        )
        self.task_id = task_id


# --- cleaning -------------------------------------------------------------------------------
def clean_labels(labels: Iterable[str]) -> list[str]:
    """Labels in their normal form, each once (compared by ``text_key``), at most 10."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for label in labels:
        text = member_text(label, field="labels", max_length=30)
        if text_key(text) not in seen:
            seen.add(text_key(text))
            cleaned.append(text)
    if len(cleaned) > MAX_LABELS:
        raise DomainError(
            _("A task has at most %(n)d labels.") % {"n": MAX_LABELS},
            code="too_many_labels",
            field="labels",
        )
    return cleaned


def clean_links(links: Iterable[dict]) -> list[dict]:
    """Links as ``{"url", "title"}`` (the serializer checked the URLs), at most 10."""
    cleaned = [
        {
            "url": str(link["url"]),
            "title": member_text(link.get("title", ""), field="links", blank=True, max_length=100),
        }
        for link in links
    ]
    if len(cleaned) > MAX_LINKS:
        raise DomainError(
            _("A task has at most %(n)d links.") % {"n": MAX_LINKS},
            code="too_many_links",
            field="links",
        )
    return cleaned


def clean_assignees(community_id: str, user_ids: Iterable[str], *, field: str) -> list[str]:
    """``user_ids`` if each is a member who sees the community; 400 ``unknown_member``."""
    wanted = list(dict.fromkeys(user_ids))
    if len(wanted) > MAX_ASSIGNEES:
        raise DomainError(
            _("A task has at most %(n)d assignees.") % {"n": MAX_ASSIGNEES},
            code="too_many_assignees",
            field=field,
        )
    found = set(
        Membership.objects.filter(
            community_id=community_id, user_id__in=wanted, status__in=VISIBLE_STATUSES
        ).values_list("user_id", flat=True)
    )
    if len(found) != len(wanted):
        raise DomainError(
            _("Only members of this community can be assigned."), code="unknown_member", field=field
        )
    return wanted


def _clean_slots(slots_total: int) -> int:
    if not 0 <= slots_total <= MAX_SLOTS:
        raise DomainError(
            _("A task asks for between 0 and %(n)d volunteers.") % {"n": MAX_SLOTS},
            code="invalid_slots",
            field="slots_total",
        )
    return slots_total


# --- positions ------------------------------------------------------------------------------
def check_wip(column: Column, *, arriving: int = 1) -> None:
    """409 ``wip_limit_reached`` when ``arriving`` more tasks would pass the column's WIP limit.
    Call with the column locked, so no parallel move slips in between count and insert."""
    if column.wip_limit is None:
        return
    held = Task.objects.filter(community_id=column.community_id, column_id=column.pk).count()
    if held + arriving > column.wip_limit:
        raise wip_refusal(column)


def wip_refusal(column: Column) -> Conflict:
    """The 409 ``wip_limit_reached`` of a column at its WIP limit."""
    return Conflict(
        _("The column “%(column)s” holds at most %(n)d tasks (its WIP limit).")
        % {"column": column.title, "n": column.wip_limit},
        code="wip_limit_reached",
    )


def append_position(column: Column) -> tuple[int, bool]:
    """The position after the column's last task, and whether the column had to be renumbered
    first (its last position is close to the bound). Call with the column locked."""
    last = Task.objects.filter(community_id=column.community_id, column_id=column.pk).aggregate(
        last=Max("position")
    )["last"]
    position = between(last, None)
    if position is not None:
        return position, False
    ordered = list(
        Task.objects.filter(community_id=column.community_id, column_id=column.pk)
        .order_by("position")
        .values_list("id", flat=True)
    )
    positions = column_renumber(
        community_id=column.community_id, column_id=column.pk, ordered_ids=ordered
    )
    return between(max(positions.values(), default=0), None) or LIMIT - 1, True


# --- tasks ----------------------------------------------------------------------------------
def task_create(
    *,
    actor: Membership,
    board: Board,
    title: str,
    column_id: str | None = None,
    description: str = "",
    due_at: datetime | None = None,
    labels: Iterable[str] = (),
    links: Iterable[dict] = (),
    assignee_ids: Iterable[str] = (),
    owning_role_id: str | None = None,
    slots_total: int = 0,
) -> Task:
    """Add a task at the bottom of a column (default: the board's first). Board editors only.
    The assignees are notified (once per assignment)."""
    require_editor(actor)
    title = member_text(title, field="title", max_length=120)
    description = member_text(description, field="description", multiline=True, blank=True)
    labels = clean_labels(labels)
    links = clean_links(links)
    assignees = clean_assignees(board.community_id, assignee_ids, field="assignee_ids")
    slots_total = _clean_slots(slots_total)
    owning_role_id = clean_role(board.community_id, owning_role_id, field="owning_role_id")
    columns = Column.objects.filter(community_id=board.community_id, board_id=board.pk)
    with transaction.atomic():
        if column_id is None:
            column_id = columns.order_by("position", "id").values_list("id", flat=True).first()
        column = lock_rows(columns.filter(pk=column_id or "")).first()
        if column is None:
            raise DomainError(
                _("This board has no such column."), code="unknown_column", field="column_id"
            )
        check_wip(column)
        position, rebalanced = append_position(column)
        task = Task.objects.create(
            community_id=board.community_id,
            board_id=board.pk,
            column=column,
            position=position,
            title=title,
            description=description,
            due_at=due_at,
            labels=labels,
            links=links,
            slots_total=slots_total,
            owning_role_id=owning_role_id,
            created_by_id=actor.user_id,
        )
        activity_record(
            actor=actor,
            board_id=board.pk,
            community_id=board.community_id,
            task_id=task.pk,
            verb=ActivityVerb.TASK_CREATED,
            title=title,
            column=column.pk,
            **({"rebalanced": True} if rebalanced else {}),
        )
        _assign(actor, task, assignees)
    task.board = board
    return task


def _assign(actor: Membership, task: Task, user_ids: Iterable[str]) -> None:
    """Add assignees to a (locked or new) task, log and notify each (not the actor)."""
    now = timezone.now()
    for user_id in user_ids:
        row = TaskAssignee.objects.create(
            community_id=task.community_id, task=task, user_id=user_id, assigned_at=now
        )
        activity_record(
            actor=actor,
            board_id=task.board_id,
            community_id=task.community_id,
            task_id=task.pk,
            verb=ActivityVerb.TASK_ASSIGNED,
            user=user_id,
        )
        if user_id != actor.user_id:
            notify_assigned(task=task, user_id=user_id, assignment_id=row.pk)


EDITABLE = frozenset(
    {
        "title",
        "description",
        "due_at",
        "labels",
        "links",
        "assignee_ids",
        "owning_role_id",
        "slots_total",
    }
)


def task_update(*, actor: Membership, task: Task, version: int, **changes: Any) -> Task:
    """Edit a task made on its ``version``: 409 ``task_version_stale`` when it changed since.
    Changing the assignees notifies the new ones; raising ``slots_total`` confirms volunteers
    from the waitlist, lowering it below the confirmed ones answers 409. Editors only."""
    from roles.services.tasks_slots import promote_waitlisted

    require_editor(actor)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if "title" in changes:
        changes["title"] = member_text(changes["title"], field="title", max_length=120)
    if "description" in changes:
        changes["description"] = member_text(
            changes["description"], field="description", multiline=True, blank=True
        )
    if "labels" in changes:
        changes["labels"] = clean_labels(changes["labels"])
    if "links" in changes:
        changes["links"] = clean_links(changes["links"])
    assignees = None
    if "assignee_ids" in changes:
        assignees = clean_assignees(
            task.community_id, changes.pop("assignee_ids"), field="assignee_ids"
        )
    if "slots_total" in changes:
        changes["slots_total"] = _clean_slots(changes["slots_total"])
    if "owning_role_id" in changes:
        changes["owning_role_id"] = clean_role(
            task.community_id, changes["owning_role_id"], field="owning_role_id"
        )
    with transaction.atomic():
        locked = locked_task(actor, task.pk)
        if locked.version != version:
            raise TaskVersionConflict(locked.pk)
        if changes.get("slots_total", locked.slots_total) < locked.slots_filled:
            raise Conflict(
                _("%(n)d volunteers are confirmed; ask them to withdraw first.")
                % {"n": locked.slots_filled},
                code="slots_below_filled",
            )
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save(update_fields=[*changes, "version", "updated_at"])
        if assignees is not None:
            current = locked.assignee_user_ids()
            removed = current - set(assignees)
            TaskAssignee.objects.filter(
                community_id=locked.community_id, task_id=locked.pk, user_id__in=removed
            ).delete()
            for user_id in sorted(removed):
                activity_record(
                    actor=actor,
                    board_id=locked.board_id,
                    community_id=locked.community_id,
                    task_id=locked.pk,
                    verb=ActivityVerb.TASK_UNASSIGNED,
                    user=user_id,
                )
            _assign(actor, locked, [u for u in assignees if u not in current])
            locked._assignee_user_ids = None
        if changes:
            activity_record(
                actor=actor,
                board_id=locked.board_id,
                community_id=locked.community_id,
                task_id=locked.pk,
                verb=ActivityVerb.TASK_UPDATED,
                fields=sorted(changes),
            )
        if "slots_total" in changes:
            promote_waitlisted(actor=actor, task=locked)
    locked.board = task.board
    locked.column = task.column if task.column_id == locked.column_id else locked.column
    return locked


def task_take(*, actor: Membership, task: Task) -> Task:
    """A holder of the task's owning role takes it: they become an assignee (idempotent).
    403 ``not_role_holder`` for anyone else (editors assign through the edit)."""
    from roles.selectors_boards import holds_role

    ensure(actor, Action.PARTICIPATE)
    if not holds_role(membership=actor, role_id=task.owning_role_id):
        raise Forbidden(
            _("Only holders of the task's owning role can take it."), code="not_role_holder"
        )
    with transaction.atomic():
        locked = locked_task(actor, task.pk)
        if actor.user_id not in locked.assignee_user_ids():
            _assign(actor, locked, [actor.user_id])
            locked._assignee_user_ids = None
    locked.board = task.board
    locked.column = task.column
    return locked


def task_delete(*, actor: Membership, task: Task) -> None:
    """Delete a task (its log entries stay, naming it). Board editors only."""
    require_editor(actor)
    with transaction.atomic():
        locked = lock_rows(
            Task.objects.filter(pk=task.pk, community_id=actor.community_id), for_delete=True
        ).first()
        if locked is None:
            raise NotFound(_("Task not found."))
        activity_record(
            actor=actor,
            board_id=locked.board_id,
            community_id=locked.community_id,
            task_id=locked.pk,
            verb=ActivityVerb.TASK_DELETED,
            title=locked.title,
        )
        locked.delete()


# --- checklist ------------------------------------------------------------------------------
def checklist_item_add(
    *,
    actor: Membership,
    task: Task,
    title: str,
    assignee_id: str | None = None,
    due_at: datetime | None = None,
) -> ChecklistItem:
    """Add a step at the end of a task's checklist. Board editors only."""
    require_editor(actor)
    title = member_text(title, field="title", max_length=200)
    if assignee_id:
        clean_assignees(task.community_id, [assignee_id], field="assignee_id")
    with transaction.atomic():
        locked = locked_task(actor, task.pk)
        items = ChecklistItem.objects.filter(community_id=locked.community_id, task_id=locked.pk)
        count = items.count()
        if count >= MAX_CHECKLIST:
            raise Conflict(
                _("A checklist has at most %(n)d items.") % {"n": MAX_CHECKLIST},
                code="checklist_full",
            )
        item = ChecklistItem.objects.create(
            community_id=locked.community_id,
            task=locked,
            title=title,
            position=(items.aggregate(last=Max("position"))["last"] or 0) + 1,
            assignee_id=assignee_id or None,
            due_at=due_at,
        )
        activity_record(
            actor=actor,
            board_id=locked.board_id,
            community_id=locked.community_id,
            task_id=locked.pk,
            verb=ActivityVerb.CHECKLIST_ADDED,
            item=item.pk,
            title=title,
        )
    return item


def checklist_item_update(
    *, actor: Membership, item: ChecklistItem, **changes: Any
) -> ChecklistItem:
    """Tick or untick a step (``done``: editors and the task's or the item's assignees), or
    edit its title, assignee or due date (editors only)."""
    done = changes.pop("done", None)
    if changes:
        require_editor(actor)
    if done is not None:
        ensure(actor, Action.TICK_CHECKLIST, obj=item)
    if "title" in changes:
        changes["title"] = member_text(changes["title"], field="title", max_length=200)
    if changes.get("assignee_id"):
        clean_assignees(item.community_id, [changes["assignee_id"]], field="assignee_id")
    with transaction.atomic():
        locked = lock_rows(
            ChecklistItem.objects.filter(pk=item.pk, community_id=actor.community_id)
        ).first()
        if locked is None:
            raise NotFound(_("Checklist item not found."))
        for name, value in changes.items():
            setattr(locked, name, value)
        fields = list(changes)
        if done is not None and done != locked.done:
            locked.done = done
            locked.done_at = timezone.now() if done else None
            locked.done_by_id = actor.user_id if done else None
            fields += ["done", "done_at", "done_by"]
            activity_record(
                actor=actor,
                board_id=item.task.board_id,
                community_id=locked.community_id,
                task_id=locked.task_id,
                verb=ActivityVerb.CHECKLIST_DONE if done else ActivityVerb.CHECKLIST_UNDONE,
                item=locked.pk,
                title=locked.title,
            )
        if fields:
            locked.save(update_fields=fields)
        if changes:
            activity_record(
                actor=actor,
                board_id=item.task.board_id,
                community_id=locked.community_id,
                task_id=locked.task_id,
                verb=ActivityVerb.CHECKLIST_UPDATED,
                item=locked.pk,
                fields=sorted(changes),
            )
    locked.task = item.task
    return locked


def checklist_item_delete(*, actor: Membership, item: ChecklistItem) -> None:
    """Remove a step from a checklist. Board editors only."""
    require_editor(actor)
    with transaction.atomic():
        deleted, _rows = ChecklistItem.objects.filter(
            pk=item.pk, community_id=actor.community_id
        ).delete()
        if deleted:
            activity_record(
                actor=actor,
                board_id=item.task.board_id,
                community_id=item.community_id,
                task_id=item.task_id,
                verb=ActivityVerb.CHECKLIST_DELETED,
                item=item.pk,
                title=item.title,
            )
