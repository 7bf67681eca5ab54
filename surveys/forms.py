"""Admin forms for authoring surveys: questions with "one choice per line", JSON logic
validated by the engine when the survey is saved.

The forms only translate: every write is a call of ``surveys.services`` (see
``SurveyAdmin.save_formset``), and every rule of those services shows as a form error because
each formset runs its calls once in a savepoint that is rolled back (:func:`service_refusal`).
"""

from __future__ import annotations

import json

from adminsortable2.admin import CustomInlineFormSet
from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from community.authz import admin_actor
from community.errors import DomainError
from surveys.definition import condition_from_json
from surveys.engine import Choice as EngineChoice
from surveys.engine import Page as EnginePage
from surveys.engine import Question as EngineQuestion
from surveys.engine import QuestionType, SurveyDefinition, check_definition
from surveys.models import Page, Question
from surveys.services import (
    QUESTION_FIELDS,
    ChoiceSpec,
    choice_sync,
    page_create,
    page_delete,
    page_update,
    question_create,
    question_delete,
    question_update,
)

OTHER_PREFIX = "+"
#: Marks a quiz question's correct choice ("*北京", "*+其他").
CORRECT_PREFIX = "*"


def parse_lines(text: str) -> list[tuple[str, bool]]:
    """``(label, is_other)`` per non-empty line; a line starting with ``+`` is an "other"
    choice that comes with a text field."""
    result = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        is_other = line.startswith(OTHER_PREFIX)
        label = line[1:].strip() if is_other else line
        if label:
            result.append((label[:200], is_other))
    return result


def parse_choice_lines(text: str) -> list[tuple[str, bool, bool]]:
    """``(label, is_other, is_correct)`` per non-empty line: :func:`parse_lines`, where a line
    may also start with ``*`` to mark a correct choice of a quiz question."""
    result = []
    for line in (text or "").splitlines():
        line = line.strip()
        is_correct = line.startswith(CORRECT_PREFIX)
        if is_correct:
            line = line[1:]
        result += [(label, is_other, is_correct) for label, is_other in parse_lines(line)]
    return result


def _lines(choices) -> str:
    return "\n".join(
        (CORRECT_PREFIX if getattr(c, "is_correct", False) and not c.is_row else "")
        + (f"{OTHER_PREFIX}{c.label}" if c.is_other else c.label)
        for c in choices
    )


class ConditionField(forms.CharField):
    """A display condition as JSON; checked for shape here and for meaning by the engine."""

    #: ``data-condition-builder``: the survey form's script draws the visual builder over it
    #: (``surveys/static/surveys/admin/survey_form.js``) and writes the same JSON into it.
    widget = forms.Textarea(
        attrs={"rows": 3, "cols": 60, "class": "vLargeTextField", "data-condition-builder": "1"}
    )

    def to_python(self, value):
        value = super().to_python(value)
        if not value or not value.strip():
            return None
        try:
            data = json.loads(value)
            condition_from_json(data)
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                gettext(
                    'Write the condition as {"match": "all", "rules": [{"question_id": "...", '
                    '"operator": "equals", "value": "..."}]} (%(error)s).'
                )
                % {"error": exc}
            ) from exc
        return data

    def prepare_value(self, value):
        if value is None or isinstance(value, str):
            return value or ""
        return json.dumps(value, ensure_ascii=False)


