"""Validating a whole response (all answers of one respondent) against a definition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import messages as m
from .answers import EMPTY, to_json_value
from .definitions import SurveyDefinition
from .logic import walk
from .messages import Gettext, Message, no_translation

#: Error key used when the answers as a whole are malformed (Django's NON_FIELD_ERRORS).
NON_FIELD_ERRORS = "__all__"


@dataclass(frozen=True)
class CleanResult:
    """Outcome of :func:`clean_response`.

    ``values`` maps question id to the cleaned Python value (``Decimal`` for numbers,
    ``datetime.date`` for dates, see the package docstring) for every visible question
    answered without errors. ``errors`` maps a question id (or an unknown key from the
    input, or ``"__all__"``) to rendered messages.
    """

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        """True when there are no errors."""
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """``values`` in JSON-serialisable form; feeding it back to ``clean_response``
        gives the same values."""
        return {key: to_json_value(value) for key, value in self.values.items()}


def clean_response(
    definition: SurveyDefinition,
    answers: Mapping[str, Any],
    *,
    partial: bool,
    gettext: Gettext = no_translation,
) -> CleanResult:
    """Validate and clean ``answers`` (question id -> raw JSON answer).

    ``partial=True`` (draft save): answers may be incomplete -- missing required answers
    and shortfalls (too few selections, too short, unranked options, unanswered matrix
    rows, missing "other" text) are accepted, and answers to hidden questions are dropped
    silently. ``partial=False`` (submit): all of those are errors; an answer to a hidden
    question is an error too. Wrong answers (bad type or format, unknown choice, too long,
    out of range, ...) and unknown question ids are errors in both modes.

    Messages are passed through ``gettext`` and then formatted. Never raises for
    JSON-like input.
    """
    if not isinstance(answers, Mapping):
        return CleanResult(
            errors={NON_FIELD_ERRORS: [Message(m.ANSWERS_NOT_OBJECT).render(gettext)]}
        )
    question_ids = {question.id for question in definition.questions}
    errors: dict[str, list[Message]] = {
        str(key): [Message(m.UNKNOWN_QUESTION)] for key in answers if key not in question_ids
    }
    values: dict[str, Any] = {}
    result = walk(definition, answers)
    visible = set(result.visible_questions)
    seen: set[str] = set()
    for question in definition.questions:
        if question.id in seen:
            continue  # duplicate id in a broken definition
        seen.add(question.id)
        outcome = result.outcomes.get(question.id)
        if question.id not in visible:
            if outcome is not None and outcome.answered and not partial:
                errors[question.id] = [Message(m.HIDDEN_QUESTION)]
            continue
        if outcome is not None and outcome.errors:
            errors[question.id] = list(outcome.errors)
        elif outcome is not None and outcome.value is not EMPTY:
            if outcome.shortfalls and not partial:
                errors[question.id] = list(outcome.shortfalls)
            else:
                values[question.id] = outcome.value
        elif question.required and not partial:
            errors[question.id] = [Message(m.REQUIRED)]
    return CleanResult(
        values=values,
        errors={key: [msg.render(gettext) for msg in msgs] for key, msgs in errors.items()},
    )


def visible_question_ids(definition: SurveyDefinition, answers: Mapping[str, Any]) -> set[str]:
    """Ids of the questions shown for ``answers`` (page and own condition both hold)."""
    if not isinstance(answers, Mapping):
        answers = {}
    return set(walk(definition, answers).visible_questions)


def visible_page_ids(definition: SurveyDefinition, answers: Mapping[str, Any]) -> list[str]:
    """Ids of the pages shown for ``answers``, in page order."""
    if not isinstance(answers, Mapping):
        answers = {}
    return walk(definition, answers).visible_pages
