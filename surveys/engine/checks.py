"""Checking a survey definition before it is published (used by the admin)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from . import messages as m
from .definitions import (
    CHOICE_TYPES,
    TEXT_TYPES,
    Condition,
    Page,
    Question,
    QuestionType,
    SurveyDefinition,
)
from .logic import ALLOWED_OPERATORS, RuleValueError, coerce_rule_value, display_order
from .messages import Gettext, Message, no_translation


@dataclass(frozen=True)
class DefinitionError:
    """One problem in a definition: where it is (question and/or page, and the field)."""

    message: str
    question_id: str | None = None
    page_id: str | None = None
    field: str | None = None


class _Report:
    def __init__(self, gettext: Gettext) -> None:
        self.gettext = gettext
        self.errors: list[DefinitionError] = []

    def add(
        self,
        msgid: str,
        *,
        question: str | None = None,
        page: str | None = None,
        field: str | None = None,
        **params: Any,
    ) -> None:
        message = Message(msgid, params).render(self.gettext)
        self.errors.append(DefinitionError(message, question, page, field))

    def add_message(self, message: Message, **where: str | None) -> None:
        self.add(message.msgid, **where, **message.params)


def _duplicates(ids: list[str]) -> list[str]:
    return [item for item, count in Counter(ids).items() if count > 1]


def _check_structure(definition: SurveyDefinition, report: _Report) -> None:
    for page_id in _duplicates([page.id for page in definition.pages]):
        report.add(m.DUPLICATE_PAGE_ID, page=page_id, field="id", id=page_id)
    for question_id in _duplicates([q.id for q in definition.questions]):
        report.add(m.DUPLICATE_QUESTION_ID, question=question_id, field="id", id=question_id)
    page_index = {page.id: index for index, page in enumerate(definition.pages)}
    last_index = 0
    order_reported = False
    for question in definition.questions:
        if question.page_id is None:
            if definition.pages:
                report.add(m.MISSING_PAGE, question=question.id, field="page_id")
        elif question.page_id not in page_index:
            report.add(m.UNKNOWN_PAGE, question=question.id, field="page_id", id=question.page_id)
        elif page_index[question.page_id] < last_index and not order_reported:
            report.add(m.PAGE_ORDER, question=question.id, field="page_id")
            order_reported = True
        else:
            last_index = page_index[question.page_id]


def _check_choices(question: Question, report: _Report) -> None:
    where = {"question": question.id, "field": "choices"}
    if not question.choices:
        report.add(m.NO_CHOICES, **where)
    for choice_id in _duplicates([c.id for c in question.choices]):
        report.add(m.DUPLICATE_CHOICE_ID, **where, id=choice_id)
    others = sum(1 for c in question.choices if c.is_other)
    if question.type == QuestionType.RANKING and others:
        report.add(m.RANKING_OTHER_CHOICE, **where)
    elif others > 1:
        report.add(m.SEVERAL_OTHER_CHOICES, **where)
    if question.type not in (QuestionType.MULTIPLE_CHOICE, QuestionType.RANKING):
        return
    low, high = question.min_selections, question.max_selections
    for name, limit in (("min_selections", low), ("max_selections", high)):
        if limit is not None and limit < 1:
            report.add(m.SELECTION_LIMIT_TOO_LOW, question=question.id, field=name)
    if low is not None and high is not None and low > high:
        report.add(m.SELECTIONS_INVERTED, question=question.id, field="min_selections")
    elif low is not None and question.choices and low > len(question.choices):
        report.add(m.SELECTIONS_UNREACHABLE, question=question.id, field="min_selections")


def _check_text(question: Question, report: _Report) -> None:
    low, high = question.min_length, question.max_length
    if (low is not None and low < 0) or (high is not None and high < 0):
        report.add(m.LENGTH_NEGATIVE, question=question.id, field="min_length")
    elif low is not None and low > question.effective_max_length:
        report.add(m.LENGTHS_INVERTED, question=question.id, field="min_length")


def _check_question(question: Question, report: _Report) -> None:
    kind = question.type
    if kind in CHOICE_TYPES:
        _check_choices(question, report)
    if kind == QuestionType.MATRIX:
        if not question.rows:
            report.add(m.NO_ROWS, question=question.id, field="rows")
        for row_id in _duplicates([row.id for row in question.rows]):
            report.add(m.DUPLICATE_ROW_ID, question=question.id, field="rows", id=row_id)
    if kind in (QuestionType.LIKERT, QuestionType.MATRIX) and len(question.scale_labels) == 1:
        report.add(m.SCALE_LABELS_TOO_FEW, question=question.id, field="scale_labels")
    if kind == QuestionType.RATING:
        low, high = question.scale_range
        if low >= high:
            report.add(m.SCALE_INVERTED, question=question.id, field="scale_min")
    if kind == QuestionType.NUMBER:
        low_value, high_value = question.min_value, question.max_value
        if low_value is not None and high_value is not None and low_value > high_value:
            report.add(m.VALUES_INVERTED, question=question.id, field="min_value")
    if kind in TEXT_TYPES:
        _check_text(question, report)
    if question.pattern:
        if kind != QuestionType.SHORT_TEXT:
            report.add(m.PATTERN_NOT_SHORT_TEXT, question=question.id, field="pattern")
        else:
            try:
                re.compile(question.pattern)
            except re.error as exc:
                report.add(m.INVALID_PATTERN, question=question.id, field="pattern", error=exc)


class _References:
    """Where each question and page sits, for spotting forward references."""

    def __init__(self, definition: SurveyDefinition) -> None:
        self.questions = definition.question_map()
        self.position: dict[str, int] = {}
        for _page, group in display_order(definition):
            for question in group:
                self.position.setdefault(question.id, len(self.position))
        self.page_index = {page.id: index for index, page in enumerate(definition.pages)}

    def page_of(self, question: Question) -> int:
        """Index of the question's page; questions without a known page count as last."""
        if question.page_id is None:
            return len(self.page_index)
        return self.page_index.get(question.page_id, len(self.page_index))


