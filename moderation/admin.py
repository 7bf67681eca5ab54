"""The moderation queue in the admin: read-only lists (decisions go through ``case_decide``
over the API; an admin decision form is still to come)."""

from django.contrib import admin

from community.admin import CommunityScopedAdmin
from moderation.models import Case, ContentHold, Report


class _ReadOnly(CommunityScopedAdmin):
    """Scoped to the staff user's communities (``CommunityScopedAdmin``), never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReportInline(admin.TabularInline):
    model = Report
    fields = ["reporter", "reason", "note", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(_ReadOnly):
    list_display = ["id", "community", "target_kind", "target_id", "status", "decision"]
    list_filter = ["status", "target_kind", "decision"]
    list_select_related = ["community"]
    inlines = [ReportInline]


@admin.register(ContentHold)
class ContentHoldAdmin(_ReadOnly):
    list_display = ["community", "target_kind", "target_id", "why", "created_at"]
    list_filter = ["why", "target_kind"]
    list_select_related = ["community"]
