"""Survey definitions: the frozen dataclasses the engine works on.

The Django layer converts its model rows into these objects; nothing here knows about
databases or members.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

#: Default maximum length of a short text answer (characters).
SHORT_TEXT_MAX_LENGTH = 200
#: Default maximum length of a long text answer (characters).
LONG_TEXT_MAX_LENGTH = 5000
#: Maximum length of the free text that comes with an "other" choice.
OTHER_TEXT_MAX_LENGTH = 200
#: Default rating range and default number of Likert/matrix scale points.
DEFAULT_SCALE_MIN = 1
DEFAULT_SCALE_MAX = 5
DEFAULT_SCALE_POINTS = 5


class QuestionType(StrEnum):
    """The kinds of question a survey (or sign-up form) can ask."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    DROPDOWN = "dropdown"
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"
    RATING = "rating"
    NPS = "nps"
    LIKERT = "likert"
    MATRIX = "matrix"
    RANKING = "ranking"


#: Question types whose answers pick from ``Question.choices``.
CHOICE_TYPES = frozenset(
    {
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.DROPDOWN,
        QuestionType.RANKING,
    }
)
#: Question types answered with free text.
TEXT_TYPES = frozenset({QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT})
#: Question types answered with one integer on a scale.
SCALE_TYPES = frozenset({QuestionType.RATING, QuestionType.NPS, QuestionType.LIKERT})


class Operator(StrEnum):
    """Comparison used by a display-condition :class:`Rule`."""

    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    GREATER = "greater"
    LESS = "less"


@dataclass(frozen=True)
class Choice:
    """One option of a choice question, or one row of a matrix question.

    ``is_other`` means the choice comes with a free-text field ("Other: ____").
    """

    id: str
    label: str
    is_other: bool = False


@dataclass(frozen=True)
class Rule:
    """``<answer to question_id> <operator> <value>``; see ``surveys.engine.logic``."""

    question_id: str
    operator: Operator
    value: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "operator", Operator(self.operator))


@dataclass(frozen=True)
class Condition:
    """A display condition: ``all`` (AND) or ``any`` (OR) of its rules must hold."""

    rules: tuple[Rule, ...]
    match: Literal["all", "any"] = "all"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        if self.match not in ("all", "any"):
            raise ValueError(f"Condition.match must be 'all' or 'any', not {self.match!r}")


def _optional_decimal(value: Decimal | int | str | None) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


@dataclass(frozen=True)
class Question:
    """One question. Only the fields relevant to ``type`` are used.

    ``choices`` (choice types and ranking), ``rows`` (matrix), ``min_value``/``max_value``/
    ``integer_only`` (number), ``min_length``/``max_length`` (text), ``pattern``/
    ``pattern_message`` (short text), ``min_selections``/``max_selections`` (multiple
    choice, ranking), ``scale_min``/``scale_max`` (rating, default 1..5), ``scale_labels``
    (Likert and matrix; default 5 points), ``shuffle_choices`` (see ``shuffled_choices``).
    """

    id: str
    type: QuestionType
    title: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    rows: tuple[Choice, ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    integer_only: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    min_selections: int | None = None
    max_selections: int | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    scale_labels: tuple[str, ...] = ()
    shuffle_choices: bool = False
    condition: Condition | None = None
    page_id: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "type", QuestionType(self.type))
        set_(self, "choices", tuple(self.choices))
        set_(self, "rows", tuple(self.rows))
        set_(self, "scale_labels", tuple(self.scale_labels))
        set_(self, "min_value", _optional_decimal(self.min_value))
        set_(self, "max_value", _optional_decimal(self.max_value))

    @property
    def scale_range(self) -> tuple[int, int]:
        """Inclusive integer range of a rating, NPS, Likert or matrix-cell answer."""
        if self.type == QuestionType.NPS:
            return 0, 10
        if self.type in (QuestionType.LIKERT, QuestionType.MATRIX):
            return 1, len(self.scale_labels) or DEFAULT_SCALE_POINTS
        low = DEFAULT_SCALE_MIN if self.scale_min is None else self.scale_min
        high = DEFAULT_SCALE_MAX if self.scale_max is None else self.scale_max
        return low, high

    @property
    def effective_max_length(self) -> int:
        """``max_length``, or the default for the text type."""
        if self.max_length is not None:
            return self.max_length
        if self.type == QuestionType.LONG_TEXT:
            return LONG_TEXT_MAX_LENGTH
        return SHORT_TEXT_MAX_LENGTH


@dataclass(frozen=True)
class Page:
    """A page of questions, shown only when its condition (if any) holds."""

    id: str
    title: str = ""
    condition: Condition | None = None


@dataclass(frozen=True)
class SurveyDefinition:
    """Pages and questions, both in display order.

    Each question's ``page_id`` names one of ``pages``; it is ``None`` when the survey has
    no pages. Questions are listed page by page.
    """

    pages: tuple[Page, ...] = ()
    questions: tuple[Question, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", tuple(self.pages))
        object.__setattr__(self, "questions", tuple(self.questions))

    def question_map(self) -> dict[str, Question]:
        """Questions by id (the first one wins if ids are duplicated)."""
        result: dict[str, Question] = {}
        for question in self.questions:
            result.setdefault(question.id, question)
        return result
