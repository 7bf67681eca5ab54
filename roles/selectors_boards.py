"""Reads of the task boards; the query shape of each endpoint is decided here.

Visibility: a board ``members`` is seen by every member who sees the community; a board
``team`` only by its team: board editors (``Action.MANAGE_BOARDS``: the admin tiers and holders
of a role with "manage boards"), the holders of its team role and the assignees of its tasks.
Everyone else gets 404, as for other communities' boards."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from community.authz import VISIBLE_STATUSES, Action, can, ensure
from community.errors import NotFound
from community.models import Membership, User
from roles.models import (
    Activity,
    Board,
    BoardVisibility,
    ChecklistItem,
    Column,
    RoleAssignment,
    SlotClaim,
    Task,
    TaskAssignee,
    TaskComment,
)

#: "My tasks" without a due date sort after every dated one.
NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


def _membership_annotations(prefix: str) -> dict:
    return {
        "m_id": F(f"{prefix}community__memberships__id"),
        "m_tier": F(f"{prefix}community__memberships__tier"),
        "m_status": F(f"{prefix}community__memberships__status"),
        "m_rules": F(f"{prefix}community__memberships__rules_accepted_version"),
    }


def _membership_of(row, user: User, community) -> Membership:
    membership = Membership(
        id=row.m_id,
        community=community,
        user=user,
        tier=row.m_tier,
        status=row.m_status,
        rules_accepted_version=row.m_rules,
    )
    membership._state.adding = False
    return membership


def is_board_editor(membership: Membership) -> bool:
    """Admin tiers and holders of a role with "manage boards" (``community.authz``)."""
    return can(membership, Action.MANAGE_BOARDS)


def role_holder_ids(*, community_id: str, role_ids: list[str]) -> dict[str, set[str]]:
    """Role id -> user ids of its active holders (one query)."""
    holders: dict[str, set[str]] = {role_id: set() for role_id in role_ids}
    if role_ids:
        rows = (
            RoleAssignment.objects.active()
            .filter(community_id=community_id, role_id__in=role_ids, role__deleted_at__isnull=True)
            .values_list("role_id", "membership__user_id")
        )
        for role_id, user_id in rows:
            holders[role_id].add(user_id)
    return holders


def holds_role(*, membership: Membership, role_id: str | None) -> bool:
    """Whether the member holds ``role_id`` now (an active assignment)."""
    if not role_id or membership.pk is None:
        return False
    return (
        RoleAssignment.objects.active()
        .filter(
            community_id=membership.community_id,
            role_id=role_id,
            membership_id=membership.pk,
            role__deleted_at__isnull=True,
        )
        .exists()
    )


def board_visible(*, membership: Membership, board: Board) -> bool:
    """Whether the member sees ``board`` (see the module docstring)."""
    if board.visibility != BoardVisibility.TEAM:
        return True
    if membership.pk is None or is_board_editor(membership):
        return True
    if holds_role(membership=membership, role_id=board.team_role_id):
        return True
    return TaskAssignee.objects.filter(
        community_id=board.community_id, task__board_id=board.pk, user_id=membership.user_id
    ).exists()


def board_for_member(
    *, user: User, board_id: str, action: Action = Action.VIEW
) -> tuple[Board, Membership]:
    """The board, its community and the user's membership, in one query; 404 for boards the
    user cannot see (other communities, team boards of another team), 403 when they may not
    do ``action``."""
    row = None
    if user.is_authenticated:
        rows = (
            Board.objects.select_related("community")
            .filter(
                pk=board_id,
                community__memberships__user_id=user.pk,
                community__memberships__status__in=VISIBLE_STATUSES,
            )
            .annotate(**_membership_annotations(""))
            .order_by()[:1]
        )
        row = next(iter(rows), None)
    if row is None:
        raise NotFound(_("Board not found."))
    membership = _membership_of(row, user, row.community)
    if not board_visible(membership=membership, board=row):
        raise NotFound(_("Board not found."))
    ensure(membership, action)
    return row, membership


def task_for_member(*, user: User, task_id: str) -> tuple[Task, Membership]:
    """The task with its board and community and the user's membership, in one query; 404 when
    the user cannot see its board. Permission checks are the service's (they need the task)."""
    row = None
    if user.is_authenticated:
        rows = (
            Task.objects.select_related("board", "community", "column")
            .filter(
                pk=task_id,
                community__memberships__user_id=user.pk,
                community__memberships__status__in=VISIBLE_STATUSES,
            )
            .annotate(**_membership_annotations(""))
            .order_by()[:1]
        )
        row = next(iter(rows), None)
    if row is None:
        raise NotFound(_("Task not found."))
    membership = _membership_of(row, user, row.community)
    row.board.community = row.community
    if not board_visible(membership=membership, board=row.board):
        raise NotFound(_("Task not found."))
    return row, membership


def checklist_item_for_member(*, user: User, item_id: str) -> tuple[ChecklistItem, Membership]:
    """A checklist item with its task (as :func:`task_for_member`)."""
    task_id = (
        ChecklistItem.objects.filter(pk=item_id).values_list("task_id", flat=True).first() or ""
    )
    task, membership = task_for_member(user=user, task_id=task_id)
    item = ChecklistItem.objects.filter(pk=item_id, community_id=task.community_id).first()
    if item is None:
        raise NotFound(_("Checklist item not found."))
    item.task = task
    return item, membership


