"""Registration forms: a survey-engine definition owned by the event, stored as JSON.

The event keeps its form as one JSON document (``Event.form``) instead of survey rows: a
sign-up form belongs to one event, is edited with it and has no life of its own (no
publishing, caps or reports), while validation and display logic are exactly the survey
engine's (``surveys.engine``). The JSON shape mirrors the engine's dataclasses::

    {"pages": [{"id": "p1", "title": "...", "condition": {...}}],   # optional
     "questions": [{"id": "q1", "type": "single_choice", "title": "...", "required": true,
                    "choices": [{"id": "a", "label": "...", "is_other": false}],
                    "rows": [...], "min_value": 1, "max_value": 9, "integer_only": true,
                    "min_length": .., "max_length": .., "pattern": "..", "pattern_message": "..",
                    "min_selections": .., "max_selections": .., "scale_min": .., "scale_max": ..,
                    "scale_labels": [...], "condition": {"match": "all", "rules": [...]},
                    "page_id": "p1"}]}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from community.errors import DomainError
from surveys.definition import condition_from_json
from surveys.engine import (
    NON_FIELD_ERRORS,
    Choice,
    Page,
    Question,
    SurveyDefinition,
    check_definition,
    clean_response,
)

_QUESTION_KEYS = {
    "id",
    "type",
    "title",
    "required",
    "choices",
    "rows",
    "min_value",
    "max_value",
    "integer_only",
    "min_length",
    "max_length",
    "pattern",
    "pattern_message",
    "min_selections",
    "max_selections",
    "scale_min",
    "scale_max",
    "scale_labels",
    "shuffle_choices",
    "condition",
    "page_id",
}
MAX_QUESTIONS = 50


def _choices(items: Any) -> tuple[Choice, ...]:
    if not isinstance(items, list):
        raise ValueError("choices and rows are lists")
    return tuple(
        Choice(str(item["id"]), str(item["label"]), bool(item.get("is_other", False)))
        for item in items
    )


def definition_from_json(data: Any) -> SurveyDefinition:
    """The engine definition of a stored or submitted form; ValueError (or KeyError,
    TypeError) when the JSON does not have the documented shape."""
    if not isinstance(data, dict) or not isinstance(data.get("questions", []), list):
        raise ValueError("a form is {'pages': [...], 'questions': [...]}")
    pages = tuple(
        Page(
            id=str(page["id"]),
            title=str(page.get("title", "")),
            condition=condition_from_json(page.get("condition")),
        )
        for page in data.get("pages") or []
    )
    questions = []
    for raw in data.get("questions") or []:
        if not isinstance(raw, dict) or set(raw) - _QUESTION_KEYS:
            raise ValueError("unknown question keys")
        values = dict(raw)
        values["id"] = str(values["id"])
        values["choices"] = _choices(values.get("choices", []))
        values["rows"] = _choices(values.get("rows", []))
        values["scale_labels"] = tuple(str(s) for s in values.get("scale_labels") or ())
        values["condition"] = condition_from_json(values.get("condition"))
        questions.append(Question(**values))
    return SurveyDefinition(pages=pages, questions=tuple(questions))


def form_clean(data: Any) -> dict | None:
    """The form to store, checked by the survey engine (structure, limits, display logic);
    a 400 ``invalid_form`` on ``form`` otherwise. An empty form is no form."""
    if not data:
        return None
    try:
        definition = definition_from_json(data)
    except (ValueError, KeyError, TypeError):
        raise DomainError(
            _("The registration form is not a valid form definition."),
            code="invalid_form",
            field="form",
        ) from None
    if len(definition.questions) > MAX_QUESTIONS:
        raise DomainError(
            _("A registration form can have at most %(n)d questions.") % {"n": MAX_QUESTIONS},
            code="invalid_form",
            field="form",
        )
    problems = check_definition(definition, gettext=_)
    if problems:
        raise DomainError(
            "; ".join(
                f"{p.question_id or p.page_id or ''}: {p.message}".lstrip(": ") for p in problems
            ),
            code="invalid_form",
            field="form",
        )
    return data


def answers_clean(form: dict | None, answers: Any) -> dict:
    """The member's answers to the event's form, validated and cleaned by the survey engine
    (every question type, required questions, display logic), as JSON to store. Errors are
    a 400 whose ``attr`` names the question (``answers.<id>``), as surveys answer."""
    if not form:
        return {}
    result = clean_response(definition_from_json(form), answers or {}, partial=False, gettext=_)
    if not result.is_valid:
        detail = {}
        for key, messages in result.errors.items():
            attr = "answers" if key == NON_FIELD_ERRORS else f"answers.{key}"
            detail[attr] = [
                ValidationError("%(message)s", code="invalid_answer", params={"message": m})
                for m in messages
            ]
        raise ValidationError(detail)
    return result.to_json()
