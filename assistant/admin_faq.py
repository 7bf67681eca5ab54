"""FAQ entries, keyword rules and the assistant's statistics in the admin: every write goes
through the same services as the API (checked against the staff user's membership), refusals
show on the form. Imported by ``assistant.admin`` (or ``assistant.apps``) to register."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assistant import services
from assistant.models import FaqEntry, KeywordRule
from assistant.selectors_stats import DAYS_MAX, assistant_stats
from community.admin import ServiceFormAdmin
from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError

FAQ_FIELDS = ["question", "answer", "keywords", "category", "status"]
RULE_FIELDS = [
    "match_kind",
    "pattern",
    "priority",
    "reply_kind",
    "reply_text",
    "reply_title",
    "reply_page_path",
    "reply_url",
    "reply_media_id",
    "faq",
    "enabled",
]


class _ServiceForm(forms.ModelForm):
    """Saving runs the service in ``clean``, so a refusal (content check, pattern, permission)
    is a form error and nothing is stored."""

    def _post_clean(self):
        """The service validated and saved the row in ``clean`` (its constraints included:
        409 ``faq_question_taken``); the model form's own checks would find the row just
        saved, so they are skipped."""

    def run(self, data, create, update):
        community = data.get("community") or self.instance.community
        actor = admin_actor(self.request.user, community)
        try:
            if actor is None:
                raise DomainError(gettext("You do not manage this community."), code="not_a_member")
            if self.instance.pk and not self.instance._state.adding:
                self.saved = update(actor)
            else:
                self.saved = create(actor)
        except DomainError as exc:
            field = exc.field.split(".")[0] if exc.field else None
            field = "faq" if field == "faq_id" else field
            self.add_error(field if field in self.fields else None, exc.message)


class KeywordsField(forms.CharField):
    """Keywords as one line, separated by commas (，or ,)."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        text = (value or "").replace("，", ",")
        return [part.strip() for part in text.split(",") if part.strip()]


class FaqEntryForm(_ServiceForm):
    keywords = KeywordsField(
        label=_("Keywords"), required=False, help_text=_("Separated by commas.")
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        fields = {name: data.get(name) for name in FAQ_FIELDS}
        fields["category"] = fields["category"] or ""
        self.run(
            data,
            create=lambda actor: services.faq_entry_create(actor=actor, **fields),
            update=lambda actor: services.faq_entry_update(
                actor=actor, entry_id=self.instance.pk, **fields
            ),
        )
        return data


class KeywordRuleForm(_ServiceForm):
    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        fields = {name: data.get(name) for name in RULE_FIELDS}
        faq = fields.pop("faq")
        fields["faq_id"] = faq.pk if faq else None
        for name in ("reply_text", "reply_title", "reply_page_path", "reply_url", "reply_media_id"):
            fields[name] = fields[name] or ""
        fields["priority"] = fields["priority"] or 0
        self.run(
            data,
            create=lambda actor: services.keyword_rule_create(actor=actor, **fields),
            update=lambda actor: services.keyword_rule_update(
                actor=actor, rule_id=self.instance.pk, **fields
            ),
        )
        return data


class _ServiceAdmin(ServiceFormAdmin):
    moderate_action = Action.MANAGE_FAQ

    def limit_form_choices(self, form, request) -> None:
        if "faq" in form.base_fields:
            form.base_fields["faq"].queryset = FaqEntry.objects.filter(
                community__in=admin_communities(request.user)
            )


@admin.register(FaqEntry)
class FaqEntryAdmin(_ServiceAdmin):
    """FAQ entries, and the assistant's statistics page (``stats/``) with the unanswered
    questions, each a link to a new entry with its text filled in."""

    form = FaqEntryForm
    change_list_template = "admin/assistant/faqentry/change_list.html"
    fields = ["community", *FAQ_FIELDS]
    list_display = [
        "question",
        "community",
        "category",
        "status",
        "times_served",
        "helpful_yes",
        "helpful_no",
        "updated_at",
    ]
    list_filter = ["status", "category", "community"]
    list_select_related = ["community"]
    search_fields = ["question", "answer"]
    ordering = ["community", "category", "question"]

    def delete_model(self, request, obj):
        actor = admin_actor(request.user, obj.community)
        self.run_service(request, services.faq_entry_delete, actor=actor, entry_id=obj.pk)

    def get_changeform_initial_data(self, request):
        """``?community=<id>&question=<text>`` (the statistics page's "create FAQ entry
        from this") fills the form in."""
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("status", "published")
        return initial

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("stats/", wrap(self.stats_view), name="assistant_faqentry_stats"),
            *super().get_urls(),
        ]

    def stats_view(self, request):
        """The statistics of one community the staff user may see them for (``?community=``,
        default the first), over ``?days=`` (30)."""
        communities = [
            c
            for c in admin_communities(request.user).order_by("name")
            if can(admin_actor(request.user, c), Action.VIEW_ASSISTANT_STATS)
        ]
        if not communities:
            raise Http404
        chosen = next(
            (c for c in communities if c.pk == request.GET.get("community")), communities[0]
        )
        try:
            days = min(max(int(request.GET.get("days", 30)), 1), DAYS_MAX)
        except ValueError:
            days = 30
        stats = assistant_stats(
            actor=admin_actor(request.user, chosen), days=days, now=timezone.now()
        )
        add_url = reverse("admin:assistant_faqentry_add")
        for group in stats.unanswered:
            group["create_url"] = (
                f"{add_url}?{urlencode({'community': chosen.pk, 'question': group['text'][:200]})}"
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Assistant statistics"),
            "communities": communities,
            "chosen": chosen,
            "days": days,
            "stats": stats,
        }
        return TemplateResponse(request, "admin/assistant/stats.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "stats_url": reverse("admin:assistant_faqentry_stats"),
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(KeywordRule)
class KeywordRuleAdmin(_ServiceAdmin):
    form = KeywordRuleForm
    fields = ["community", *RULE_FIELDS]
    list_display = ["pattern", "match_kind", "priority", "reply_kind", "enabled", "community"]
    list_filter = ["enabled", "match_kind", "reply_kind", "community"]
    list_select_related = ["community"]
    search_fields = ["pattern"]
    ordering = ["community", "-priority", "created_at"]

    def delete_model(self, request, obj):
        actor = admin_actor(request.user, obj.community)
        self.run_service(request, services.keyword_rule_delete, actor=actor, rule_id=obj.pk)
