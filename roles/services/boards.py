"""Writes of boards and columns, and the helpers every board service shares: the activity log,
the editor check, the locked rows.

Lock order of the board services (always the same, so concurrent writes cannot deadlock):
columns (in primary-key order), then the task, then its claims. Services that change only a
task (edit, checklist, slots) lock the task alone. Every change writes its :class:`Activity`
row in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from community.text import member_text
from roles.models import Activity, ActivityVerb, Board, BoardVisibility, Column, Role, Task

DEFAULT_COLUMNS = (gettext_lazy("To do"), gettext_lazy("In progress"), gettext_lazy("Done"))
MAX_COLUMNS = 20


def activity_record(
    *,
    actor: Membership | None,
    board_id: str,
    community_id: str,
    verb: str,
    task_id: str = "",
    **data: Any,
) -> Activity:
    """Write one entry of the board's activity log (call in the transaction of the change)."""
    return Activity.objects.create(
        community_id=community_id,
        board_id=board_id,
        task_id=task_id,
        actor_id=actor.user_id if actor is not None else None,
        verb=verb,
        data=data,
    )


def require_editor(actor: Membership) -> None:
    """403 unless ``actor`` edits boards (admin tiers, "manage boards" role holders)."""
    ensure(actor, Action.MANAGE_BOARDS)


def locked_task(actor: Membership, task_id: str) -> Task:
    """The task of ``actor``'s community locked ``FOR NO KEY UPDATE`` (inside a transaction)."""
    task = lock_rows(Task.objects.filter(pk=task_id, community_id=actor.community_id)).first()
    if task is None:
        raise NotFound(_("Task not found."))
    return task


def clean_role(community_id: str, role_id: str | None, *, field: str) -> str | None:
    """``role_id`` if it names a (not deleted) role of the community; 400 ``unknown_role``."""
    if not role_id:
        return None
    if not Role.objects.filter(
        pk=role_id, community_id=community_id, deleted_at__isnull=True
    ).exists():
        raise DomainError(_("This community has no such role."), code="unknown_role", field=field)
    return role_id


def _clean_wip(wip_limit: int | None, *, field: str = "wip_limit") -> int | None:
    if wip_limit is not None and wip_limit < 1:
        raise DomainError(
            _("A WIP limit is at least 1 (leave it empty for no limit)."),
            code="invalid_wip_limit",
            field=field,
        )
    return wip_limit


def board_create(
    *,
    actor: Membership,
    title: str,
    description: str = "",
    visibility: str = BoardVisibility.MEMBERS,
    team_role_id: str | None = None,
    columns: list[dict] | None = None,
) -> Board:
    """Create a board with its columns (default: To do / In progress / Done, the last one a
    done column). Board editors only."""
    require_editor(actor)
    title = member_text(title, field="title", max_length=100)
    description = member_text(description, field="description", multiline=True, blank=True)
    team_role_id = clean_role(actor.community_id, team_role_id, field="team_role_id")
    if columns is None:
        columns = default_columns()
    if len(columns) > MAX_COLUMNS:
        raise DomainError(
            _("A board has at most %(n)d columns.") % {"n": MAX_COLUMNS},
            code="too_many_columns",
            field="columns",
        )
    columns = [
        {
            "title": member_text(spec["title"], field="columns", max_length=60),
            "wip_limit": _clean_wip(spec.get("wip_limit"), field="columns"),
            "is_done": bool(spec.get("is_done", False)),
        }
        for spec in columns
    ]
    with transaction.atomic():
        return board_rows_create(
            actor=actor,
            title=title,
            description=description,
            visibility=visibility,
            team_role_id=team_role_id,
            columns=columns,
        )


def default_columns() -> list[dict]:
    """To do / In progress / Done (a done column), in the active language."""
    last = len(DEFAULT_COLUMNS) - 1
    return [{"title": str(name), "is_done": i == last} for i, name in enumerate(DEFAULT_COLUMNS)]


def board_rows_create(
    *,
    actor: Membership,
    title: str,
    description: str,
    visibility: str,
    columns: list[dict],
    team_role_id: str | None = None,
    event_id: str | None = None,
) -> Board:
    """Write a board, its columns (already validated) and its first log entry. Call inside a
    transaction, after the checks of the calling service."""
    board = Board.objects.create(
        community_id=actor.community_id,
        title=title,
        description=description,
        visibility=visibility,
        team_role_id=team_role_id,
        event_id=event_id,
        created_by_id=actor.user_id,
    )
    Column.objects.bulk_create(
        Column(
            community_id=actor.community_id,
            board=board,
            title=spec["title"],
            position=i,
            wip_limit=spec.get("wip_limit"),
            is_done=spec.get("is_done", False),
        )
        for i, spec in enumerate(columns)
    )
    activity_record(
        actor=actor,
        board_id=board.pk,
        community_id=board.community_id,
        verb=ActivityVerb.BOARD_CREATED,
        title=title,
    )
    return board


