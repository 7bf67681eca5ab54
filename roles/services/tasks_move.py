"""Moving a task inside its column or to another column of its board.

A move names where the task lands: after a neighbour (``after_id``), before one
(``before_id``), at an index of the target column (``index``), or, with none of them, at the
bottom. It takes the integer midpoint between the new neighbours (``roles/positions.py``); when
none is left the target column is renumbered in the same transaction (a *rebalance*).

Concurrency: the move locks the target column (``community/locking.py``) and then the task.
Two moves into one column therefore run one after the other, each reading the positions the
other committed: positions never collide and the WIP limit is counted under the lock. Leaving
a column needs no lock of it (no position there changes, its count only drops), so moves into
different columns run in parallel. Two moves of one task queue on the task's row; the second
moves it from wherever the first left it. Every service takes a column lock before a task
lock, never after, so they cannot deadlock. The unique constraint
``(community, column, position)`` backs it all in the database.

A move does not change the task's ``version``: the version guards its content (an edit on an
older copy answers 409), and dragging a card must not refuse someone's edit of its text."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.models import Membership
from insights import recording
from roles import board_store
from roles.models import ActivityVerb, Task
from roles.positions import LIMIT, between
from roles.services.boards import activity_record
from roles.services.tasks_edit import wip_refusal


def task_move(
    *,
    actor: Membership,
    task: Task,
    column_id: str | None = None,
    after_id: str | None = None,
    before_id: str | None = None,
    index: int | None = None,
) -> Task:
    """Move ``task`` (see the module docstring). Board editors and the task's assignees.
    Errors: 400 ``unknown_column``, 409 ``wip_limit_reached`` (the target column is full),
    ``neighbour_not_in_column`` (the named neighbour is no longer there: reload the board).
    The returned task carries ``rebalanced`` (whether its column was renumbered)."""
    ensure(actor, Action.MOVE_TASK, obj=task)
    with transaction.atomic():
        return _move_locked(actor, task, column_id or task.column_id, after_id, before_id, index)


def _move_locked(
    actor: Membership,
    task: Task,
    target_id: str,
    after_id: str | None,
    before_id: str | None,
    index: int | None,
) -> Task:
    """The move in the caller's transaction: lock the target column (one statement), then the
    task with everything the move decides on (one statement: ``board_store.move_spot``),
    then the task's new place with its activity row (one statement), or, when no integer is
    left between the neighbours, the column renumbered."""
    target = board_store.column_lock(
        community_id=task.community_id, board_id=task.board_id, column_id=target_id
    )
    if target is None:
        raise DomainError(
            _("This board has no such column."), code="unknown_column", field="column_id"
        )
    spot = board_store.move_spot(
        community_id=actor.community_id,
        task_id=task.pk,
        column_id=target.pk,
        after_id=after_id,
        before_id=before_id,
        index=index,
    )
    if spot is None:
        raise NotFound(_("Task not found."))
    from_column = spot.from_column
    if from_column != target.pk and target.wip_limit is not None and spot.held >= target.wip_limit:
        raise wip_refusal(target)
    if (after_id or before_id) and spot.ref is None:
        raise Conflict(
            _("The task you placed it next to is no longer in that column. Reload the board."),
            code="neighbour_not_in_column",
        )
    position = between(spot.previous, spot.following)
    now = timezone.now()
    rebalanced = position is None
    data = {"from": from_column, "to": target.pk, **({"rebalanced": True} if rebalanced else {})}
    if rebalanced:
        siblings = Task.objects.filter(community_id=task.community_id, column_id=target.pk).exclude(
            pk=task.pk
        )
        ordered = list(siblings.order_by("position").values_list("id", flat=True))
        previous = spot.previous
        at = 0 if previous is None else siblings.filter(position__lte=previous).count()
        ordered.insert(at, task.pk)
        # Park the task beyond the shifted range, then renumber the whole column.
        Task.objects.filter(pk=task.pk).update(
            column_id=target.pk, position=2 * LIMIT + 1, updated_at=now
        )
        position = board_store.column_renumber(
            community_id=task.community_id, column_id=target.pk, ordered_ids=ordered
        )[task.pk]
        activity_record(
            actor=actor,
            board_id=task.board_id,
            community_id=task.community_id,
            task_id=task.pk,
            verb=ActivityVerb.TASK_MOVED,
            **data,
        )
    else:
        board_store.move_write(
            community_id=task.community_id,
            board_id=task.board_id,
            task_id=task.pk,
            column_id=target.pk,
            position=position,
            now=now,
            actor_id=actor.user_id,
            data=data,
        )
    task.column_id, task.position, task.updated_at = target.pk, position, now
    task.column = target
    task.rebalanced = rebalanced
    if target.is_done and from_column != target.pk:
        recording.activity_record(
            community_id=task.community_id, user_id=actor.user_id, kind="task_done"
        )
    return task
