"""Per-type validation and cleaning of one answer.

:func:`clean_answer` never raises for JSON-like input. It separates *errors* (the answer
is wrong: bad type, unknown choice, too long, out of range, ...) from *shortfalls* (the
answer is not finished yet: too few selections, too short, unranked options, unanswered
matrix rows, missing "other" text). Drafts may have shortfalls; submissions may not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from . import messages as m
from .definitions import OTHER_TEXT_MAX_LENGTH, Choice, Question, QuestionType
from .messages import Message

#: Numbers may have at most this many digits (integer and fraction digits together).
MAX_NUMBER_DIGITS = 20
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,6})?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class _Empty:
    """Marker for "no answer" (distinct from a falsy answer such as 0)."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Any = _Empty()


@dataclass
class AnswerOutcome:
    """Result of cleaning one raw answer.

    ``value`` is the cleaned value, or ``EMPTY`` when there is no answer or ``errors`` is
    non-empty. ``shortfalls`` only accompany a cleaned value.
    """

    value: Any = EMPTY
    errors: list[Message] = field(default_factory=list)
    shortfalls: list[Message] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """Whether the respondent gave anything other than an empty answer."""
        return self.value is not EMPTY or bool(self.errors)


def _error(msgid: str, **params: Any) -> AnswerOutcome:
    return AnswerOutcome(errors=[Message(msgid, params)])


# --- shared parsers (also used for condition values) ----------------------------------
def as_integer(raw: Any) -> int | None:
    """``raw`` as an int if it is a whole JSON number (bools are not numbers)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    return None


def parse_decimal(raw: Any) -> Decimal | None:
    """``raw`` (int, float, Decimal or numeric string) as a finite Decimal, else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw)) if math.isfinite(raw) else None
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > 64 or not _NUMBER_RE.fullmatch(text):
            return None
        try:
            return Decimal(text)
        except (InvalidOperation, ValueError):
            return None
    return None


def digit_count(number: Decimal) -> int:
    """Digits needed to write ``number`` in plain notation (at least one before the point)."""
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite numbers only
    integer_digits = max(len(digits) + exponent, 1)
    fraction_digits = max(-exponent, 0)
    return integer_digits + fraction_digits


def parse_date(raw: Any) -> date | str:
    """A ``YYYY-MM-DD`` string as a date; otherwise the msgid of the problem."""
    if not isinstance(raw, str) or not _DATE_RE.fullmatch(raw.strip()):
        return m.DATE_FORMAT
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return m.DATE_INVALID


def _text_problem(text: str) -> str | None:
    """Characters PostgreSQL cannot store in text/jsonb: NUL and lone surrogates."""
    if "\x00" in text:
        return m.UNSUPPORTED_CHARACTERS
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return m.UNSUPPORTED_CHARACTERS
    return None


# --- per type -------------------------------------------------------------------------
def _clean_other_text(choice: Choice, raw: Any, outcome: AnswerOutcome) -> str | None:
    """Validate the free text of an ``is_other`` choice; ignored for other choices."""
    if not choice.is_other:
        return None
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        outcome.errors.append(Message(m.INVALID_FORMAT))
        return None
    text = raw.strip()
    if problem := _text_problem(text):
        outcome.errors.append(Message(problem))
    elif len(text) > OTHER_TEXT_MAX_LENGTH:
        outcome.errors.append(Message(m.MAX_LENGTH, {"max": OTHER_TEXT_MAX_LENGTH}))
    elif not text:
        outcome.shortfalls.append(Message(m.OTHER_TEXT_REQUIRED))
    return text or None


