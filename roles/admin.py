"""Django admin of roles: roles with their holders and offers (inlines), the history of
every term (read-only), and actions that call the same services as the API.

A role form is checked by running its service in a savepoint that is rolled back (every rule
of the service shows as a form error), then saved for real by the same service."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError
from community.models import Membership
from roles import services
from roles.capabilities import CAPABILITY_VALUES, Capability
from roles.models import Role, RoleAssignment, RoleVolunteer, VolunteerStatus
from roles.serializers import assignment_status

ROLE_FIELDS = ["name", "description", "capabilities", "max_holders", "term_days"]


def status_label(obj: RoleAssignment) -> str:
    """Active, expired by the clock (end not yet recorded) or ended."""
    labels = {"active": _("Active"), "expired": _("Term expired"), "ended": _("Ended")}
    return labels[assignment_status(obj)]


class _DryRun(Exception):
    """Rolls back the trial run of a service behind an admin form."""


def _dry_run(func, **kwargs) -> None:
    """Run a service in a savepoint that is rolled back; a refusal becomes a form error."""
    try:
        with transaction.atomic():
            func(**kwargs)
            raise _DryRun
    except _DryRun:
        pass
    except DomainError as exc:
        if exc.field in ROLE_FIELDS:
            raise forms.ValidationError({exc.field: exc.message}) from exc
        raise forms.ValidationError(exc.message) from exc


class RoleForm(forms.ModelForm):
    capabilities = forms.MultipleChoiceField(
        label=_("capabilities"),
        choices=Capability.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Role
        fields = ["community", *ROLE_FIELDS]

    request = None

    def clean(self):
        data = super().clean()
        if self.errors or self.request is None:
            return data
        role = self.instance
        community = data.get("community") if role._state.adding else role.community
        if community is None:
            return data
        actor = admin_actor(self.request.user, community)
        if role._state.adding:
            _dry_run(
                services.role_create,
                actor=actor,
                **{name: data.get(name) for name in ROLE_FIELDS},
            )
        else:
            _dry_run(services.role_update, actor=actor, role_id=role.pk, **self.role_changes())
        return data

    def role_changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in ROLE_FIELDS}


class HolderInline(admin.TabularInline):
    """Every term of the role, current and past: read-only history."""

    model = RoleAssignment
    fk_name = "role"
    verbose_name = _("term")
    verbose_name_plural = _("holders and history")
    fields = ["membership", "status", "starts_at", "term_ends_at", "ended_at", "end_reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    @admin.display(description=_("status"))
    def status(self, obj: RoleAssignment) -> str:
        return status_label(obj)


class VolunteerInline(admin.TabularInline):
    model = RoleVolunteer
    fk_name = "role"
    fields = ["membership", "message", "status", "created_at", "decided_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return True


@admin.register(Role)
class RoleAdmin(CommunityScopedAdmin):
    form = RoleForm
    moderate_action = Action.MANAGE_ROLES
    list_display = ["name", "community", "capability_list", "holder_count", "max_holders"]
    list_filter = ["community"]
    search_fields = ["name"]
    inlines = [HolderInline, VolunteerInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    def get_readonly_fields(self, request, obj=None):
        return ["community"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = admin_communities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self._moderates_any(request)
        return can(admin_actor(request.user, obj.community), Action.MANAGE_ROLES)

    @admin.display(description=_("capabilities"))
    def capability_list(self, obj: Role) -> str:
        return "、".join(Capability(c).label for c in obj.capabilities if c in CAPABILITY_VALUES)

    @admin.display(description=_("holders"))
    def holder_count(self, obj: Role) -> int:
        return (
            RoleAssignment.objects.active().filter(community_id=obj.community_id, role=obj).count()
        )

    def save_model(self, request, obj, form, change):
        """Saved by the services (checked by the form's dry run first)."""
        actor = admin_actor(request.user, obj.community)
        if change:
            self.run_service(
                request, services.role_update, actor=actor, role_id=obj.pk, **form.role_changes()
            )
            return
        role = services.role_create(
            actor=actor, **{name: form.cleaned_data.get(name) for name in ROLE_FIELDS}
        )
        obj.pk = role.pk

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_related(self, request, form, formsets, change):
        """The inlines are read-only: nothing to save (the change message reads these)."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def get_deleted_objects(self, objs, request):
        """A role is deleted softly (its terms stay as history): nothing else goes, nothing
        blocks it."""
        objs = list(objs)
        return [str(o) for o in objs], {Role._meta.verbose_name_plural: len(objs)}, set(), []

    def delete_model(self, request, obj):
        actor = admin_actor(request.user, obj.community)
        self.run_service(request, services.role_delete, actor=actor, role_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for role in queryset.select_related("community"):
            self.delete_model(request, role)


class AssignmentAddForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ["role", "membership"]

    request = None

    def clean(self):
        data = super().clean()
        role, membership = data.get("role"), data.get("membership")
        if self.errors or role is None or membership is None or self.request is None:
            return data
        actor = admin_actor(self.request.user, role.community)
        _dry_run(services.assignment_create, actor=actor, role_id=role.pk, member_id=membership.pk)
        return data


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(CommunityScopedAdmin):
    """The history of every term. Adding one assigns a role (``assignment_create``); terms
    are ended or renewed by the actions, never edited or deleted."""

    moderate_action = Action.MANAGE_ROLES
    list_display = [
        "role",
        "holder",
        "community",
        "status",
        "starts_at",
        "term_ends_at",
        "ended_at",
        "end_reason",
    ]
    list_filter = ["community", "role", "end_reason"]
    search_fields = ["membership__user__nickname", "role__name"]
    list_select_related = ["role", "community", "membership__user"]
    actions = ["end_terms", "renew_terms"]
    readonly_fields = [
        "community",
        "role",
        "membership",
        "starts_at",
        "term_ends_at",
        "assigned_by",
        "renewed_from",
        "ended_at",
        "end_reason",
        "ended_by",
        "reminded_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AssignmentAddForm
            kwargs["fields"] = ["role", "membership"]
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["role", "membership"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        communities = admin_communities(request.user)
        if db_field.name == "role":
            kwargs["queryset"] = Role.objects.filter(
                community__in=communities, deleted_at__isnull=True
            ).select_related("community")
        if db_field.name == "membership":
            kwargs["queryset"] = Membership.objects.filter(
                community__in=communities, status="active"
            ).select_related("user", "community")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and self._moderates_any(request)  # actions only; rows read-only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history is never deleted

    @admin.display(description=_("holder"), ordering="membership__user__nickname")
    def holder(self, obj: RoleAssignment) -> str:
        return str(obj.membership.user)

    @admin.display(description=_("status"))
    def status(self, obj: RoleAssignment) -> str:
        return status_label(obj)

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request.user, obj.role.community)
        assignment = services.assignment_create(
            actor=actor, role_id=obj.role_id, member_id=obj.membership_id
        )
        obj.pk = assignment.pk

    @admin.action(description=_("End the selected terms now"))
    def end_terms(self, request, queryset):
        self.run_for_each(
            request,
            queryset,
            services.assignment_end,
            id_argument="assignment_id",
            done_message=_("%(count)d terms ended."),
        )

    @admin.action(description=_("Renew the selected terms"))
    def renew_terms(self, request, queryset):
        self.run_for_each(
            request,
            queryset,
            services.assignment_renew,
            id_argument="assignment_id",
            done_message=_("%(count)d terms renewed."),
        )


@admin.register(RoleVolunteer)
class RoleVolunteerAdmin(CommunityScopedAdmin):
    """Members' offers to take a role; approve or refuse them with the actions."""

    moderate_action = Action.MANAGE_ROLES
    list_display = ["role", "member", "community", "message", "status", "created_at"]
    list_filter = ["status", "community", "role"]
    list_select_related = ["role", "community", "membership__user"]
    actions = ["approve", "refuse"]
    readonly_fields = [
        "community",
        "role",
        "membership",
        "message",
        "status",
        "created_at",
        "decided_at",
        "decided_by",
        "assignment",
    ]

    ordering = ["-created_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and self._moderates_any(request)

    @admin.display(description=_("member"), ordering="membership__user__nickname")
    def member(self, obj: RoleVolunteer) -> str:
        return str(obj.membership.user)

    @admin.action(description=_("Approve the selected offers"))
    def approve(self, request, queryset):
        self.run_for_each(
            request,
            queryset.filter(status=VolunteerStatus.PENDING),
            services.volunteer_approve,
            id_argument="volunteer_id",
            done_message=_("%(count)d offers approved."),
        )

    @admin.action(description=_("Refuse the selected offers"))
    def refuse(self, request, queryset):
        self.run_for_each(
            request,
            queryset.filter(status=VolunteerStatus.PENDING),
            services.volunteer_refuse,
            id_argument="volunteer_id",
            done_message=_("%(count)d offers refused."),
        )


from roles import admin_boards  # noqa: E402,F401  (task boards register their admin pages)