class QuestionInlineForm(forms.ModelForm):
    """A question with its choices (or matrix rows) edited as lines of text; existing
    choices keep their ids when their label is kept, so logic that refers to them survives."""

    choices_text = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 30}),
        help_text=_(
            "One per line. Start a line with + for an 'other' choice with a text field. Quiz: "
            "start the correct choice's line with *."
        ),
    )
    rows_text = forms.CharField(
        label=_("Matrix rows"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 30}),
        help_text=_("Matrix questions: one row per line."),
    )
    condition = ConditionField(
        label=_("Display condition"),
        required=False,
        help_text=_(
            "Optional: show the question only when these rules hold. Pick an earlier saved "
            "question, an operator and a value. Without JavaScript, write it as JSON, e.g. "
            '{"match": "all", "rules": [{"question_id": "ID OF AN EARLIER QUESTION", '
            '"operator": "equals", "value": "CHOICE ID"}]} (ids are listed on the preview page).'
        ),
    )
    scale_labels_text = forms.CharField(
        label=_("Scale labels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 20}),
        help_text=_("Likert and matrix: one label per line (default 5 points)."),
    )

    class Meta:
        model = Question
        fields = [
            "page",
            "type",
            "title",
            "description",
            "required",
            "choices_text",
            "rows_text",
            "condition",
            "shuffle_choices",
            "min_selections",
            "max_selections",
            "min_length",
            "max_length",
            "pattern",
            "pattern_message",
            "min_value",
            "max_value",
            "integer_only",
            "scale_min",
            "scale_max",
            "scale_labels_text",
            "order",
            "quiz_points",
            "quiz_answer",
            "quiz_explanation",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2, "cols": 40}),
            "quiz_answer": forms.Textarea(attrs={"rows": 2, "cols": 30}),
            "quiz_explanation": forms.Textarea(attrs={"rows": 2, "cols": 40}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quiz_points"].required = False  # left out (not a quiz): 0
        if self.instance.pk:
            all_choices = list(self.instance.choices.all())
            self.fields["choices_text"].initial = _lines(c for c in all_choices if not c.is_row)
            self.fields["rows_text"].initial = _lines(c for c in all_choices if c.is_row)
            self.fields["scale_labels_text"].initial = "\n".join(self.instance.scale_labels or [])

    def clean(self):
        data = super().clean()
        if "quiz_points" in data and data["quiz_points"] is None:
            data["quiz_points"] = self.instance.quiz_points or 0
        data["scale_labels"] = [label for label, _o in parse_lines(data.get("scale_labels_text"))]
        self.instance.scale_labels = data["scale_labels"]
        return data

    def planned_choices(self) -> list[ChoiceSpec]:
        """The wanted choices then matrix rows, in order, matching kept labels to existing
        choices (so they keep their ids, their answers and the logic that refers to them)."""
        existing = list(self.instance.choices.all()) if self.instance.pk else []
        plan = []
        for is_row, field in ((False, "choices_text"), (True, "rows_text")):
            pool: dict[str, list] = {}
            for choice in existing:
                if choice.is_row == is_row:
                    pool.setdefault(choice.label, []).append(choice)
            for label, is_other, is_correct in parse_choice_lines(self.cleaned_data.get(field, "")):
                match = pool.get(label)
                plan.append(
                    ChoiceSpec(
                        match.pop(0).id if match else None,
                        label,
                        is_other and not is_row,
                        is_row,
                        is_correct and not is_row,
                    )
                )
        return plan

    def choices_changed(self) -> bool:
        return bool({"choices_text", "rows_text"} & set(self.changed_data))

    def service_call(self, actor, survey_id: str):
        """The service call that saves this form (None when there is nothing to do)."""
        data = self.cleaned_data
        if data.get("DELETE"):
            if self.instance._state.adding:
                return None
            return lambda: question_delete(actor=actor, question_id=self.instance.pk)
        names = [n for n in QUESTION_FIELDS if n in self.fields or n == "scale_labels"]
        if self.instance._state.adding:
            if not self.has_changed():
                return None
            fields = {n: data.get(n) for n in names if n not in ("type", "title")}
            fields["order"] = data.get("order") or None
            return lambda: question_create(
                actor=actor,
                survey_id=survey_id,
                type=data["type"],
                title=data["title"],
                choices=self.planned_choices(),
                **fields,
            )
        changed = set(self.changed_data)
        if "scale_labels_text" in changed:
            changed.add("scale_labels")
        changes = {n: data.get(n) for n in names if n in changed}
        choices = self.planned_choices() if self.choices_changed() else None
        if not changes and choices is None:
            return None
        return lambda: question_update(
            actor=actor, question_id=self.instance.pk, choices=choices, **changes
        )


class _DryRun(Exception):
    """Raised to roll back the savepoint of :func:`service_refusal`."""


def service_refusal(calls) -> dict[int, DomainError]:
    """Run service calls (``[(key, call), ...]``) in one savepoint that is always rolled back,
    each in its own nested savepoint: the ``DomainError`` each would raise, by key. So a form
    shows every rule of the services before anything is saved."""
    refusals: dict[int, DomainError] = {}
    try:
        with transaction.atomic():
            for key, call in calls:
                try:
                    with transaction.atomic():
                        call()
                except DomainError as exc:
                    refusals[key] = exc
            raise _DryRun
    except _DryRun:
        pass
    return refusals


def add_refusal(form: forms.BaseForm, error: DomainError, *, fields: dict[str, str]) -> bool:
    """Show a service's refusal on the form's field (``fields`` maps service fields to form
    fields); False when the form cannot show it (a deleted inline form)."""
    if getattr(form, "cleaned_data", {}).get("DELETE"):
        return False
    field = fields.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.message)
    return True


