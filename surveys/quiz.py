"""A quiz's answer key and its scoring.

The key (correct choices, accepted answers, points, explanations) is deliberately *not* part of
the engine definition (``surveys.definition``): the definition is what every member-facing
endpoint renders, so nothing secret may live in it. The key is built from two queries and
cached in the shared cache under the same versioned key as the definition (the authoring
services bump ``Survey.version`` on every change of a question or choice), so it is never
stale; only quiz submissions and results read it.

Scoring rules (all or nothing per question, no partial credit):

* single choice, dropdown: the chosen choice is one of those marked correct;
* multiple choice: the chosen set equals the set marked correct, exactly;
* number: equals one of the accepted answers as an exact decimal (``3`` == ``3.0``);
* short text: equals one of the accepted answers after trimming, collapsing inner spaces and
  ignoring case (``casefold``).

Other question types carry no points (``quiz_check`` refuses them when publishing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache

from surveys.engine import QuestionType
from surveys.models import Choice as ChoiceRow
from surveys.models import Question as QuestionRow
from surveys.models import Survey

CACHE_TIMEOUT = 24 * 3600
#: Seconds a submission may arrive after the time limit (network, a slow phone): the limit
#: the member sees is the deadline; the server forgives this much.
GRACE_SECONDS = 5
#: Question types a quiz can score.
CHOICE_SCORED = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN})
SCORED_TYPES = frozenset(
    {*CHOICE_SCORED, QuestionType.MULTIPLE_CHOICE, QuestionType.NUMBER, QuestionType.SHORT_TEXT}
)


@dataclass(frozen=True)
class KeyItem:
    """The key of one question: its points, the correct choice ids (choice questions) or the
    accepted answers (number, short text), and the explanation shown with the results."""

    question_id: str
    type: str
    points: int
    correct_choices: frozenset[str]
    accepted: tuple[str, ...]
    explanation: str

    @property
    def has_key(self) -> bool:
        return bool(self.correct_choices or self.accepted)


@dataclass(frozen=True)
class AnswerKey:
    """Every question's key, in question order."""

    items: tuple[KeyItem, ...]

    @property
    def max_score(self) -> int:
        return sum(item.points for item in self.items)

    def item(self, question_id: str) -> KeyItem | None:
        return next((i for i in self.items if i.question_id == question_id), None)


def _cache_key(survey: Survey) -> str:
    return f"surveys:definition:{survey.pk}:{survey.version}:quiz"


def accepted_lines(text: str) -> tuple[str, ...]:
    """The accepted answers written one per line (empty lines dropped)."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def build_answer_key(survey: Survey) -> AnswerKey:
    """The key from the database (2 queries), bypassing the cache."""
    correct: dict[str, set[str]] = {}
    for question_id, choice_id in ChoiceRow.objects.filter(
        community_id=survey.community_id, survey=survey, is_correct=True, is_row=False
    ).values_list("question_id", "id"):
        correct.setdefault(question_id, set()).add(choice_id)
    rows = QuestionRow.objects.filter(community_id=survey.community_id, survey=survey).order_by(
        "order", "id"
    )
    return AnswerKey(
        items=tuple(
            KeyItem(
                question_id=q.id,
                type=q.type,
                points=q.quiz_points,
                correct_choices=frozenset(correct.get(q.id, ())),
                accepted=accepted_lines(q.quiz_answer),
                explanation=q.quiz_explanation,
            )
            for q in rows
        )
    )


def answer_key_for(survey: Survey) -> AnswerKey:
    """The survey's answer key, from the shared cache when its version is known."""
    key = _cache_key(survey)
    answer_key = cache.get(key)
    if answer_key is None:
        answer_key = build_answer_key(survey)
        cache.set(key, answer_key, CACHE_TIMEOUT)
    return answer_key


def normalize_text(value: str) -> str:
    """How short-text answers are compared: trimmed, inner spaces collapsed, case ignored."""
    return " ".join(str(value).split()).casefold()


def as_decimal(value: Any) -> Decimal | None:
    """``value`` as an exact decimal, or None when it is not a number."""
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def is_correct(item: KeyItem, value: Any) -> bool:
    """Whether a cleaned answer (``CleanResult.values`` shape) is right for ``item``."""
    if value is None or not item.has_key:
        return False
    if item.type in CHOICE_SCORED:
        return isinstance(value, dict) and value.get("choice") in item.correct_choices
    if item.type == QuestionType.MULTIPLE_CHOICE:
        return isinstance(value, dict) and set(value.get("choices") or ()) == set(
            item.correct_choices
        )
    if item.type == QuestionType.NUMBER:
        answer = as_decimal(value)
        return answer is not None and any(answer == as_decimal(a) for a in item.accepted)
    if item.type == QuestionType.SHORT_TEXT:
        answer = normalize_text(value)
        return any(answer == normalize_text(a) for a in item.accepted)
    return False


def score(key: AnswerKey, values: dict[str, Any]) -> int:
    """The points earned by a response's cleaned values."""
    return sum(
        item.points
        for item in key.items
        if item.points and is_correct(item, values.get(item.question_id))
    )
