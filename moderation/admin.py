"""The moderation queue in the admin: cases with their reports and a decision form that calls
``case_decide`` (the same rules as the API), held content, warnings, appeals, the warning rule
and the audit log. Everything is scoped to the staff user's communities; the audit log to the
communities where they hold an admin tier, and it can be neither changed nor deleted here (nor
anywhere: its tables refuse UPDATE and DELETE)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError
from community.models import Community, MembershipStatus, Tier
from moderation.models import (
    Appeal,
    AuditEntry,
    AuditExport,
    Case,
    CaseStatus,
    ContentHold,
    Decision,
    MemberWarning,
    Report,
    WarningRule,
)
from moderation.services import case_decide, warning_rule_update
from moderation.services.audit_export import audit_export_file, audit_export_request
from moderation.services.cases import MAX_MUTE_DAYS


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


class AppealInline(admin.TabularInline):
    model = Appeal
    fields = ["member", "text", "status", "reply", "created_at", "decided_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CaseDecisionForm(forms.Form):
    """What a moderator decides on an open case; ``case_decide`` checks the rest."""

    decision = forms.ChoiceField(label=_("decision"), choices=Decision.choices)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))
    mute_days = forms.IntegerField(
        label=_("mute for days"),
        required=False,
        min_value=1,
        max_value=MAX_MUTE_DAYS,
        help_text=_("Only for a mute."),
    )


@admin.register(Case)
class CaseAdmin(_ReadOnly):
    list_display = [
        "id",
        "community",
        "target_kind",
        "target_id",
        "status",
        "decision",
        "created_at",
        "decide_link",
    ]
    list_filter = ["status", "target_kind", "decision", "appeals__status", "community"]
    list_select_related = ["community"]
    inlines = [ReportInline, AppealInline]
    readonly_fields = ["decided_by"]

    @admin.display(description=_("decide"))
    def decide_link(self, obj: Case) -> str:
        if obj.status != CaseStatus.OPEN:
            return "–"
        url = reverse("admin:moderation_case_decide", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Decide"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<str:case_id>/decide/", wrap(self.decide_view), name="moderation_case_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request, case_id: str):
        """The decision form: the same ``case_decide`` as the API, acting as the staff user's
        membership in the case's community; a refusal shows on the form."""
        case = self.get_queryset(request).select_related("community").filter(pk=case_id).first()
        if case is None:
            raise Http404
        actor = admin_actor(request.user, case.community)
        if not can(actor, Action.MODERATE_CONTENT):
            raise Http404
        form = CaseDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    case_decide(actor=actor, case_id=case.pk, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                self.message_user(request, gettext("The case is decided."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:moderation_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Decide the case"),
            "case": case,
            "form": form,
            "reports": case.reports.select_related("reporter"),
        }
        return TemplateResponse(request, "admin/moderation/case/decide.html", context)


@admin.register(ContentHold)
class ContentHoldAdmin(_ReadOnly):
    list_display = ["community", "target_kind", "target_id", "why", "created_at"]
    list_filter = ["why", "target_kind"]
    list_select_related = ["community"]


@admin.register(MemberWarning)
class MemberWarningAdmin(_ReadOnly):
    list_display = ["member", "community", "reason", "created_at", "escalation", "withdrawn_at"]
    list_filter = ["community", "created_at"]
    list_select_related = ["community", "member", "escalation"]


@admin.register(Appeal)
class AppealAdmin(_ReadOnly):
    list_display = ["case", "community", "member", "status", "created_at", "decided_at"]
    list_filter = ["status", "community"]
    list_select_related = ["community", "member", "case"]


class WarningRuleForm(forms.ModelForm):
    class Meta:
        model = WarningRule
        fields = ["community", "enabled", "warnings", "window_days", "mute_days"]


@admin.register(WarningRule)
class WarningRuleAdmin(CommunityScopedAdmin):
    """The rule is changed through ``warning_rule_update`` (the admin tiers)."""

    form = WarningRuleForm
    list_display = ["community", "enabled", "warnings", "window_days", "mute_days"]
    moderate_action = Action.MANAGE

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def get_readonly_fields(self, request, obj=None):
        return ["community"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request.user, obj.community)
        fields = {name: form.cleaned_data[name] for name in WarningRuleForm.Meta.fields[1:]}
        self.run_service(request, warning_rule_update, actor=actor, **fields)


def _admin_tier_communities(user):
    """Communities where the staff user holds an admin tier (all for a superuser)."""
    communities = admin_communities(user)
    if user.is_superuser:
        return communities
    return communities.filter(
        memberships__user=user,
        memberships__status=MembershipStatus.ACTIVE,
        memberships__tier__in=[Tier.ADMIN, Tier.OWNER],
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(_ReadOnly):
    """The audit log: read-only, for the admin tiers of each community."""

    list_display = ["at", "community", "action", "actor", "subject", "reason", "details"]
    list_filter = ["action", "community", "at"]
    list_select_related = ["community", "actor", "subject"]
    search_fields = ["reason"]
    date_hierarchy = "at"

    def get_queryset(self, request):
        qs = super(CommunityScopedAdmin, self).get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(community__in=_admin_tier_communities(request.user))

    def _moderates_any(self, request) -> bool:
        return request.user.is_active and _admin_tier_communities(request.user).exists()

    actions = ["export_csv"]

    @admin.action(description=_("Export the audit log of these communities (CSV)"))
    def export_csv(self, request, queryset):
        community_ids = set(queryset.values_list("community_id", flat=True))
        done = 0
        for community in Community.objects.filter(pk__in=community_ids):
            actor = admin_actor(request.user, community)
            if self.run_service(request, audit_export_request, actor=actor, format="csv"):
                done += 1
        if done:
            self.message_user(
                request,
                gettext("%(count)d export(s) started; the files appear under audit log exports.")
                % {"count": done},
                messages.SUCCESS,
            )


@admin.register(AuditExport)
class AuditExportAdmin(_ReadOnly):
    """Audit log exports with their download link (the admin tiers of the community)."""

    list_display = ["created_at", "community", "format", "status", "progress", "download"]
    list_filter = ["status", "community"]
    list_select_related = ["community"]

    def get_queryset(self, request):
        qs = super(CommunityScopedAdmin, self).get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(community__in=_admin_tier_communities(request.user))

    def _moderates_any(self, request) -> bool:
        return request.user.is_active and _admin_tier_communities(request.user).exists()

    @admin.display(description=_("progress"))
    def progress(self, obj: AuditExport) -> str:
        return f"{obj.progress_percent}%"

    @admin.display(description=_("download"))
    def download(self, obj: AuditExport) -> str:
        if not obj.file:
            return "–"
        url = reverse("admin:moderation_auditexport_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<str:export_id>/download/",
                wrap(self.download_view),
                name="moderation_auditexport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, export_id: str):
        """The only way an audit export leaves the server: streamed to the admin tiers."""
        export = self.get_queryset(request).select_related("community").filter(pk=export_id).first()
        if export is None:
            raise Http404
        try:
            handle, name = audit_export_file(
                actor=admin_actor(request.user, export.community), export_id=export.pk
            )
        except DomainError as exc:
            raise Http404 from exc
        response = FileResponse(handle, as_attachment=True, filename=name)
        response["Cache-Control"] = "private, no-store"
        return response