def column_for_member(*, user: User, column_id: str) -> tuple[Column, Membership]:
    """A column with its board (as :func:`board_for_member`)."""
    board_id = Column.objects.filter(pk=column_id).values_list("board_id", flat=True).first()
    board, membership = board_for_member(user=user, board_id=board_id or "")
    column = Column.objects.get(pk=column_id)
    column.board = board
    return column, membership


def event_community_id(*, event_id: str) -> str:
    """The community of an event ("" when there is none: the caller's 404 follows)."""
    from events.models import Event

    return Event.objects.filter(pk=event_id).values_list("community_id", flat=True).first() or ""


def board_list(*, viewer: Membership) -> QuerySet[Board]:
    """Boards of the viewer's community they can see, newest first, with task counts."""
    boards = Board.objects.filter(community_id=viewer.community_id)
    if not is_board_editor(viewer):
        assigned = TaskAssignee.objects.filter(
            community_id=viewer.community_id,
            task__board_id=OuterRef("pk"),
            user_id=viewer.user_id,
        )
        holds = RoleAssignment.objects.active().filter(
            community_id=viewer.community_id,
            role_id=OuterRef("team_role_id"),
            membership_id=viewer.pk,
            role__deleted_at__isnull=True,
        )
        boards = boards.filter(
            Q(visibility=BoardVisibility.MEMBERS) | Q(Exists(assigned)) | Q(Exists(holds))
        )
    return boards.annotate(task_count=Count("tasks")).order_by("-created_at", "id")


def _with_task_counts(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.annotate(
        checklist_total=Count("checklist", distinct=True),
        checklist_done=Count("checklist", filter=Q(checklist__done=True), distinct=True),
    )


def attach_assignees(tasks: list[Task]) -> None:
    """Load the assignees of ``tasks`` in one query (users joined) and keep their ids on each
    task, for the serializer and the ``is_assignee`` rule."""
    by_task: dict[str, list] = {task.pk: [] for task in tasks}
    if tasks:
        rows = (
            TaskAssignee.objects.filter(
                community_id=tasks[0].community_id, task_id__in=list(by_task)
            )
            .select_related("user")
            .order_by("assigned_at", "id")
        )
        for row in rows:
            by_task[row.task_id].append(row.user)
    for task in tasks:
        task.assignee_list = by_task[task.pk]
        task._assignee_user_ids = {user.pk for user in task.assignee_list}


def board_read(*, board: Board) -> tuple[list[Column], list[Task]]:
    """Every column and every task of ``board`` in three queries whatever its size: columns,
    tasks (with checklist counts), assignees."""
    columns = list(
        Column.objects.filter(community_id=board.community_id, board_id=board.pk).order_by(
            "position", "id"
        )
    )
    tasks = list(
        _with_task_counts(
            Task.objects.filter(community_id=board.community_id, board_id=board.pk)
        ).order_by("column_id", "position")
    )
    attach_assignees(tasks)
    return columns, tasks


def task_detail(*, task: Task) -> Task:
    """The task with its assignees, checklist and slot claims loaded (four queries)."""
    attach_assignees([task])
    task.checklist_items = list(
        ChecklistItem.objects.filter(community_id=task.community_id, task_id=task.pk)
        .select_related("assignee")
        .order_by("position", "id")
    )
    task.checklist_total = len(task.checklist_items)
    task.checklist_done = sum(1 for item in task.checklist_items if item.done)
    task.claims = list(
        SlotClaim.objects.filter(community_id=task.community_id, task_id=task.pk)
        .select_related("user")
        .order_by("created_at", "id")
    )
    return task


def task_comments(*, task: Task) -> QuerySet[TaskComment]:
    """The task's comments members may see (held ones wait in the moderation queue)."""
    from moderation.selectors import without_held

    qs = TaskComment.objects.filter(community_id=task.community_id, task_id=task.pk)
    return without_held(
        qs, community_id=task.community_id, target_kind="task_comment"
    ).select_related("author")


def board_activity(*, board: Board) -> QuerySet[Activity]:
    return Activity.objects.filter(
        community_id=board.community_id, board_id=board.pk
    ).select_related("actor")


def task_activity(*, task: Task) -> QuerySet[Activity]:
    return board_activity(board=task.board).filter(task_id=task.pk)


def my_tasks(*, user: User) -> QuerySet[Task]:
    """Open tasks (not in a done column) assigned to ``user`` in every community where they
    are a visible member, on boards they can see, with the sort key of "my tasks": due date,
    undated last."""
    member_of = Membership.objects.filter(user_id=user.pk, status__in=VISIBLE_STATUSES).values(
        "community_id"
    )
    assigned = TaskAssignee.objects.filter(
        community_id=OuterRef("community_id"), task_id=OuterRef("pk"), user_id=user.pk
    )
    return _with_task_counts(
        Task.objects.filter(community_id__in=member_of, column__is_done=False)
        .filter(Exists(assigned))
        .select_related("board", "column", "community")
    ).annotate(due_sort=Coalesce("due_at", Value(NO_DUE_DATE)))
