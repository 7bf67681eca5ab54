"""Task boards: kanban boards of a community, their columns, tasks, checklists, comments,
volunteer slots and the activity log.

Every table carries ``community_id`` and every unique constraint includes it, so the schema can
be distributed by community later (Citus) without a rewrite.

Order inside a column is a *gapped position* (as Planka and Taiga keep it): tasks are spaced
:data:`POSITION_GAP` apart, a move takes the midpoint between its new neighbours and only when
no integer is left between them is the column renumbered (a *rebalance*). A unique constraint
``(community, column, position)`` makes two tasks at one position impossible; moves lock the
columns they touch (``community/locking.py``), so they never collide in the first place.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import PublicIdField
from roles.positions import GAP, LIMIT

__all__ = [
    "MAX_ASSIGNEES",
    "MAX_LABELS",
    "MAX_LINKS",
    "MAX_SLOTS",
    "POSITION_GAP",
    "POSITION_LIMIT",
    "Activity",
    "ActivityVerb",
    "Board",
    "BoardVisibility",
    "ChecklistItem",
    "Column",
    "SlotClaim",
    "SlotStatus",
    "Task",
    "TaskAssignee",
    "TaskComment",
]

#: Space between neighbouring tasks (2**16 lets 16 moves land between the same two tasks
#: before the column is renumbered) and the bound positions stay below (``roles/positions.py``).
POSITION_GAP = GAP
POSITION_LIMIT = LIMIT
MAX_LABELS = 10
MAX_LINKS = 10
MAX_ASSIGNEES = 20
MAX_SLOTS = 500


class BoardVisibility(models.TextChoices):
    MEMBERS = "members", _("All members")
    TEAM = "team", _("Its team only")


class Board(models.Model):
    """A kanban board of a community: the shared picture of who does what for a project or an
    event. ``visibility`` decides who sees it: every member, or only its team (the board
    editors, the holders of its ``team_role`` and the assignees of its tasks); a board a member
    cannot see answers 404 to them, as other communities' boards do."""

    id = PublicIdField()
    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="boards"
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True, default="")
    visibility = models.CharField(
        _("visibility"),
        max_length=16,
        choices=BoardVisibility.choices,
        default=BoardVisibility.MEMBERS,
    )
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="boards",
        verbose_name=_("event"),
        help_text=_("The event this board prepares (its template dates tasks from its start)."),
    )
    team_role = models.ForeignKey(
        "roles.Role",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="boards",
        verbose_name=_("team role"),
        help_text=_("Holders of this role are the board's team (they see a team-only board)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("board")
        verbose_name_plural = _("boards")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["community", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Column(models.Model):
    """A column of a board (待办 / 进行中 / 完成). ``wip_limit`` caps how many tasks it may hold
    (a move over it is refused); tasks in an ``is_done`` column are finished: no due reminders,
    not overdue, not in "my tasks"."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="columns")
    title = models.CharField(_("title"), max_length=60)
    position = models.PositiveIntegerField(_("position"), default=0)
    wip_limit = models.PositiveIntegerField(_("WIP limit"), null=True, blank=True)
    is_done = models.BooleanField(_("done column"), default=False)

    class Meta:
        verbose_name = _("column")
        verbose_name_plural = _("columns")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(wip_limit__isnull=True) | Q(wip_limit__gte=1),
                name="board_column_wip_limit_positive",
            ),
        ]
        indexes = [models.Index(fields=["community", "board", "position"])]

    def __str__(self) -> str:
        return self.title


class Task(models.Model):
    """A card on a board: what to do, who does it (assignees, or any holder of the owning role),
    until when, and how many volunteers it still needs.

    ``position`` orders it in its column (gapped, unique per column). ``version`` grows with
    every change a member makes to it, so an edit made on an older copy is refused (409 with the
    current task) instead of silently overwriting someone else's change.

    Volunteer slots: ``slots_total`` helpers wanted, ``slots_filled`` confirmed; the counter is
    moved by a guarded ``UPDATE`` and a check constraint keeps it within ``slots_total``."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="tasks")
    column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="tasks")
    position = models.BigIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=5000, blank=True, default="")
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    labels = models.JSONField(_("labels"), default=list, blank=True)
    links = models.JSONField(_("links"), default=list, blank=True)
    owning_role = models.ForeignKey(
        "roles.Role",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("owning role"),
        help_text=_("Any holder of this role may take the task."),
    )
    slots_total = models.PositiveIntegerField(_("volunteer slots"), default=0)
    slots_filled = models.PositiveIntegerField(_("slots filled"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TaskAssignee",
        related_name="board_tasks",
        verbose_name=_("assignees"),
        blank=True,
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["column", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "column", "position"], name="board_task_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(slots_filled__lte=models.F("slots_total")),
                name="board_task_slots_not_overfilled",
            ),
            models.CheckConstraint(
                condition=Q(position__gt=0), name="board_task_position_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "board"]),
            models.Index(fields=["due_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    def assignee_user_ids(self) -> set[str]:
        """Ids of the task's assignees (read once per object; the board read sets it)."""
        cached = getattr(self, "_assignee_user_ids", None)
        if cached is None:
            cached = set(
                TaskAssignee.objects.filter(
                    community_id=self.community_id, task_id=self.pk
                ).values_list("user_id", flat=True)
            )
            self._assignee_user_ids = cached
        return cached


class TaskAssignee(models.Model):
    """A member assigned to a task (they may move it and tick its checklist)."""

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("assignee")
        verbose_name_plural = _("assignees")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "task", "user"], name="board_task_assignee_once"
            )
        ]
        indexes = [models.Index(fields=["user", "community"])]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.task_id}"


class ChecklistItem(models.Model):
    """One step of a task, with its own assignee, due date and done state."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="checklist")
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    def assignee_user_ids(self) -> set[str]:
        """Who may tick it besides the editors: its own assignee and the task's assignees."""
        own = {self.assignee_id} if self.assignee_id else set()
        return own | self.task.assignee_user_ids()


class TaskComment(models.Model):
    """A member's comment on a task, published after WeChat's content check. ``mentions`` are
    the members it notifies."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=2000)
    mentions = models.JSONField(_("mentioned members"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["task", "-created_at"])]

    def __str__(self) -> str:
        return self.body[:40]


class SlotStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waitlist")


class SlotClaim(models.Model):
    """A member who volunteered for a task's slots: confirmed while the task has room,
    waitlisted otherwise (in arrival order); a withdrawal promotes the first on the waitlist."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="slot_claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=SlotStatus.choices)
    created_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("volunteer slot")
        verbose_name_plural = _("volunteer slots")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "task", "user"], name="board_slot_claim_once"
            )
        ]
        indexes = [models.Index(fields=["task", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} {self.task_id}"


class ActivityVerb(models.TextChoices):
    BOARD_CREATED = "board_created", _("created the board")
    BOARD_UPDATED = "board_updated", _("edited the board")
    COLUMN_CREATED = "column_created", _("added a column")
    COLUMN_UPDATED = "column_updated", _("edited a column")
    COLUMN_DELETED = "column_deleted", _("deleted a column")
    TASK_CREATED = "task_created", _("created the task")
    TASK_UPDATED = "task_updated", _("edited the task")
    TASK_MOVED = "task_moved", _("moved the task")
    TASK_DELETED = "task_deleted", _("deleted the task")
    TASK_ASSIGNED = "task_assigned", _("assigned a member")
    TASK_UNASSIGNED = "task_unassigned", _("unassigned a member")
    CHECKLIST_ADDED = "checklist_added", _("added a checklist item")
    CHECKLIST_UPDATED = "checklist_updated", _("edited a checklist item")
    CHECKLIST_DONE = "checklist_done", _("ticked a checklist item")
    CHECKLIST_UNDONE = "checklist_undone", _("unticked a checklist item")
    CHECKLIST_DELETED = "checklist_deleted", _("deleted a checklist item")
    COMMENTED = "commented", _("commented")
    SLOT_CLAIMED = "slot_claimed", _("volunteered")
    SLOT_WAITLISTED = "slot_waitlisted", _("joined the waitlist")
    SLOT_WITHDRAWN = "slot_withdrawn", _("withdrew")
    SLOT_PROMOTED = "slot_promoted", _("moved up from the waitlist")


class Activity(models.Model):
    """One change on a board (who, what, when), written in the transaction of the change, so
    the log holds exactly what happened. Shown on the task (its rows) and on the board (all).
    ``task_id`` is kept as plain text so the entry outlives a deleted task."""

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="activity")
    task_id = models.CharField(_("task"), max_length=16, blank=True, default="", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    verb = models.CharField(_("what"), max_length=32, choices=ActivityVerb.choices)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activity log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["board", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.verb} {self.task_id}"
