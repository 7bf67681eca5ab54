"""Django admin for moderators: communities, memberships and the notification outbox.

Staff moderators see only the communities where they are an active moderator or above; a
superuser sees all. Every check goes through ``community.authz`` and every write through the
same services as the API, so a moderator obeys the same rules in both places."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin as ThemedModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError
from community.models import Community, Membership, Notification, SubscriptionCredit, User
from community.services import communities as services
from community.services.communities import COMMUNITY_EDITABLE
from community.timezones import zone_names


def admin_scope(model, user: User) -> Q:
    """The rows of ``model`` a staff user may see listed in the admin: those of the communities
    they moderate (``authz.admin_communities``); everything for a superuser; nothing for a
    model that belongs to no community (fail closed)."""
    if user.is_superuser:
        return Q()
    communities = admin_communities(user)
    if model is Community:
        return Q(pk__in=communities.values("pk"))
    if model is User:
        members = Membership.objects.filter(community__in=communities.values("pk"))
        return Q(pk__in=members.values("user_id"))
    try:
        model._meta.get_field("community")
    except FieldDoesNotExist:
        return Q(pk__in=[])
    return Q(community__in=communities.values("pk"))


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter on a related object (community, poll, survey, member...) that offers only
    the objects the staff user may see: a moderator of one community must not learn the names
    and ids of the others from the filter sidebar."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            ordering=ordering,
            limit_choices_to=admin_scope(field.related_model, request.user),
        )


def _scoped_filter(model, spec):
    """``spec`` of ``list_filter``, with a plain related-field filter made a scoped one."""
    if isinstance(spec, tuple) and spec[1] is admin.RelatedFieldListFilter:
        return (spec[0], ScopedRelatedFieldListFilter)
    if not isinstance(spec, str):
        return spec
    try:
        field = get_fields_from_path(model, spec)[-1]
    except (FieldDoesNotExist, NotRelationField):
        return spec
    return (spec, ScopedRelatedFieldListFilter) if field.is_relation else spec


class CommunityScopedAdmin(ThemedModelAdmin):
    """Base for admin pages of community data: rows are limited to the staff user's
    communities, and permissions come from ``community.authz``, not Django's model perms."""

    community_field = "community"
    moderate_action = Action.MODERATE

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.community_field}__in": admin_communities(request.user)})

    def get_list_filter(self, request):
        """Every filter on a related object lists only what the staff user may see."""
        return [_scoped_filter(self.model, spec) for spec in super().get_list_filter(request)]

    def _moderates_any(self, request) -> bool:
        return request.user.is_active and (
            request.user.is_superuser or admin_communities(request.user).exists()
        )

    def has_module_permission(self, request) -> bool:
        return self._moderates_any(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._moderates_any(request)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self._moderates_any(request)
        community = self.community_of(obj)
        return can(admin_actor(request.user, community), self.moderate_action, obj=obj)

    def community_of(self, obj) -> Community:
        return getattr(obj, self.community_field)

    def run_service(self, request, func, **kwargs) -> bool:
        """Call a service and turn its refusal into an admin message."""
        try:
            func(**kwargs)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        return True

    def run_for_each(
        self, request, queryset, service, *, id_argument: str, done_message: str, **kwargs
    ) -> None:
        """An admin action: call ``service`` for every selected row, acting as the staff user's
        membership in that row's community; refusals become messages, successes are counted."""
        done = 0
        for obj in queryset.select_related("community"):
            actor = admin_actor(request.user, self.community_of(obj))
            if actor is None:
                continue
            if self.run_service(request, service, actor=actor, **{id_argument: obj.pk}, **kwargs):
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)


class ServiceFormAdmin(CommunityScopedAdmin):
    """Base for admin pages whose form saves through the app's services in its ``clean``
    (the form gets the request, and leaves the stored row in ``form.saved``): the admin then
    only copies that row back. The community is chosen among the staff user's communities
    and fixed once saved; the service decides who may add, change or delete."""

    def limit_form_choices(self, form, request) -> None:
        """Limit the form's other related-object choices to the staff user's communities."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "community" in form.base_fields:
            form.base_fields["community"].queryset = admin_communities(request.user)
        self.limit_form_choices(form, request)

        class RequestForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                self.request = request

        return RequestForm

    def get_readonly_fields(self, request, obj=None):
        return ["community"] if obj is not None else []

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """The service saved it in the form's ``clean``; copy the stored row back."""
        saved = form.saved
        for field in type(saved)._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request, form, formsets, change):
        """Nothing: the services wrote everything."""


