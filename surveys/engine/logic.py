"""Display conditions: which operators fit which question, and evaluating them in order.

Semantics of a :class:`~surveys.engine.definitions.Rule` ``(question_id, operator, value)``:

* The rule is **false** when the referenced question is hidden, unanswered or answered
  invalidly -- for every operator, so ``not_equals`` on an unanswered question is false.
* single_choice / dropdown: ``equals`` / ``not_equals`` compare the chosen choice id.
* multiple_choice: ``equals`` and ``contains`` both mean "the selection includes the
  choice id"; ``not_equals`` means "the selection does not include it".
* short_text / long_text: ``equals`` / ``not_equals`` compare the stripped text exactly
  (case-sensitive); ``contains`` is a case-sensitive substring test.
* number, rating, nps, likert, date: ``equals`` / ``not_equals`` / ``greater`` / ``less``
  compare the cleaned value numerically (dates chronologically; the rule value is
  ``YYYY-MM-DD``).
* matrix and ranking questions cannot be referenced.

Conditions may only refer to earlier questions. Visibility is decided in display order, so
a question whose source question is hidden is hidden as well (hiding cascades).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import messages as m
from .answers import EMPTY, AnswerOutcome, clean_answer, parse_date, parse_decimal
from .definitions import (
    Condition,
    Operator,
    Page,
    Question,
    QuestionType,
    Rule,
    SurveyDefinition,
)
from .messages import Message

_EQUALITY = frozenset({Operator.EQUALS, Operator.NOT_EQUALS})
_ORDERED = _EQUALITY | {Operator.GREATER, Operator.LESS}

#: Operators a rule may use, by the type of the question it refers to.
ALLOWED_OPERATORS: dict[QuestionType, frozenset[Operator]] = {
    QuestionType.SINGLE_CHOICE: _EQUALITY,
    QuestionType.DROPDOWN: _EQUALITY,
    QuestionType.MULTIPLE_CHOICE: _EQUALITY | {Operator.CONTAINS},
    QuestionType.SHORT_TEXT: _EQUALITY | {Operator.CONTAINS},
    QuestionType.LONG_TEXT: _EQUALITY | {Operator.CONTAINS},
    QuestionType.NUMBER: _ORDERED,
    QuestionType.DATE: _ORDERED,
    QuestionType.RATING: _ORDERED,
    QuestionType.NPS: _ORDERED,
    QuestionType.LIKERT: _ORDERED,
    QuestionType.MATRIX: frozenset(),
    QuestionType.RANKING: frozenset(),
}


class RuleValueError(ValueError):
    """A rule's value does not fit the referenced question; carries a :class:`Message`."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


def coerce_rule_value(question: Question, value: Any) -> Any:
    """The rule ``value`` in the form answers to ``question`` are compared with.

    Raises :class:`RuleValueError` when the value cannot be compared with such answers.
    """
    kind = question.type
    params = {"id": question.id, "value": value}
    if kind in (QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN, QuestionType.MULTIPLE_CHOICE):
        if not isinstance(value, str) or value not in {c.id for c in question.choices}:
            raise RuleValueError(Message(m.RULE_NOT_A_CHOICE, params))
        return value
    if kind in (QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT):
        if not isinstance(value, str) or not value.strip():
            raise RuleValueError(Message(m.RULE_NEEDS_TEXT, params))
        return value.strip()
    if kind == QuestionType.DATE:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        parsed = parse_date(value)
        if isinstance(parsed, str):
            raise RuleValueError(Message(m.RULE_NEEDS_DATE, params))
        return parsed
    number = parse_decimal(value)
    if kind == QuestionType.NUMBER:
        if number is None:
            raise RuleValueError(Message(m.RULE_NEEDS_NUMBER, params))
        return number
    if number is None or number != number.to_integral_value():
        raise RuleValueError(Message(m.RULE_NEEDS_WHOLE_NUMBER, params))
    return number


def _compare(question: Question, operator: Operator, answer: Any, target: Any) -> bool:
    kind = question.type
    if kind in (QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN):
        answer = answer["choice"]
    elif kind == QuestionType.MULTIPLE_CHOICE:
        selected = target in answer["choices"]
        return not selected if operator == Operator.NOT_EQUALS else selected
    if operator == Operator.EQUALS:
        return bool(answer == target)
    if operator == Operator.NOT_EQUALS:
        return bool(answer != target)
    if operator == Operator.CONTAINS:
        return target in answer
    if operator == Operator.GREATER:
        return bool(answer > target)
    return bool(answer < target)


Known = Mapping[str, tuple[Question, Any]]


def rule_holds(rule: Rule, known: Known) -> bool:
    """Whether ``rule`` holds, given the visible, validly answered questions so far."""
    entry = known.get(rule.question_id)
    if entry is None:
        return False
    question, answer = entry
    if rule.operator not in ALLOWED_OPERATORS[question.type]:
        return False
    try:
        target = coerce_rule_value(question, rule.value)
    except RuleValueError:
        return False
    return _compare(question, rule.operator, answer, target)


def condition_holds(condition: Condition | None, known: Known) -> bool:
    """Whether ``condition`` holds (no condition always holds)."""
    if condition is None:
        return True
    results = (rule_holds(rule, known) for rule in condition.rules)
    return any(results) if condition.match == "any" else all(results)


def display_order(definition: SurveyDefinition) -> list[tuple[Page | None, list[Question]]]:
    """Questions grouped by page, in page order.

    Questions without a (known) page come last, under ``None``; for a survey without pages
    that is every question, in the given order.
    """
    page_ids = {page.id for page in definition.pages}
    groups = [
        (page, [q for q in definition.questions if q.page_id == page.id])
        for page in definition.pages
    ]
    orphans = [q for q in definition.questions if q.page_id not in page_ids]
    if orphans:
        groups.append((None, orphans))
    return groups


@dataclass
class Walk:
    """Result of walking a survey in display order with a set of raw answers."""

    visible_pages: list[str] = field(default_factory=list)
    visible_questions: list[str] = field(default_factory=list)
    outcomes: dict[str, AnswerOutcome] = field(default_factory=dict)


_MISSING = object()


def walk(definition: SurveyDefinition, answers: Mapping[str, Any]) -> Walk:
    """Decide visibility question by question and clean each answer on the way.

    Only visible questions with a valid answer feed later conditions (shortfalls such as
    "too few selections" do not matter here, so drafts and submissions agree).
    """
    result = Walk()
    known: dict[str, tuple[Question, Any]] = {}
    for page, questions in display_order(definition):
        page_visible = page is None or condition_holds(page.condition, known)
        if page is not None and page_visible:
            result.visible_pages.append(page.id)
        for question in questions:
            visible = page_visible and condition_holds(question.condition, known)
            raw = answers.get(question.id, _MISSING)
            if raw is not _MISSING:
                outcome = clean_answer(question, raw)
                result.outcomes[question.id] = outcome
                if visible and outcome.value is not EMPTY and not outcome.errors:
                    known[question.id] = (question, outcome.value)
            if visible:
                result.visible_questions.append(question.id)
    return result