def _clean_single(question: Question, raw: Any) -> AnswerOutcome:
    if not isinstance(raw, Mapping) or not set(raw) <= {"choice", "other_text"}:
        return _error(m.INVALID_FORMAT)
    choice_id = raw.get("choice")
    if choice_id is None:
        return AnswerOutcome()
    if not isinstance(choice_id, str):
        return _error(m.INVALID_FORMAT)
    choice = next((c for c in question.choices if c.id == choice_id), None)
    if choice is None:
        return _error(m.UNKNOWN_CHOICE)
    outcome = AnswerOutcome()
    other_text = _clean_other_text(choice, raw.get("other_text"), outcome)
    if not outcome.errors:
        outcome.value = {"choice": choice.id}
        if other_text:
            outcome.value["other_text"] = other_text
    return outcome


def _clean_multiple(question: Question, raw: Any) -> AnswerOutcome:
    if not isinstance(raw, Mapping) or not set(raw) <= {"choices", "other_text"}:
        return _error(m.INVALID_FORMAT)
    selected = raw.get("choices")
    if selected is None:
        return AnswerOutcome()
    if not isinstance(selected, list) or not all(isinstance(c, str) for c in selected):
        return _error(m.INVALID_FORMAT)
    if not selected:
        return AnswerOutcome()
    by_id = {c.id: c for c in question.choices}
    if any(c not in by_id for c in selected):
        return _error(m.UNKNOWN_CHOICE)
    if len(set(selected)) != len(selected):
        return _error(m.DUPLICATE_SELECTION)
    limit = question.max_selections
    if limit is not None and len(selected) > limit:
        return _error(m.MAX_SELECTIONS_ONE) if limit == 1 else _error(m.MAX_SELECTIONS, max=limit)
    outcome = AnswerOutcome()
    other_text = None
    other_choice = next((by_id[c] for c in selected if by_id[c].is_other), None)
    if other_choice is not None:
        other_text = _clean_other_text(other_choice, raw.get("other_text"), outcome)
    if outcome.errors:
        return outcome
    chosen = set(selected)
    outcome.value = {"choices": [c.id for c in question.choices if c.id in chosen]}
    if other_text:
        outcome.value["other_text"] = other_text
    minimum = question.min_selections
    if minimum is not None and len(selected) < minimum:
        outcome.shortfalls.append(Message(m.MIN_SELECTIONS, {"min": minimum}))
    return outcome


def _clean_text(question: Question, raw: Any) -> AnswerOutcome:
    if not isinstance(raw, str):
        return _error(m.ENTER_TEXT)
    text = raw.strip()
    if not text:
        return AnswerOutcome()
    if problem := _text_problem(text):
        return _error(problem)
    if len(text) > question.effective_max_length:
        return _error(m.MAX_LENGTH, max=question.effective_max_length)
    if question.type == QuestionType.SHORT_TEXT and question.pattern:
        try:
            matched = re.fullmatch(question.pattern, text) is not None
        except re.error:  # reported by check_definition; do not block respondents
            matched = True
        if not matched:
            if question.pattern_message:
                return AnswerOutcome(errors=[Message(question.pattern_message, literal=True)])
            return _error(m.PATTERN_MISMATCH)
    outcome = AnswerOutcome(value=text)
    if question.min_length is not None and len(text) < question.min_length:
        outcome.shortfalls.append(Message(m.MIN_LENGTH, {"min": question.min_length}))
    return outcome


def _clean_number(question: Question, raw: Any) -> AnswerOutcome:
    if isinstance(raw, str) and not raw.strip():
        return AnswerOutcome()
    number = parse_decimal(raw)
    if number is None:
        return _error(m.ENTER_NUMBER)
    if digit_count(number) > MAX_NUMBER_DIGITS:
        return _error(m.TOO_MANY_DIGITS, max=MAX_NUMBER_DIGITS)
    number = Decimal(format(number, "f")) if number else Decimal(0)  # plain form, no -0
    if question.integer_only and number != number.to_integral_value():
        return _error(m.WHOLE_NUMBER)
    if question.min_value is not None and number < question.min_value:
        return _error(m.MIN_VALUE, min=question.min_value)
    if question.max_value is not None and number > question.max_value:
        return _error(m.MAX_VALUE, max=question.max_value)
    return AnswerOutcome(value=number)


