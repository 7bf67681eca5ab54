"""Member activity in the admin: the analytics rules and protected members (edited through the
services), the derived figures read-only (member-days, rolled-up periods, hourly counters, the
daily summaries, segments, cohorts, inactive-member rounds), the chat-count import (all or
nothing, unmatched rows listed) and a charts page per community drawn with the bundled
Chart.js: DAU/WAU/MAU, the weekday x hour heatmap, segments over time, the cohort table and the
participation of each poll, survey and event."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError
from community.models import Community
from community.timezones import community_time
from insights import selectors
from insights.models import (
    CohortMonth,
    CommunityDay,
    HourActivity,
    InactiveRound,
    InsightsSettings,
    MemberDay,
    MemberPeriod,
    MemberSummary,
    ProtectedMember,
)
from insights.services.imports import messages_import
from insights.services.settings import EDITABLE, insights_settings_update, protected_member_set


class _Derived(CommunityScopedAdmin):
    """Figures the jobs and the recording write: read here, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _analyst_communities(user):
    """Communities whose figures ``user`` may read in the admin (view-analytics)."""
    communities = admin_communities(user) if not user.is_superuser else Community.objects.all()
    return [c for c in communities if can(admin_actor(user, c), Action.VIEW_ANALYTICS)]


def charts_link(community_id: str):
    return format_html(
        '<a class="text-primary-600" href="{}">{}</a>',
        reverse("admin:insights_charts", args=[community_id]),
        gettext("charts"),
    )


class MessageImportForm(forms.Form):
    community = forms.ModelChoiceField(queryset=Community.objects.none(), label=_("community"))
    file = forms.FileField(
        label=_("CSV file"), help_text=_("date, nickname or openid, messages per line")
    )

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(
            pk__in=[c.pk for c in communities]
        )


