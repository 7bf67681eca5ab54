"""Django admin for moderators: author surveys (pages, questions, choices, logic), preview,
publish/close/duplicate, reports with charts and cross-tabs, CSV/XLSX exports.

Scoping and permissions come from ``CommunityScopedAdmin`` (``community.authz``); every
write goes through ``surveys.services`` with the moderator's membership (``admin_actor``), so
a moderator obeys the same rules as the API. The forms try each service call first in a
rolled-back savepoint (``surveys.forms.service_refusal``), so a refusal is a form error.
"""

from __future__ import annotations

import csv
import json

from adminsortable2.admin import SortableAdminBase, SortableStackedInline, SortableTabularInline
from django.contrib import admin, messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError
from community.timezones import community_time
from surveys import services
from surveys.definition import definition_for
from surveys.forms import (
    ChoiceInlineFormSet,
    ConditionField,
    CrossTabForm,
    PageInlineForm,
    PageInlineFormSet,
    QuestionInlineForm,
    QuestionInlineFormSet,
    ServiceFormSet,
    add_refusal,
    service_refusal,
)
from surveys.logic_builder import survey_form_data
from surveys.models import (
    OPERATOR_LABELS,
    QUESTION_TYPE_LABELS,
    Choice,
    Export,
    ExportStatus,
    Page,
    Question,
    Survey,
    SurveyStatus,
)
from surveys.reports import CROSSTAB_KINDS, crosstab, survey_report
from surveys.selectors import quiz_leaderboard


class _ScopedInline:
    """Inline permissions follow the survey's (``community.authz``), not Django model perms."""

    def _may_edit(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        communities = admin_communities(request.user)
        if obj is None:
            return communities.exists()
        return can(admin_actor(request.user, obj.community), Action.MODERATE)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or admin_communities(request.user).exists()

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)


class PageInline(_ScopedInline, SortableTabularInline):
    model = Page
    form = PageInlineForm
    formset = PageInlineFormSet
    extra = 0
    fields = ["title", "description", "condition", "order"]
    verbose_name = _("page")
    verbose_name_plural = _("pages (optional sections)")

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["formfield_callback"] = self._formfield
        return super().get_formset(request, obj, **kwargs)

    @staticmethod
    def _formfield(field, **kwargs):
        if field.name == "condition":
            return ConditionField(label=_("Display condition"), required=False)
        return field.formfield(**kwargs)