@admin.register(Community)
class CommunityAdmin(CommunityScopedAdmin):
    community_field = "pk"
    moderate_action = Action.MANAGE
    list_display = ["name", "join_policy", "rules_version", "member_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["id", "open_gid", "invite_code", "rules_version", "created_at"]
    fields = [
        "id",
        "name",
        "description",
        "kind",
        "purpose",
        "rules_text",
        "rules_version",
        "time_zone",
        "join_policy",
        "members_can_create_polls",
        "members_can_create_events",
        "open_gid",
        "invite_code",
        "created_at",
    ]
    actions = ["regenerate_invite_code"]

    def get_queryset(self, request):
        return admin_communities(request.user)

    def community_of(self, obj) -> Community:
        return obj

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "time_zone":  # a list of IANA names: nothing else can be stored
            return forms.ChoiceField(
                label=db_field.verbose_name,
                choices=[(name, name) for name in sorted(zone_names())],
                initial=db_field.default,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("members"))
    def member_count(self, obj: Community) -> int:
        return obj.memberships.filter(status="active").count()

    def save_model(self, request, obj, form, change):
        if not change:  # a new community starts with the suggested roles, as everywhere
            services.community_create(community=obj, kind=obj.kind)
            return
        actor = admin_actor(request.user, obj)
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in COMMUNITY_EDITABLE
        }
        # The service re-reads the row, so hand it the values, not the modified instance.
        obj.refresh_from_db()
        if changes:
            self.run_service(request, services.community_update, actor=actor, **changes)

    @admin.action(description=_("Regenerate the invite code"))
    def regenerate_invite_code(self, request, queryset: QuerySet[Community]):
        for community in queryset:
            actor = admin_actor(request.user, community)
            self.run_service(request, services.community_regenerate_invite, actor=actor)


@admin.register(Membership)
class MembershipAdmin(CommunityScopedAdmin):
    list_display = ["nickname", "community", "tier", "status", "joined_at", "last_active_at"]
    list_filter = ["tier", "status", "community"]
    search_fields = ["user__nickname", "user__username"]
    list_select_related = ["user", "community"]
    fields = ["community", "user", "tier", "status", "joined_at", "last_active_at"]
    readonly_fields = ["community", "user", "status", "joined_at", "last_active_at"]
    actions = ["approve", "mute", "ban", "restore"]

    @admin.display(description=_("nickname"), ordering="user__nickname")
    def nickname(self, obj: Membership) -> str:
        return str(obj.user)

    def save_model(self, request, obj, form, change):
        if "tier" in form.changed_data:
            actor = admin_actor(request.user, obj.community)
            ok = self.run_service(
                request,
                services.membership_change_tier,
                actor=actor,
                target_id=obj.pk,
                tier=form.cleaned_data["tier"],
            )
            if not ok:
                obj.refresh_from_db()

    def _bulk(self, request, queryset, service) -> None:
        self.run_for_each(
            request,
            queryset,
            service,
            id_argument="target_id",
            done_message=_("%(count)d member(s) updated."),
        )

    @admin.action(description=_("Approve selected pending members"))
    def approve(self, request, queryset):
        self._bulk(request, queryset, services.membership_approve)

    @admin.action(description=_("Mute selected members"))
    def mute(self, request, queryset):
        self._bulk(request, queryset, services.membership_mute)

    @admin.action(description=_("Ban selected members"))
    def ban(self, request, queryset):
        self._bulk(request, queryset, services.membership_ban)

    @admin.action(description=_("Unmute / unban selected members"))
    def restore(self, request, queryset):
        self._bulk(request, queryset, services.membership_restore)


@admin.register(Notification)
class NotificationAdmin(CommunityScopedAdmin):
    """Read-only outbox. Filter by status ``unknown`` for the messages whose worker died during
    the WeChat call: perhaps delivered, never resent, their consent credit spent."""

    list_display = [
        "kind",
        "object_key",
        "recipient",
        "community",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["recipient__nickname", "object_key"]
    list_select_related = ["recipient", "community"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SubscriptionCredit)
class SubscriptionCreditAdmin(CommunityScopedAdmin):
    """Read-only: how many one-time messages each member still allows per template, so a
    moderator can see why a member got no notification (no credit). Credits belong to the
    WeChat user, not to a community: a moderator sees the members of their communities, and
    filters by community, template and last decision."""

    community_field = "user__memberships__community"
    list_display = ["user", "template_id", "credits", "last_decision", "decided_at"]
    list_filter = [
        ("user__memberships__community", admin.RelatedFieldListFilter),
        "template_id",
        "last_decision",
    ]
    search_fields = ["user__nickname", "template_id"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in SubscriptionCredit._meta.fields]

    def get_queryset(self, request):
        # A member of two of my communities must appear once.
        return super().get_queryset(request).distinct()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ThemedModelAdmin):
    """Superusers only: staff accounts and members. The WeChat session is never shown."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm

    list_display = ["username", "nickname", "is_staff", "is_active", "date_joined"]
    search_fields = ["username", "nickname", "openid"]
    ordering = ["-date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Profile"), {"fields": ["nickname", "avatar_url", "openid", "unionid"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "password1", "password2", "is_staff"]})]
    readonly_fields = ["openid", "unionid"]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


admin.site.site_header = _("Community back office")
admin.site.site_title = _("Community back office")
# The home page: one panel per community the staff user moderates (community/dashboard.py).
admin.site.index_template = "admin/community_dashboard.html"
