"""Django admin of the task boards: boards with their columns and tasks inline, tasks with their
checklist and log, the activity log read-only, filters by assignee and due date.

Every write goes through the board services with the staff user's membership
(``admin_actor``), so the admin obeys the same rules as the API: only board editors (admin
tiers, "manage boards" role holders) change anything, a WIP limit refuses a task over it, an
edit of a task changed meanwhile is refused, and every change lands in the activity log. A
form is checked by running its services in a savepoint that is rolled back (refusals become
form errors); the real run happens in ``save_model``/``save_formset``."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from community.admin import CommunityScopedAdmin
from community.authz import VISIBLE_STATUSES, Action, admin_actor, admin_communities
from community.errors import DomainError
from community.models import User
from roles.models import Activity, Board, ChecklistItem, Column, Task
from roles.services import boards as board_services
from roles.services import tasks_edit


class _DryRun(Exception):
    """Rolls back the trial run of a form's services."""


def _dry_run(form: forms.BaseForm, run) -> None:
    """Run ``run()`` in a savepoint that is rolled back; its refusal becomes a form error."""
    try:
        with transaction.atomic():
            run()
            raise _DryRun
    except _DryRun:
        pass
    except DomainError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)


class _EditorInline(admin.TabularInline):
    """Inline permissions from ``community.authz`` (board editors of the board's community),
    not Django's model permissions."""

    def _allowed(self, request, obj=None) -> bool:
        if obj is None:
            return self.parent_admin._moderates_any(request)
        return self.parent_admin.has_change_permission(request, obj)

    def __init__(self, parent_model, admin_site, parent_admin=None):
        super().__init__(parent_model, admin_site)
        self.parent_admin = admin_site._registry.get(parent_model) or parent_admin

    def has_view_permission(self, request, obj=None) -> bool:
        return self.parent_admin._moderates_any(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)


class ColumnInline(_EditorInline):
    model = Column
    fields = ["title", "position", "wip_limit", "is_done"]
    extra = 0
    ordering = ["position"]