def _check_condition(
    condition: Condition,
    refs: _References,
    report: _Report,
    *,
    owner: Question | None = None,
    page: Page | None = None,
) -> None:
    """Check references, operators and values of a question's or a page's condition."""
    where: dict[str, Any] = {
        "question": owner.id if owner else None,
        "page": page.id if page else None,
        "field": "condition",
    }
    if not condition.rules:
        report.add(m.EMPTY_CONDITION, **where)
    for rule in condition.rules:
        ref = refs.questions.get(rule.question_id)
        if ref is None:
            report.add(m.RULE_UNKNOWN_QUESTION, **where, id=rule.question_id)
            continue
        if owner is not None and ref.id == owner.id:
            report.add(m.RULE_SELF_REFERENCE, **where)
            continue
        if owner is not None and refs.position[ref.id] > refs.position[owner.id]:
            report.add(m.RULE_FORWARD_REFERENCE, **where, id=ref.id)
            continue
        if page is not None and refs.page_of(ref) >= refs.page_index[page.id]:
            report.add(m.RULE_PAGE_FORWARD_REFERENCE, **where, id=ref.id)
            continue
        if rule.operator not in ALLOWED_OPERATORS[ref.type]:
            report.add(
                m.RULE_BAD_OPERATOR, **where, operator=rule.operator, id=ref.id, type=ref.type
            )
            continue
        try:
            coerce_rule_value(ref, rule.value)
        except RuleValueError as exc:
            report.add_message(exc.message, **where)


def check_definition(
    definition: SurveyDefinition, *, gettext: Gettext = no_translation
) -> list[DefinitionError]:
    """All problems that would make ``definition`` unusable or its conditions unreliable.

    Rejects duplicate ids, questions on missing pages or out of page order, choice
    questions without choices or with duplicate choice ids, inverted or impossible limits,
    invalid regular expressions, and conditions that refer to unknown, the same or later
    questions (so circular references are impossible), use an operator that makes no sense
    for the referenced type, or compare with a value that does not fit it (e.g. a choice
    id the referenced question does not have). An empty list means the definition is OK.
    """
    report = _Report(gettext)
    _check_structure(definition, report)
    for question in definition.questions:
        _check_question(question, report)
    refs = _References(definition)
    for page in definition.pages:
        if page.condition is not None:
            _check_condition(page.condition, refs, report, page=page)
    for question in definition.questions:
        if question.condition is not None:
            _check_condition(question.condition, refs, report, owner=question)
    return report.errors
