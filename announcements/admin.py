"""Announcements and their categories in the admin: every write goes through the same
services as the API (checked against the staff user's membership), refusals show on the form."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from announcements import services
from announcements.models import Announcement, Category
from community.admin import ServiceFormAdmin
from community.authz import Action, admin_actor, admin_communities
from community.errors import DomainError
from community.selectors import active_member_count

FIELDS = [
    "title",
    "body",
    "category",
    "cover_url",
    "pinned",
    "publish_at",
    "expires_at",
    "requires_confirmation",
]


class AnnouncementForm(forms.ModelForm):
    """Saving runs ``announcement_create``/``announcement_update`` in ``clean``, so a refusal
    (content check, times, permission) is a form error and nothing is stored. No ``Meta``:
    the admin builds it from its ``fields`` when the derived labels are translated."""

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        community = data.get("community") or self.instance.community
        actor = admin_actor(self.request.user, community)
        fields = {name: data.get(name) for name in FIELDS}
        category = fields.pop("category")
        fields["category_id"] = category.pk if category else None
        fields["cover_url"] = fields["cover_url"] or ""
        fields["body"] = fields["body"] or ""
        try:
            if actor is None:
                raise DomainError(_("You do not manage this community."), code="not_a_member")
            if self.instance.pk and not self.instance._state.adding:
                if fields["publish_at"] is None:
                    fields.pop("publish_at")
                self.saved = services.announcement_update(
                    actor=actor, announcement_id=self.instance.pk, **fields
                )
            else:
                self.saved = services.announcement_create(actor=actor, **fields)
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(Announcement)
class AnnouncementAdmin(ServiceFormAdmin):
    """Also the moderators' content calendar: scheduled and past posts by date (the date
    drill-down), with status and read rate."""

    form = AnnouncementForm
    fields = ["community", *FIELDS]
    moderate_action = Action.MANAGE_ANNOUNCEMENTS
    list_display = [
        "title",
        "community",
        "category",
        "publish_at",
        "status_label",
        "pinned",
        "requires_confirmation",
        "read_rate",
    ]
    list_filter = ["pinned", "requires_confirmation", "category"]
    list_select_related = ["community", "category"]
    date_hierarchy = "publish_at"
    ordering = ["-publish_at"]
    search_fields = ["title"]

    def limit_form_choices(self, form, request) -> None:
        if "category" in form.base_fields:
            form.base_fields["category"].queryset = Category.objects.filter(
                community__in=admin_communities(request.user)
            )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(read_count=Count("reads", filter=Q(reads__read_at__isnull=False)))
        )

    def delete_model(self, request, obj):
        actor = admin_actor(request.user, obj.community)
        self.run_service(request, services.announcement_delete, actor=actor, announcement_id=obj.pk)

    @admin.display(description=_("status"))
    def status_label(self, obj) -> str:
        from announcements.models import AnnouncementStatus

        return AnnouncementStatus(obj.status_at(timezone.now())).label

    @admin.display(description=_("read rate"))
    def read_rate(self, obj) -> str:
        members = active_member_count(community_id=obj.community_id)
        if not members:
            return "-"
        return f"{round(100 * obj.read_count / members)}%"


class CategoryForm(forms.ModelForm):
    """Saving runs ``category_create``/``category_update`` in ``clean`` (see above)."""

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        community = data.get("community") or self.instance.community
        actor = admin_actor(self.request.user, community)
        try:
            if actor is None:
                raise DomainError(_("You do not manage this community."), code="not_a_member")
            if self.instance.pk and not self.instance._state.adding:
                self.saved = services.category_update(
                    actor=actor,
                    category_id=self.instance.pk,
                    name=data["name"],
                    position=data["position"],
                )
            else:
                self.saved = services.category_create(
                    actor=actor, name=data["name"], position=data["position"]
                )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(Category)
class CategoryAdmin(ServiceFormAdmin):
    form = CategoryForm
    fields = ["community", "name", "position"]
    moderate_action = Action.MANAGE_ANNOUNCEMENTS
    list_display = ["name", "community", "position"]
    list_select_related = ["community"]
    ordering = ["community", "position"]

    def delete_model(self, request, obj):
        actor = admin_actor(request.user, obj.community)
        self.run_service(request, services.category_delete, actor=actor, category_id=obj.pk)
