"""Input and output serializers of the task boards API (kept separate; inputs list exactly the
writable fields)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.api.serializers import MemberTextField, UserOut
from polls.openapi import NamedEnumField
from roles.models import (
    MAX_ASSIGNEES,
    MAX_LABELS,
    MAX_LINKS,
    MAX_SLOTS,
    Activity,
    ActivityVerb,
    BoardVisibility,
    ChecklistItem,
    SlotClaim,
    SlotStatus,
    TaskComment,
)


def _id(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=16, **kwargs)


# --- output ---------------------------------------------------------------------------------
class BoardCardOut(serializers.Serializer):
    """A board in the list."""

    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    visibility = NamedEnumField(
        choices=BoardVisibility.choices, component_name="BoardVisibilityEnum"
    )
    team_role_id = serializers.CharField(allow_null=True)
    event_id = serializers.CharField(allow_null=True, help_text=_("The event it prepares."))
    task_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TaskCardOut(serializers.Serializer):
    """A task as its card on the board shows it."""

    id = serializers.CharField()
    column_id = serializers.CharField()
    position = serializers.IntegerField(
        help_text=_("Order inside the column (gapped; compare only).")
    )
    title = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    labels = serializers.ListField(child=serializers.CharField())
    assignees = UserOut(many=True, source="assignee_list")
    owning_role_id = serializers.CharField(allow_null=True)
    slots_total = serializers.IntegerField(help_text=_("Volunteers the task asks for (0: none)."))
    slots_filled = serializers.IntegerField(help_text=_("Confirmed volunteers."))
    checklist_total = serializers.IntegerField()
    checklist_done = serializers.IntegerField()
    version = serializers.IntegerField(help_text=_("Send it back with an edit (409 when stale)."))
    updated_at = serializers.DateTimeField()


class TaskMovedOut(serializers.Serializer):
    """Where a moved task landed."""

    id = serializers.CharField()
    column_id = serializers.CharField()
    position = serializers.IntegerField()
    rebalanced = serializers.BooleanField(
        help_text=_("The column was renumbered: reload it (other cards' positions changed).")
    )


class ColumnOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    position = serializers.IntegerField()
    wip_limit = serializers.IntegerField(allow_null=True, help_text=_("Most tasks it may hold."))
    is_done = serializers.BooleanField(help_text=_("Tasks here are finished."))


class BoardColumnOut(ColumnOut):
    tasks = TaskCardOut(many=True, help_text=_("In order, top first."))


class MyBoardStateOut(serializers.Serializer):
    can_edit = serializers.BooleanField(help_text=_("I may edit the board, its columns and tasks."))
    can_comment = serializers.BooleanField()


class BoardDetailOut(BoardCardOut):
    """The whole board: every column with every task, in order."""

    columns = BoardColumnOut(many=True)
    my = MyBoardStateOut()


class ChecklistItemOut(serializers.ModelSerializer):
    assignee = UserOut(allow_null=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "title", "position", "assignee", "due_at", "done", "done_at"]


class SlotClaimOut(serializers.ModelSerializer):
    user = UserOut()
    status = NamedEnumField(choices=SlotStatus.choices, component_name="SlotStatusEnum")

    class Meta:
        model = SlotClaim
        fields = ["id", "user", "status", "created_at", "confirmed_at"]


class LinkOut(serializers.Serializer):
    url = serializers.URLField()
    title = serializers.CharField()


class MyTaskStateOut(serializers.Serializer):
    can_edit = serializers.BooleanField()
    can_move = serializers.BooleanField(help_text=_("Editors and the task's assignees."))
    can_take = serializers.BooleanField(help_text=_("I hold its owning role and am not assigned."))
    slot_status = NamedEnumField(
        choices=SlotStatus.choices, component_name="SlotStatusEnum", allow_null=True
    )


class TaskOut(TaskCardOut):
    """A task with everything its page shows."""

    board_id = serializers.CharField()
    description = serializers.CharField()
    links = LinkOut(many=True)
    checklist = ChecklistItemOut(many=True, source="checklist_items")
    volunteers = SlotClaimOut(many=True, source="claims")
    created_at = serializers.DateTimeField()
    my = serializers.SerializerMethodField()

    @extend_schema_field(MyTaskStateOut)
    def get_my(self, obj) -> dict:
        return MyTaskStateOut(self.context["my"]).data


class BoardRefOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()


class MyTaskOut(TaskCardOut):
    """A task of mine in "my tasks", with where it lives."""

    community_id = serializers.CharField()
    board = BoardRefOut()
    column_title = serializers.CharField(source="column.title")


class CommentOut(serializers.ModelSerializer):
    author = UserOut(allow_null=True)
    mention_ids = serializers.ListField(child=serializers.CharField(), source="mentions")

    class Meta:
        model = TaskComment
        fields = ["id", "author", "body", "mention_ids", "created_at"]


class ActivityOut(serializers.ModelSerializer):
    actor = UserOut(allow_null=True)
    verb = NamedEnumField(choices=ActivityVerb.choices, component_name="BoardActivityVerbEnum")
    verb_display = serializers.CharField(source="get_verb_display")
    data = serializers.DictField(help_text=_("Details: fields changed, columns, member ids."))

    class Meta:
        model = Activity
        fields = ["id", "actor", "verb", "verb_display", "task_id", "data", "created_at"]


class TaskStaleErrorItemOut(serializers.Serializer):
    code = NamedEnumField(
        choices=[("task_version_stale", "task_version_stale")],
        component_name="TaskStaleErrorCodeEnum",
    )
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class TaskStaleErrorOut(serializers.Serializer):
    """409 ``task_version_stale``: the error in the usual shape, and the task as it is now."""

    type = NamedEnumField(
        choices=[("client_error", "client_error")], component_name="TaskStaleErrorTypeEnum"
    )
    errors = TaskStaleErrorItemOut(many=True)
    current = TaskOut()


# --- input ----------------------------------------------------------------------------------
class ColumnIn(serializers.Serializer):
    title = MemberTextField(max_length=60)
    wip_limit = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True
    )
    is_done = serializers.BooleanField(required=False, default=False)


class BoardCreateIn(serializers.Serializer):
    title = MemberTextField(max_length=100)
    description = MemberTextField(max_length=2000, multiline=True, required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=BoardVisibility.choices, required=False)
    team_role_id = _id(required=False, allow_null=True)
    columns = ColumnIn(
        many=True,
        required=False,
        help_text=_("Default: To do, In progress, Done (a done column)."),
    )


class BoardUpdateIn(serializers.Serializer):
    title = MemberTextField(max_length=100, required=False)
    description = MemberTextField(max_length=2000, multiline=True, required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=BoardVisibility.choices, required=False)
    team_role_id = _id(required=False, allow_null=True)


class EventBoardIn(serializers.Serializer):
    owning_role_id = _id(required=False, allow_null=True, help_text=_("Role owning its tasks."))
    visibility = serializers.ChoiceField(choices=BoardVisibility.choices, required=False)


class ColumnUpdateIn(serializers.Serializer):
    title = MemberTextField(max_length=60, required=False)
    wip_limit = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True
    )
    is_done = serializers.BooleanField(required=False)
    position = serializers.IntegerField(
        min_value=0, max_value=100, required=False, help_text=_("Its index among the columns.")
    )


class LinkIn(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    title = MemberTextField(max_length=100, required=False, allow_blank=True, default="")


class _TaskFieldsIn(serializers.Serializer):
    description = MemberTextField(max_length=5000, multiline=True, required=False, allow_blank=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    labels = serializers.ListField(
        child=MemberTextField(max_length=30), max_length=MAX_LABELS, required=False
    )
    links = LinkIn(many=True, required=False, max_length=MAX_LINKS)
    assignee_ids = serializers.ListField(child=_id(), max_length=MAX_ASSIGNEES, required=False)
    owning_role_id = _id(required=False, allow_null=True)
    slots_total = serializers.IntegerField(min_value=0, max_value=MAX_SLOTS, required=False)


class TaskCreateIn(_TaskFieldsIn):
    title = MemberTextField(max_length=120)
    column_id = _id(required=False, help_text=_("Default: the board's first column."))


class TaskUpdateIn(_TaskFieldsIn):
    version = serializers.IntegerField(
        min_value=1, help_text=_("The version the edit was made on.")
    )
    title = MemberTextField(max_length=120, required=False)


class TaskMoveIn(serializers.Serializer):
    column_id = _id(required=False, help_text=_("Target column (default: its own)."))
    after_id = _id(required=False, help_text=_("Place it right after this task."))
    before_id = _id(required=False, help_text=_("Place it right before this task."))
    index = serializers.IntegerField(
        min_value=0,
        max_value=100000,
        required=False,
        help_text=_("Its index in the target column."),
    )


class ChecklistItemIn(serializers.Serializer):
    title = MemberTextField(max_length=200)
    assignee_id = _id(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)


class ChecklistItemUpdateIn(serializers.Serializer):
    title = MemberTextField(max_length=200, required=False)
    assignee_id = _id(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    done = serializers.BooleanField(required=False)


class CommentIn(serializers.Serializer):
    body = MemberTextField(max_length=2000, multiline=True)
    mention_ids = serializers.ListField(child=_id(), max_length=20, required=False)