class _ActingFormSet(CustomInlineFormSet):
    """An inline formset whose writes are service calls made as the staff user's membership
    in the parent object's community (``request`` is set by the admin)."""

    request = None

    @property
    def actor(self):
        community_id = getattr(self.instance, "community_id", None)
        if self.request is None or not community_id:
            return None
        return admin_actor(self.request.user, self.instance.community)


class ServiceFormSet(_ActingFormSet):
    """An inline formset of a survey saved through the surveys services, form by form;
    :meth:`clean` tries every call first (see :func:`service_refusal`)."""

    field_map: dict[str, str] = {}

    def service_calls(self):
        """``[(form index, call), ...]`` in the order they must run."""
        actor = self.actor
        if actor is None or self.instance._state.adding:
            return []
        calls = []
        for index, form in enumerate(self.forms):
            if not getattr(form, "cleaned_data", None):
                continue
            call = form.service_call(actor, self.instance.pk)
            if call is not None:
                calls.append((index, call))
        return calls

    def clean(self):
        super().clean()
        if any(self.errors) or self.non_form_errors():
            return
        leftovers = []
        for index, error in service_refusal(self.service_calls()).items():
            if not add_refusal(self.forms[index], error, fields=self.field_map):
                leftovers.append(error.message)
        if leftovers:
            raise forms.ValidationError(leftovers)


class PageInlineForm(forms.ModelForm):
    """A page of the survey, saved through ``page_create/update/delete``."""

    class Meta:
        model = Page
        fields = ["title", "description", "condition", "order"]

    def service_call(self, actor, survey_id: str):
        data = self.cleaned_data
        if data.get("DELETE"):
            if self.instance._state.adding:
                return None
            return lambda: page_delete(actor=actor, page_id=self.instance.pk)
        fields = {n: data.get(n) for n in self._meta.fields if n in self.fields}
        if self.instance._state.adding:
            if not self.has_changed():
                return None
            return lambda: page_create(actor=actor, survey_id=survey_id, **fields)
        changes = {n: v for n, v in fields.items() if n in self.changed_data}
        if not changes:
            return None
        return lambda: page_update(actor=actor, page_id=self.instance.pk, **changes)


class PageInlineFormSet(ServiceFormSet):
    pass


