"""What the survey form's script (``surveys/static/surveys/admin/survey_form.js``) needs: the
saved questions a display condition may refer to, the operators each question type allows (the
engine's own table), their labels, the builder's texts -- translated here, so the script has no
words of its own -- and which fields of a question apply to which type."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from surveys.definition import definition_for
from surveys.engine import QuestionType
from surveys.engine.definitions import CHOICE_TYPES, SCALE_TYPES, TEXT_TYPES
from surveys.engine.logic import ALLOWED_OPERATORS
from surveys.models import OPERATOR_LABELS, Survey

#: The fields of the question form that apply to some question types only (the others apply to
#: every type); the form shows each for these types only.
QUESTION_TYPE_FIELDS: dict[str, frozenset[QuestionType]] = {
    "choices_text": CHOICE_TYPES,
    "shuffle_choices": CHOICE_TYPES,
    "min_selections": frozenset({QuestionType.MULTIPLE_CHOICE, QuestionType.RANKING}),
    "max_selections": frozenset({QuestionType.MULTIPLE_CHOICE, QuestionType.RANKING}),
    "min_length": TEXT_TYPES,
    "max_length": TEXT_TYPES,
    "pattern": frozenset({QuestionType.SHORT_TEXT}),
    "pattern_message": frozenset({QuestionType.SHORT_TEXT}),
    "min_value": frozenset({QuestionType.NUMBER}),
    "max_value": frozenset({QuestionType.NUMBER}),
    "integer_only": frozenset({QuestionType.NUMBER}),
    "scale_min": frozenset({QuestionType.RATING}),
    "scale_max": frozenset({QuestionType.RATING}),
    "scale_labels_text": frozenset({QuestionType.LIKERT, QuestionType.MATRIX}),
    "rows_text": frozenset({QuestionType.MATRIX}),
    # quiz mode: accepted answers are written for these types; choice questions mark theirs
    "quiz_answer": frozenset({QuestionType.NUMBER, QuestionType.SHORT_TEXT}),
}

#: Types whose rule value is a number (the builder offers a number input and writes a number).
NUMERIC_TYPES = frozenset({QuestionType.NUMBER, *SCALE_TYPES})


def _texts() -> dict[str, str]:
    return {
        "show_when": gettext("Show when"),
        "match": gettext("How the rules combine"),
        "match_all": gettext("all of these rules hold"),
        "match_any": gettext("any of these rules holds"),
        "question": gettext("Question"),
        "operator": gettext("Operator"),
        "value": gettext("Value"),
        "pick_question": gettext("Pick an earlier question"),
        "pick_choice": gettext("Pick a choice"),
        "add_rule": gettext("Add a rule"),
        "remove": gettext("Remove"),
        "show_json": gettext("Show JSON"),
        "always": gettext("Always shown (no rules)."),
        "nothing_before": gettext(
            "Always shown: there is no earlier saved question to refer to yet (save new "
            "questions first)."
        ),
    }


def survey_form_data(survey: Survey | None, *, question_prefix: str, page_prefix: str) -> dict:
    """The survey form script's data for ``survey`` (None on the add page: nothing saved)."""
    questions: list[dict[str, Any]] = []
    pages: list[str] = []
    if survey is not None and survey.pk:
        definition = definition_for(survey)
        pages = [page.id for page in definition.pages]
        questions = [
            {
                "id": q.id,
                "title": q.title,
                "type": str(q.type),
                "page_id": q.page_id,
                "choices": [{"id": c.id, "label": c.label} for c in q.choices],
            }
            for q in definition.questions
        ]
    return {
        "questions": questions,
        "pages": pages,
        "question_prefix": question_prefix,
        "page_prefix": page_prefix,
        "operators": {
            str(kind): [code for code in OPERATOR_LABELS if code in allowed]
            for kind, allowed in ALLOWED_OPERATORS.items()
        },
        "operator_labels": {code: str(label) for code, label in OPERATOR_LABELS.items()},
        "numeric_types": sorted(str(kind) for kind in NUMERIC_TYPES),
        "type_fields": {
            field: sorted(str(kind) for kind in kinds)
            for field, kinds in QUESTION_TYPE_FIELDS.items()
        },
        "texts": _texts(),
    }