def board_update(*, actor: Membership, board: Board, **changes: Any) -> Board:
    """Edit the title, description or visibility of a board. Board editors only."""
    require_editor(actor)
    if "title" in changes:
        changes["title"] = member_text(changes["title"], field="title", max_length=100)
    if "description" in changes:
        changes["description"] = member_text(
            changes["description"], field="description", multiline=True, blank=True
        )
    if "team_role_id" in changes:
        changes["team_role_id"] = clean_role(
            board.community_id, changes["team_role_id"], field="team_role_id"
        )
    with transaction.atomic():
        for name, value in changes.items():
            setattr(board, name, value)
        board.updated_at = timezone.now()
        board.save(update_fields=[n.removesuffix("_id") for n in changes] + ["updated_at"])
        activity_record(
            actor=actor,
            board_id=board.pk,
            community_id=board.community_id,
            verb=ActivityVerb.BOARD_UPDATED,
            fields=sorted(changes),
        )
    return board


def board_delete(*, actor: Membership, board: Board) -> None:
    """Delete a board with its columns, tasks and log. Board editors only."""
    require_editor(actor)
    with transaction.atomic():
        Task.objects.filter(community_id=board.community_id, board_id=board.pk).delete()
        board.delete()


def column_create(
    *,
    actor: Membership,
    board: Board,
    title: str,
    wip_limit: int | None = None,
    is_done: bool = False,
) -> Column:
    """Add a column at the right end of a board. Board editors only."""
    require_editor(actor)
    title = member_text(title, field="title", max_length=60)
    with transaction.atomic():
        lock_rows(Board.objects.filter(pk=board.pk)).get()  # one column added at a time
        existing = Column.objects.filter(community_id=board.community_id, board_id=board.pk)
        if existing.count() >= MAX_COLUMNS:
            raise Conflict(
                _("A board has at most %(n)d columns.") % {"n": MAX_COLUMNS},
                code="too_many_columns",
            )
        last = existing.aggregate(last=Max("position"))["last"]
        column = Column.objects.create(
            community_id=board.community_id,
            board=board,
            title=title,
            position=0 if last is None else last + 1,
            wip_limit=_clean_wip(wip_limit),
            is_done=is_done,
        )
        activity_record(
            actor=actor,
            board_id=board.pk,
            community_id=board.community_id,
            verb=ActivityVerb.COLUMN_CREATED,
            column=column.pk,
            title=title,
        )
    return column


def column_update(*, actor: Membership, column: Column, **changes: Any) -> Column:
    """Rename a column, change its WIP limit, done flag or place (``position``: its index among
    the board's columns). Lowering the WIP limit below the tasks it holds is allowed (the
    limit then refuses moves in until it has room), as in Planka and Jira. Editors only."""
    require_editor(actor)
    if "title" in changes:
        changes["title"] = member_text(changes["title"], field="title", max_length=60)
    if "wip_limit" in changes:
        changes["wip_limit"] = _clean_wip(changes["wip_limit"])
    with transaction.atomic():
        locked = lock_rows(Column.objects.filter(pk=column.pk)).get()
        index = changes.pop("position", None)
        for name, value in changes.items():
            setattr(locked, name, value)
        if changes:
            locked.save(update_fields=list(changes))
        if index is not None:
            ids = list(
                Column.objects.filter(community_id=column.community_id, board_id=column.board_id)
                .exclude(pk=column.pk)
                .order_by("position", "id")
                .values_list("id", flat=True)
            )
            ids.insert(max(0, min(index, len(ids))), column.pk)
            for i, column_id in enumerate(ids):
                Column.objects.filter(pk=column_id).update(position=i)
            locked.position = ids.index(column.pk)
        activity_record(
            actor=actor,
            board_id=column.board_id,
            community_id=column.community_id,
            verb=ActivityVerb.COLUMN_UPDATED,
            column=column.pk,
            fields=sorted([*changes, *(["position"] if index is not None else [])]),
        )
    return locked


def column_delete(*, actor: Membership, column: Column) -> None:
    """Delete an empty column (a column with tasks answers 409: move them first). Editors."""
    require_editor(actor)
    with transaction.atomic():
        locked = lock_rows(Column.objects.filter(pk=column.pk), for_delete=True).get()
        if Task.objects.filter(community_id=locked.community_id, column_id=locked.pk).exists():
            raise Conflict(
                _("This column still has tasks. Move or delete them first."),
                code="column_not_empty",
            )
        activity_record(
            actor=actor,
            board_id=locked.board_id,
            community_id=locked.community_id,
            verb=ActivityVerb.COLUMN_DELETED,
            column=locked.pk,
            title=locked.title,
        )
        locked.delete()