class QuestionInlineFormSet(ServiceFormSet):
    """Rejects display logic that refers to unknown, later or the same questions (so no
    cycles), uses an operator that does not fit, or compares with a value the referenced
    question cannot have -- when the survey is saved, not only when it is published."""

    field_map = {"choices": "choices_text", "scale_labels": "scale_labels_text"}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Only this survey's pages (a new survey has none yet: save it, then add pages).
        if "page" in form.fields:
            survey = self.instance
            form.fields["page"].queryset = (
                Page.objects.filter(community_id=survey.community_id, survey=survey)
                if survey.pk
                else Page.objects.none()
            )

    #: The page formset of the same admin form (set by ``SurveyAdmin``), so page conditions
    #: edited in the same request are checked against the questions edited with them.
    page_formset = None

    def _pages(self) -> tuple[list[Page], dict]:
        """This survey's saved pages with the page conditions as submitted now, and the page
        forms by page id (to attach errors to)."""
        pages = list(Page.objects.filter(survey_id=self.instance.pk)) if self.instance.pk else []
        page_forms = {}
        if self.page_formset is not None and self.page_formset.is_valid():
            by_id = {p.id: p for p in pages}
            for form in self.page_formset.forms:
                data = getattr(form, "cleaned_data", None) or {}
                page = by_id.get(form.instance.pk)
                if page is None:
                    continue  # a new page: no question can be on it yet
                if data.get("DELETE"):
                    pages.remove(page)
                    continue
                page.condition = data.get("condition", page.condition)
                page_forms[page.id] = form
        return pages, page_forms

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        pages, page_forms = self._pages()
        page_order = {p.id: i for i, p in enumerate(pages)}
        entries = []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("type"):
                continue
            qid = form.instance.pk or f"new-{index}"
            choices, rows = [], []
            for choice_id, label, is_other, is_row, _correct in form.planned_choices():
                target = rows if is_row else choices
                target.append(
                    EngineChoice(choice_id or f"{qid}:{label}", label, is_other and not is_row)
                )
            page = data.get("page")
            question = EngineQuestion(
                id=qid,
                type=QuestionType(data["type"]),
                title=data.get("title") or "",
                choices=tuple(choices),
                rows=tuple(rows),
                scale_min=data.get("scale_min"),
                scale_max=data.get("scale_max"),
                scale_labels=tuple(data.get("scale_labels") or ()),
                condition=condition_from_json(data.get("condition")),
                page_id=page.id if page and pages else None,
            )
            order = data.get("order") or 10**6 + index
            entries.append(((page_order.get(question.page_id, len(pages)), order), question, form))
        entries.sort(key=lambda e: e[0])
        definition = SurveyDefinition(
            pages=tuple(EnginePage(p.id, p.title, condition_from_json(p.condition)) for p in pages),
            questions=tuple(question for _key, question, _form in entries),
        )
        forms_by_id = {question.id: form for _key, question, form in entries}
        page_errors = []
        for error in check_definition(definition, gettext=gettext):
            if error.field != "condition":
                continue
            if error.question_id in forms_by_id:
                forms_by_id[error.question_id].add_error("condition", error.message)
            elif error.page_id in page_forms:
                page_forms[error.page_id].add_error("condition", error.message)
                page_errors.append(error.message)
        if page_errors:
            # The page formset was validated before this one; failing here too stops the save.
            raise forms.ValidationError(page_errors)


class ChoiceInlineFormSet(_ActingFormSet):
    """The choices of one question (question admin page), saved by one ``choice_sync`` call
    with the whole list in its drag-and-drop order."""

    def planned_choices(self) -> list[ChoiceSpec]:
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and (not form.instance._state.adding or form.has_changed())
        ]
        kept.sort(key=lambda form: form.cleaned_data.get("order") or 0)
        return [
            ChoiceSpec(
                None if form.instance._state.adding else form.instance.pk,
                form.cleaned_data.get("label") or "",
                bool(form.cleaned_data.get("is_other")),
                bool(form.cleaned_data.get("is_row")),
                bool(form.cleaned_data.get("is_correct")),
            )
            for form in kept
        ]

    def has_changed(self) -> bool:
        return any(form.has_changed() for form in self.forms)

    def service_call(self):
        actor = self.actor
        if actor is None or self.instance._state.adding or not self.has_changed():
            return None
        plan = self.planned_choices()
        return lambda: choice_sync(actor=actor, question_id=self.instance.pk, choices=plan)

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        call = self.service_call()
        refusal = service_refusal([(0, call)] if call else []).get(0)
        if refusal is not None:
            raise forms.ValidationError(refusal.message)


class CrossTabForm(forms.Form):
    """Pick two questions for a cross-tab on the report page."""

    rows = forms.ChoiceField(label=_("Rows"))
    columns = forms.ChoiceField(label=_("Columns"))

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(q.id, q.title) for q in questions]
        self.fields["rows"].choices = choices
        self.fields["columns"].choices = choices