@admin.register(MemberDay)
class MemberDayAdmin(_Derived):
    """One member's activity per day; the chat-count import lives here."""

    list_display = ["day", "community", "user", "visits", "votes", "answers", "messages"]
    list_filter = ["community", "day"]
    list_select_related = ["community", "user"]
    date_hierarchy = "day"
    search_fields = ["user__nickname"]
    show_full_result_count = False

    def get_urls(self):
        return [
            path(
                "import-messages/",
                self.admin_site.admin_view(self.import_view),
                name="insights_import_messages",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Import chat message counts: all or nothing, the rows matching no member listed."""
        communities = _analyst_communities(request.user)
        if not communities:
            raise PermissionDenied
        report = None
        form = MessageImportForm(
            request.POST or None, request.FILES or None, communities=communities
        )
        if request.method == "POST" and form.is_valid():
            actor = admin_actor(request.user, form.cleaned_data["community"])
            raw = form.cleaned_data["file"].read()
            try:
                report = messages_import(actor=actor, text=raw.decode("utf-8-sig"))
            except UnicodeDecodeError:
                self.message_user(request, gettext("The file must be UTF-8 text."), messages.ERROR)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                if report.applied:
                    self.message_user(
                        request,
                        gettext("%(rows)d rows imported, %(messages)d messages counted.")
                        % {"rows": report.rows, "messages": report.messages},
                        messages.SUCCESS,
                    )
                else:
                    self.message_user(
                        request,
                        gettext("Nothing imported: %(n)d rows match no single member.")
                        % {"n": len(report.unmatched)},
                        messages.WARNING,
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import chat message counts"),
            "form": form,
            "report": report,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/insights/import_messages.html", context)


@admin.register(MemberPeriod)
class MemberPeriodAdmin(_Derived):
    list_display = ["starts_on", "grain", "community", "user", "active_days", "votes", "messages"]
    list_filter = ["grain", "community"]
    list_select_related = ["community", "user"]
    show_full_result_count = False


@admin.register(HourActivity)
class HourActivityAdmin(_Derived):
    list_display = ["day", "hour", "community", "actions"]
    list_filter = ["community", "day"]
    list_select_related = ["community"]
    show_full_result_count = False


@admin.register(CommunityDay)
class CommunityDayAdmin(_Derived):
    """The daily summaries, and each community's charts page."""

    list_display = [
        "day",
        "community",
        "members",
        "dau",
        "wau",
        "mau",
        "core",
        "inactive",
        "charts",
    ]
    list_filter = ["community", "day"]
    list_select_related = ["community"]
    date_hierarchy = "day"

    @admin.display(description=_("charts"))
    def charts(self, obj):
        return charts_link(obj.community_id)

    def get_urls(self):
        return [
            path(
                "charts/<str:community_id>/",
                self.admin_site.admin_view(self.charts_view),
                name="insights_charts",
            ),
            *super().get_urls(),
        ]

    def charts_view(self, request, community_id: str):
        """The community's activity charts (view-analytics), from the same selectors as the
        API's dashboard."""
        community = get_object_or_404(Community, pk=community_id)
        actor = admin_actor(request.user, community)
        if actor is None or not can(actor, Action.VIEW_ANALYTICS):
            raise Http404
        today = selectors.local_today(community)
        data = selectors.dashboard(community=community, today=today)
        with community_time(community):
            charts = {
                "active": [
                    {"day": str(r["day"]), "dau": r["active"], "wau": r["wau"], "mau": r["mau"]}
                    for r in data["active"]["series"]
                ],
                "heatmap": data["heatmap"],
                "segments": [
                    {"day": str(r["day"]), **{s: r[s] for s in selectors.SEGMENTS}}
                    for r in data["segment_counts"]["series"]
                ],
                "participation": [
                    {"label": f"{r['kind']}: {r['title']}"[:40], "rate": r["rate"]}
                    for r in reversed(data["participation"])
                ],
            }
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Activity of %(community)s") % {"community": community.name},
            "community": community,
            "data": data,
            "charts": charts,
            "opts": self.model._meta,
            "weekdays": [
                gettext("Mon"),
                gettext("Tue"),
                gettext("Wed"),
                gettext("Thu"),
                gettext("Fri"),
                gettext("Sat"),
                gettext("Sun"),
            ],
        }
        return TemplateResponse(request, "admin/insights/charts.html", context)


@admin.register(MemberSummary)
class MemberSummaryAdmin(_Derived):
    list_display = ["user", "community", "segment", "active_days_30", "last_active_on"]
    list_filter = ["segment", "community"]
    list_select_related = ["community", "user"]
    search_fields = ["user__nickname"]


@admin.register(CohortMonth)
class CohortMonthAdmin(_Derived):
    list_display = ["cohort", "month", "community", "joined", "active"]
    list_filter = ["community"]
    list_select_related = ["community"]


@admin.register(InactiveRound)
class InactiveRoundAdmin(_Derived):
    list_display = [
        "user",
        "community",
        "started_at",
        "last_active_at",
        "cleared_at",
        "removed_at",
        "reason",
        "returned_at",
    ]
    list_filter = ["community", "started_at"]
    list_select_related = ["community", "user"]


class InsightsSettingsForm(forms.ModelForm):
    class Meta:
        model = InsightsSettings
        fields = ["community", *EDITABLE]


@admin.register(InsightsSettings)
class InsightsSettingsAdmin(CommunityScopedAdmin):
    """A community's analytics rules, saved through ``insights_settings_update``."""

    form = InsightsSettingsForm
    moderate_action = Action.MANAGE_INACTIVE
    list_display = [
        "community",
        "inactive_after_days",
        "grace_days",
        "member_floor",
        "members_see_top",
        "charts",
    ]
    list_select_related = ["community"]

    @admin.display(description=_("charts"))
    def charts(self, obj):
        return charts_link(obj.community_id)

    def get_readonly_fields(self, request, obj=None):
        return ["community"] if obj else []

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request.user, obj.community)
        if actor is None:
            raise PermissionDenied
        try:
            insights_settings_update(
                actor=actor, **{name: form.cleaned_data[name] for name in EDITABLE}
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)


@admin.register(ProtectedMember)
class ProtectedMemberAdmin(CommunityScopedAdmin):
    """Members the inactive-member rule never lists; added and lifted through the service."""

    list_display = ["user", "community", "created_at"]
    list_filter = ["community"]
    list_select_related = ["community", "user"]
    fields = ["community", "user"]
    moderate_action = Action.MANAGE_INACTIVE
    autocomplete_fields = []

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self._moderates_any(request)
        return can(admin_actor(request.user, obj.community), Action.MANAGE_INACTIVE)

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request.user, obj.community)
        membership = obj.community.memberships.filter(user=obj.user).first()
        if actor is None or membership is None:
            raise PermissionDenied
        self.run_service(
            request,
            protected_member_set,
            actor=actor,
            membership_id=membership.pk,
            protected=True,
        )

    def delete_model(self, request, obj):
        actor = admin_actor(request.user, obj.community)
        membership = obj.community.memberships.filter(user=obj.user).first()
        if actor is None or membership is None:
            raise PermissionDenied
        self.run_service(
            request,
            protected_member_set,
            actor=actor,
            membership_id=membership.pk,
            protected=False,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("community", "user"):
            self.delete_model(request, obj)