class QuestionInline(_ScopedInline, SortableStackedInline):
    model = Question
    form = QuestionInlineForm
    formset = QuestionInlineFormSet
    extra = 0
    show_change_link = True
    fieldsets = [
        (None, {"fields": [("type", "required", "page"), "title", "choices_text", "condition"]}),
        (
            _("More settings"),
            {
                "classes": ["collapse"],
                "fields": [
                    "description",
                    "shuffle_choices",
                    ("min_selections", "max_selections"),
                    ("min_length", "max_length"),
                    ("pattern", "pattern_message"),
                    ("min_value", "max_value", "integer_only"),
                    ("scale_min", "scale_max"),
                    "scale_labels_text",
                    "rows_text",
                ],
            },
        ),
        (
            _("Quiz"),
            {
                "classes": ["collapse"],
                "description": _(
                    "Quiz mode only: points for a correct answer, the accepted answers of number "
                    "and short text questions (choice questions mark theirs with *), and the "
                    "explanation shown with the results."
                ),
                "fields": ["quiz_points", "quiz_answer", "quiz_explanation"],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("choices")


class ExportInline(admin.TabularInline):
    model = Export
    extra = 0
    can_delete = False
    fields = ["format", "status", "progress", "created_at", "download"]
    readonly_fields = fields
    verbose_name_plural = _("exports")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    @admin.display(description=_("progress"))
    def progress(self, obj: Export) -> str:
        return _progress_html(obj)

    @admin.display(description=_("file"))
    def download(self, obj: Export) -> str:
        return _download_link(obj)


def _progress_html(export: Export) -> str:
    return format_html(
        '<progress max="100" value="{}"></progress> {} / {}',
        export.progress_percent,
        export.rows_done,
        export.rows_total,
    )


def _download_link(export: Export) -> str:
    if export.status != ExportStatus.DONE:
        return export.error[:200] if export.status == ExportStatus.FAILED else "-"
    url = reverse("admin:surveys_survey_export_download", args=[export.survey_id, export.pk])
    return format_html('<a href="{}">{}</a>', url, gettext("Download"))


@admin.register(Survey)
class SurveyAdmin(SortableAdminBase, CommunityScopedAdmin):
    list_display = [
        "title",
        "community",
        "status",
        "state_display",
        "submitted_count",
        "closes_at",
        "links",
    ]
    list_filter = ["status", "community"]
    search_fields = ["title"]
    list_select_related = ["community"]
    inlines = [PageInline, QuestionInline, ExportInline]

    def _create_formsets(self, request, obj, change):
        # Let the question formset see the page formset: display logic is checked on save for
        # pages as well as questions.
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        pages = next((f for f in formsets if f.model is Page), None)
        for formset in formsets:
            if isinstance(formset, QuestionInlineFormSet):
                formset.page_formset = pages
            if isinstance(formset, ServiceFormSet):
                formset.request = request
        return formsets, inline_instances

    class Media:
        # the visual display-logic builder and the per-type question fields
        js = ["surveys/admin/survey_form.js"]
        css = {"all": ["surveys/admin/survey_form.css"]}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["survey_form_data"] = survey_form_data(
            obj, question_prefix="questions", page_prefix="pages"
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    actions = ["publish", "close", "duplicate", "export_csv", "export_xlsx"]
    readonly_fields = ["status", "submitted_count", "published_at", "version", "links"]
    fieldsets = [
        (None, {"fields": ["community", "title", "description", "thank_you_text", "links"]}),
        (
            _("Schedule and rules"),
            {
                "fields": [
                    ("opens_at", "closes_at"),
                    "response_cap",
                    ("allow_multiple_responses", "allow_edit_after_submit"),
                    ("anonymous", "publish_results"),
                    "min_group_size",
                ]
            },
        ),
        (
            _("Quiz"),
            {
                "fields": ["quiz_mode", ("quiz_time_limit", "quiz_results")],
                "description": _(
                    "A quiz is a named survey answered once: set the points and correct answers "
                    "on each question. The leaderboard is a CSV linked next to the report."
                ),
            },
        ),
        (_("Status"), {"fields": [("status", "published_at", "submitted_count", "version")]}),
    ]

    # --- permissions: moderators author surveys of their communities ---------------------
    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != SurveyStatus.DRAFT:
            return request.user.is_superuser
        return self.has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("community")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = admin_communities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class SurveyForm(form_class):
            """Shows the refusals of ``survey_create``/``survey_update`` as form errors."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for name in _KEPT_WHEN_LEFT_OUT:  # left out: keep it as it is (or default)
                    if name in self.fields:
                        self.fields[name].required = False

            def clean(self):
                data = super().clean()
                for name in _KEPT_WHEN_LEFT_OUT:
                    if name in data and data[name] in (None, ""):
                        data[name] = (
                            getattr(obj, name)
                            if obj is not None
                            else Survey._meta.get_field(name).default
                        )
                if self.errors:
                    return data
                community = obj.community if obj is not None else data.get("community")
                actor = admin_actor(request.user, community) if community else None
                if actor is None:
                    return data
                call = _survey_call(actor, obj, _settings(self, changed_only=obj is not None))
                refusal = service_refusal([(0, call)]).get(0)
                if refusal is not None:
                    add_refusal(self, refusal, fields={})
                return data

        return SurveyForm

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request.user, obj.community)
        fields = _settings(form, changed_only=change)
        if change:
            obj.refresh_from_db()  # the service re-reads the row: hand it the values
            if fields:
                self.run_service(request, _survey_call(actor, obj, fields))
                obj.refresh_from_db()
            return
        survey = services.survey_create(actor=actor, **fields)
        for field in Survey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(survey, field.attname))
        obj._state.adding = False
        obj._state.db = survey._state.db

    def save_formset(self, request, form, formset, change):
        # The services did the work; the change message reads these lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if isinstance(formset, ServiceFormSet):
            for _index, call in formset.service_calls():
                self.run_service(request, call)

    def run_service(self, request, func, **kwargs) -> bool:
        """``CommunityScopedAdmin.run_service``, naming the survey and listing every problem
        of a definition that cannot be published."""
        try:
            func(**kwargs)
        except DomainError as exc:
            survey = Survey.objects.filter(pk=kwargs.get("survey_id")).first()
            prefix = f"{survey.title}: " if survey else ""
            self.message_user(request, prefix + exc.message, messages.ERROR)
            for error in getattr(exc, "errors", ()):
                self.message_user(request, _definition_error(survey, error), messages.ERROR)
            return False
        return True

    # --- list columns ----------------------------------------------------------------------
    @admin.display(description=_("state"))
    def state_display(self, obj: Survey) -> str:
        return obj.state().label

    @admin.display(description=_("links"))
    def links(self, obj: Survey) -> str:
        if not obj.pk:
            return "-"
        return format_html_join(
            " | ",
            '<a href="{}">{}</a>',
            [
                (reverse("admin:surveys_survey_preview", args=[obj.pk]), gettext("Preview")),
                (reverse("admin:surveys_survey_report", args=[obj.pk]), gettext("Report")),
                *(
                    [
                        (
                            reverse("admin:surveys_survey_leaderboard", args=[obj.pk]),
                            gettext("Leaderboard (CSV)"),
                        )
                    ]
                    if obj.quiz_mode
                    else []
                ),
            ],
        )

    # --- actions ---------------------------------------------------------------------------
    def _each(self, request, queryset, service, done_message: str, **kwargs) -> None:
        self.run_for_each(
            request,
            queryset,
            service,
            id_argument="survey_id",
            done_message=done_message,
            **kwargs,
        )

    @admin.action(description=_("Publish (checks the questions and logic first)"))
    def publish(self, request, queryset):
        self._each(
            request, queryset, services.survey_publish, gettext("%(count)d survey(s) published.")
        )

    @admin.action(description=_("Close now"))
    def close(self, request, queryset):
        self._each(request, queryset, services.survey_close, gettext("%(count)d survey(s) closed."))

    @admin.action(description=_("Duplicate with all questions"))
    def duplicate(self, request, queryset):
        self._each(
            request,
            queryset,
            services.survey_duplicate,
            gettext("%(count)d survey(s) duplicated as drafts."),
        )

    def _export(self, request, queryset, format: str) -> None:
        self._each(
            request,
            queryset,
            services.export_request,
            gettext("%(count)d export(s) started; see the survey's report page for progress."),
            format=format,
        )

    @admin.action(description=_("Export responses (CSV)"))
    def export_csv(self, request, queryset):
        self._export(request, queryset, "csv")

    @admin.action(description=_("Export responses (XLSX)"))
    def export_xlsx(self, request, queryset):
        self._export(request, queryset, "xlsx")

    # --- custom pages ----------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<str:survey_id>/preview/", wrap(self.preview_view), name="surveys_survey_preview"
            ),
            path("<str:survey_id>/report/", wrap(self.report_view), name="surveys_survey_report"),
            path(
                "<str:survey_id>/export/<str:format>/",
                wrap(require_POST(self.export_view)),
                name="surveys_survey_export",
            ),
            path(
                "<str:survey_id>/leaderboard.csv",
                wrap(self.leaderboard_view),
                name="surveys_survey_leaderboard",
            ),
            path(
                "<str:survey_id>/exports/<str:export_id>/download/",
                wrap(self.download_view),
                name="surveys_survey_export_download",
            ),
            *super().get_urls(),
        ]

    def _visible_survey(self, request, survey_id: str) -> Survey:
        survey = self.get_queryset(request).filter(pk=survey_id).first()
        if survey is None or not self.has_view_permission(request, survey):
            raise Http404
        return survey

    def _context(self, request, survey: Survey, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": survey,
            "survey": survey,
            "title": title,
            "has_view_permission": True,
        }

    def preview_view(self, request, survey_id: str):
        survey = self._visible_survey(request, survey_id)
        definition = definition_for(survey)
        questions = {q.id: q for q in definition.questions}
        labels = {c.id: c.label for q in definition.questions for c in (*q.choices, *q.rows)}

        def describe(condition):
            if condition is None:
                return ""
            parts = [
                f"「{questions[r.question_id].title if r.question_id in questions else r.question_id}」"
                f" {OPERATOR_LABELS.get(r.operator, r.operator)} 「{labels.get(r.value, r.value)}」"
                for r in condition.rules
            ]
            joiner = gettext(" and ") if condition.match == "all" else gettext(" or ")
            return joiner.join(parts)

        pages = []
        groups: dict[str | None, list] = {}
        for question in definition.questions:
            snippets = [
                (
                    choice.label,
                    json.dumps(
                        {
                            "match": "all",
                            "rules": [
                                {
                                    "question_id": question.id,
                                    "operator": "equals",
                                    "value": choice.id,
                                }
                            ],
                        },
                        ensure_ascii=False,
                    ),
                )
                for choice in question.choices
                if question.type in ("single_choice", "dropdown", "multiple_choice")
            ]
            groups.setdefault(question.page_id, []).append(
                {
                    "q": question,
                    "type_label": QUESTION_TYPE_LABELS.get(question.type, question.type),
                    "condition": describe(question.condition),
                    "snippets": snippets,
                }
            )
        for page in definition.pages or [None]:
            page_id = page.id if page else None
            pages.append(
                {
                    "page": page,
                    "condition": describe(page.condition) if page else "",
                    "questions": groups.get(page_id, []),
                }
            )
        problems = services.survey_check(survey=survey)
        context = {
            **self._context(request, survey, gettext("Preview: %(title)s") % {"title": survey}),
            "pages": pages,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/surveys/preview.html", context)

    def report_view(self, request, survey_id: str):
        survey = self._visible_survey(request, survey_id)
        text_pages = {
            key[len("text_") :]: value
            for key, value in request.GET.items()
            if key.startswith("text_")
        }
        report = survey_report(survey, include_text=True, text_pages=text_pages)
        eligible = [q for q in definition_for(survey).questions if q.type in CROSSTAB_KINDS]
        form = CrossTabForm(request.GET if "rows" in request.GET else None, questions=eligible)
        table = None
        if form.is_bound and form.is_valid():
            table = crosstab(survey, form.cleaned_data["rows"], form.cleaned_data["columns"])
        exports = list(Export.objects.filter(community_id=survey.community_id, survey=survey)[:10])
        for export in exports:
            export.progress_html = _progress_html(export)
            export.link = _download_link(export)
        context = {
            **self._context(request, survey, gettext("Report: %(title)s") % {"title": survey}),
            "report": report,
            "crosstab_form": form,
            "crosstab": table,
            "crosstab_rows": list(
                zip(table.row_labels, table.counts, table.row_totals, strict=True)
            )
            if table
            else [],
            "exports": exports,
            "exports_running": any(
                e.status in (ExportStatus.PENDING, ExportStatus.RUNNING) for e in exports
            ),
            "can_export": self.has_change_permission(request, survey),
        }
        return TemplateResponse(request, "admin/surveys/report.html", context)

    def export_view(self, request, survey_id: str, format: str):
        survey = self._visible_survey(request, survey_id)
        if not self.has_change_permission(request, survey):
            raise Http404
        actor = admin_actor(request.user, survey.community)
        try:
            with transaction.atomic():
                services.export_request(actor=actor, survey_id=survey.pk, format=format)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, gettext("The export has started."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:surveys_survey_report", args=[survey.pk]))

    def leaderboard_view(self, request, survey_id: str):
        """The quiz's whole leaderboard as CSV for the survey's moderators, with the members'
        real nicknames and membership ids (to hand out prizes, or check a draw's entrants)
        whatever they chose to show to other members."""
        survey = self._visible_survey(request, survey_id)
        if not survey.quiz_mode:
            raise Http404
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="leaderboard-{survey.pk}.csv"'
        response["Cache-Control"] = "private, no-store"
        response.write("\ufeff")  # Excel opens UTF-8 (Chinese names) only with a BOM
        writer = csv.writer(response)
        writer.writerow(
            [
                gettext("rank"),
                gettext("member"),
                gettext("membership id"),
                gettext("score"),
                gettext("maximum score"),
                gettext("started at"),
                gettext("submitted at"),
                gettext("seconds taken"),
                gettext("name shown on the leaderboard"),
            ]
        )
        with community_time(survey.community):
            for rank, entry in enumerate(quiz_leaderboard(survey=survey).iterator(), start=1):
                writer.writerow(
                    [
                        rank,
                        entry.membership.user.nickname,
                        entry.membership_id,
                        entry.score,
                        entry.max_score,
                        timezone.localtime(entry.started_at).isoformat(),
                        timezone.localtime(entry.submitted_at).isoformat(),
                        int((entry.submitted_at - entry.started_at).total_seconds()),
                        gettext("yes") if entry.show_name else gettext("no"),
                    ]
                )
        return response

    def download_view(self, request, survey_id: str, export_id: str):
        """The only way an export file leaves the server: streamed to a moderator of the
        survey's community (the storage has no URL), never cached on the way."""
        survey = self._visible_survey(request, survey_id)
        actor = admin_actor(request.user, survey.community)
        try:
            handle, name = services.export_file(
                actor=actor, survey_id=survey.pk, export_id=export_id
            )
        except DomainError as exc:  # not found, or not a moderator there
            raise Http404 from exc
        response = FileResponse(handle, as_attachment=True, filename=name)
        response["Cache-Control"] = "private, no-store"
        return response


#: Survey settings with a default that a form may leave out (an older form, a script).
_KEPT_WHEN_LEFT_OUT = ("min_group_size", "quiz_results")


def _settings(form, *, changed_only: bool) -> dict:
    """The survey settings of the admin form (only the changed ones when editing)."""
    return {
        name: form.cleaned_data[name]
        for name in services.SURVEY_FIELDS
        if name in form.cleaned_data and (not changed_only or name in form.changed_data)
    }


def _survey_call(actor, survey: Survey | None, fields: dict):
    if survey is None:
        return lambda: services.survey_create(actor=actor, **fields)
    return lambda: services.survey_update(actor=actor, survey_id=survey.pk, **fields)


def _definition_error(survey: Survey, error) -> str:
    where = []
    if error.page_id:
        where.append(gettext("page %(id)s") % {"id": error.page_id})
    if error.question_id:
        title = Question.objects.filter(pk=error.question_id).values_list("title", flat=True)
        where.append(f"「{title.first() or error.question_id}」")
    if error.field:
        where.append(error.field)
    return f"{survey.title} - {' / '.join(where)}: {error.message}"


class ChoiceInline(_ScopedInline, SortableTabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    extra = 0
    fields = ["label", "is_other", "is_row", "is_correct", "order"]


@admin.register(Question)
class QuestionAdmin(SortableAdminBase, CommunityScopedAdmin):
    """Fine editing of one question's choices (drag and drop, "other", matrix rows).
    Reached from the survey page ("change" link on a question)."""

    list_display = ["title", "type", "survey", "order"]
    list_select_related = ["survey"]
    search_fields = ["title"]
    inlines = [ChoiceInline]
    fields = ["survey", "type", "title", "required", "id"]
    readonly_fields = ["survey", "id"]
    editable_fields = ("type", "title", "required")

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        for formset in formsets:
            if isinstance(formset, ChoiceInlineFormSet):
                formset.request = request
        return formsets, inline_instances

    def _changes(self, form) -> dict:
        return {n: form.cleaned_data[n] for n in self.editable_fields if n in form.changed_data}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_self = self

        class QuestionForm(form_class):
            """Shows the refusals of ``question_update`` as form errors."""

            def clean(self):
                data = super().clean()
                changes = admin_self._changes(self)
                if obj is None or self.errors or not changes:
                    return data
                actor = admin_actor(request.user, obj.community)
                refusal = service_refusal(
                    [
                        (
                            0,
                            lambda: services.question_update(
                                actor=actor, question_id=obj.pk, **changes
                            ),
                        )
                    ]
                ).get(0)
                if refusal is not None:
                    add_refusal(self, refusal, fields={})
                return data

        return QuestionForm

    def save_model(self, request, obj, form, change):
        changes = self._changes(form)
        obj.refresh_from_db()  # the service re-reads the row: hand it the values
        if changes:
            actor = admin_actor(request.user, obj.community)
            self.run_service(
                request, services.question_update, actor=actor, question_id=obj.pk, **changes
            )
            obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        call = formset.service_call() if isinstance(formset, ChoiceInlineFormSet) else None
        if call is not None:
            self.run_service(request, call)

    def delete_model(self, request, obj):
        actor = admin_actor(request.user, obj.community)
        self.run_service(request, services.question_delete, actor=actor, question_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for question in queryset.select_related("community"):
            self.delete_model(request, question)

    def has_module_permission(self, request) -> bool:
        return False