class TaskInline(_EditorInline):
    """The board's tasks, read-only (edit them on their own page)."""

    model = Task
    fields = ["title", "column", "position", "due_at", "slots_total", "slots_filled"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    ordering = ["column__position", "position"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class BoardForm(forms.ModelForm):
    class Meta:
        model = Board
        fields = ["community", "title", "description", "visibility", "team_role"]


BOARD_FIELDS = ["title", "description", "visibility", "team_role_id"]


@admin.register(Board)
class BoardAdmin(CommunityScopedAdmin):
    form = BoardForm
    moderate_action = Action.MANAGE_BOARDS
    list_display = ["title", "community", "visibility", "event", "created_at"]
    list_filter = ["visibility", "community"]
    search_fields = ["title"]
    readonly_fields = ["event", "created_at"]
    inlines = [ColumnInline, TaskInline]

    def get_fields(self, request, obj=None):
        base = ["title", "description", "visibility", "team_role"]
        return ["community", *base] if obj is None else [*base, *self.readonly_fields]

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = admin_communities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _changes(self, form) -> dict:
        data = {name: form.cleaned_data.get(name.removesuffix("_id")) for name in BOARD_FIELDS}
        data["team_role_id"] = data["team_role_id"].pk if data["team_role_id"] else None
        return data

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_page = self

        class Checked(form_class):
            def clean(self):
                cleaned = super().clean()
                community = obj.community if obj is not None else cleaned.get("community")
                if community is None or self.errors:
                    return cleaned
                actor = admin_actor(request.user, community)
                changes = admin_page._changes(self)
                if obj is None:
                    _dry_run(self, lambda: board_services.board_create(actor=actor, **changes))
                else:
                    _dry_run(
                        self,
                        lambda: board_services.board_update(actor=actor, board=obj, **changes),
                    )
                return cleaned

        return Checked

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request.user, obj.community)
        changes = self._changes(form)
        if change:
            board = Board.objects.get(pk=obj.pk)
            board_services.board_update(actor=actor, board=board, **changes)
        else:
            board = board_services.board_create(actor=actor, **changes, columns=[])
            obj.pk = board.pk
            obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        """Columns go through the column services (tasks are read-only here)."""
        if formset.model is not Column:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        board = Board.objects.get(pk=form.instance.pk)
        actor = admin_actor(request.user, board.community)
        for column in formset.deleted_objects if hasattr(formset, "deleted_objects") else []:
            board_services.column_delete(actor=actor, column=column)
        for inline in formset.forms:
            if not inline.has_changed() or inline in formset.deleted_forms:
                continue
            data = {k: inline.cleaned_data.get(k) for k in ("title", "wip_limit", "is_done")}
            if inline.instance.pk and not inline.instance._state.adding:
                board_services.column_update(actor=actor, column=inline.instance, **data)
            else:
                board_services.column_create(actor=actor, board=board, **data)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        board_services.board_delete(actor=admin_actor(request.user, obj.community), board=obj)


class ChecklistInline(_EditorInline):
    model = ChecklistItem
    fields = ["title", "assignee", "due_at", "done", "done_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TaskForm(forms.ModelForm):
    assignee_users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, label=_("assignees")
    )

    class Meta:
        model = Task
        fields = ["title", "description", "due_at", "owning_role", "slots_total"]


TASK_FIELDS = ["title", "description", "due_at", "owning_role_id", "slots_total"]


@admin.register(Task)
class TaskAdmin(CommunityScopedAdmin):
    form = TaskForm
    moderate_action = Action.MANAGE_BOARDS
    list_display = ["title", "board", "column", "due_at", "assignee_names", "slots"]
    list_filter = [
        ("assignees", admin.RelatedFieldListFilter),
        ("due_at", admin.DateFieldListFilter),
        "column__is_done",
        "board",
    ]
    search_fields = ["title"]
    readonly_fields = ["board", "column", "position", "slots_filled", "version", "updated_at"]
    fields = [
        "title",
        "description",
        "due_at",
        "assignee_users",
        "owning_role",
        "slots_total",
        *readonly_fields,
    ]
    inlines = [ChecklistInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("board", "column")

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    @admin.display(description=_("assignees"))
    def assignee_names(self, obj: Task) -> str:
        return "、".join(str(user) for user in obj.assignees.all())

    @admin.display(description=_("volunteer slots"))
    def slots(self, obj: Task) -> str:
        return f"{obj.slots_filled}/{obj.slots_total}" if obj.slots_total else "-"

    def _changes(self, form) -> dict:
        data = {name: form.cleaned_data.get(name.removesuffix("_id")) for name in TASK_FIELDS}
        data["owning_role_id"] = data["owning_role_id"].pk if data["owning_role_id"] else None
        data["assignee_ids"] = [user.pk for user in form.cleaned_data.get("assignee_users", [])]
        return data

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_page = self

        class Checked(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                if obj is not None:
                    self.fields["assignee_users"].queryset = User.objects.filter(
                        memberships__community_id=obj.community_id,
                        memberships__status__in=VISIBLE_STATUSES,
                    )
                    self.fields["assignee_users"].initial = list(obj.assignees.all())

            def clean(self):
                cleaned = super().clean()
                if obj is None or self.errors:
                    return cleaned
                actor = admin_actor(request.user, obj.community)
                current = Task.objects.get(pk=obj.pk)
                _dry_run(
                    self,
                    lambda: tasks_edit.task_update(
                        actor=actor,
                        task=current,
                        version=current.version,
                        **admin_page._changes(self),
                    ),
                )
                return cleaned

        return Checked

    def has_add_permission(self, request) -> bool:
        return False  # tasks are added on the board (API) with their column and position

    def save_model(self, request, obj, form, change):
        current = Task.objects.select_related("board").get(pk=obj.pk)
        tasks_edit.task_update(
            actor=admin_actor(request.user, obj.community),
            task=current,
            version=form.initial.get("version", current.version),
            **self._changes(form),
        )

    def save_related(self, request, form, formsets, change):
        """Assignees were saved by the service; the checklist is read-only here."""
        for formset in formsets:  # the change message reads these; nothing was saved here
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        tasks_edit.task_delete(actor=admin_actor(request.user, obj.community), task=obj)


@admin.register(Activity)
class ActivityAdmin(CommunityScopedAdmin):
    """The activity log: read-only, written by the services."""

    list_display = ["created_at", "board", "task_id", "actor", "verb"]
    list_filter = ["verb", "board", "actor"]
    search_fields = ["task_id"]
    readonly_fields = ["community", "board", "task_id", "actor", "verb", "data", "created_at"]
    fields = readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