def _clean_date(question: Question, raw: Any) -> AnswerOutcome:
    if isinstance(raw, str) and not raw.strip():
        return AnswerOutcome()
    parsed = parse_date(raw)
    if isinstance(parsed, str):
        return _error(parsed)
    return AnswerOutcome(value=parsed)


def _clean_scale_value(raw: Any, low: int, high: int) -> int | Message:
    number = as_integer(raw)
    if number is None:
        return Message(m.WHOLE_NUMBER)
    if not low <= number <= high:
        return Message(m.SCALE_RANGE, {"min": low, "max": high})
    return number


def _clean_scale(question: Question, raw: Any) -> AnswerOutcome:
    result = _clean_scale_value(raw, *question.scale_range)
    if isinstance(result, Message):
        return AnswerOutcome(errors=[result])
    return AnswerOutcome(value=result)


def _clean_matrix(question: Question, raw: Any) -> AnswerOutcome:
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
        return _error(m.INVALID_FORMAT)
    row_ids = [row.id for row in question.rows]
    outcome = AnswerOutcome()
    if any(key not in row_ids for key in raw):
        outcome.errors.append(Message(m.UNKNOWN_ROW))
    cells: dict[str, int] = {}
    for row_id in row_ids:
        if raw.get(row_id) is None:
            continue
        result = _clean_scale_value(raw[row_id], *question.scale_range)
        if isinstance(result, Message):
            if result not in outcome.errors:
                outcome.errors.append(result)
        else:
            cells[row_id] = result
    if outcome.errors or not cells:
        return outcome
    outcome.value = cells
    if question.required and len(cells) < len(row_ids):
        outcome.shortfalls.append(Message(m.MATRIX_INCOMPLETE))
    return outcome


def _clean_ranking(question: Question, raw: Any) -> AnswerOutcome:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        return _error(m.INVALID_FORMAT)
    if not raw:
        return AnswerOutcome()
    choice_ids = {c.id for c in question.choices}
    if any(c not in choice_ids for c in raw):
        return _error(m.UNKNOWN_CHOICE)
    if len(set(raw)) != len(raw):
        return _error(m.RANK_DUPLICATE)
    if question.max_selections is not None and len(raw) > question.max_selections:
        return _error(m.RANK_MAX, max=question.max_selections)
    outcome = AnswerOutcome(value=list(raw))
    if question.min_selections is None:
        if len(raw) < len(choice_ids):
            outcome.shortfalls.append(Message(m.RANK_ALL))
    elif len(raw) < question.min_selections:
        outcome.shortfalls.append(Message(m.RANK_MIN, {"min": question.min_selections}))
    return outcome


_CLEANERS = {
    QuestionType.SINGLE_CHOICE: _clean_single,
    QuestionType.DROPDOWN: _clean_single,
    QuestionType.MULTIPLE_CHOICE: _clean_multiple,
    QuestionType.SHORT_TEXT: _clean_text,
    QuestionType.LONG_TEXT: _clean_text,
    QuestionType.NUMBER: _clean_number,
    QuestionType.DATE: _clean_date,
    QuestionType.RATING: _clean_scale,
    QuestionType.NPS: _clean_scale,
    QuestionType.LIKERT: _clean_scale,
    QuestionType.MATRIX: _clean_matrix,
    QuestionType.RANKING: _clean_ranking,
}


def clean_answer(question: Question, raw: Any) -> AnswerOutcome:
    """Validate and clean one raw (JSON) answer to ``question``. ``None`` is no answer."""
    if raw is None:
        return AnswerOutcome()
    return _CLEANERS[question.type](question, raw)


def to_json_value(value: Any) -> Any:
    """A cleaned value in JSON-serialisable form (Decimal -> plain string, date -> ISO)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    return value
