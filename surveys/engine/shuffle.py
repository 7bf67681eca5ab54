"""Per-respondent, stable shuffling of choices."""

from __future__ import annotations

import hashlib
import json

from .definitions import Choice, Question


def _sort_key(respondent_key: str, question_id: str, choice_id: str) -> bytes:
    material = json.dumps([respondent_key, question_id, choice_id], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).digest()


def shuffled_choices(question: Question, respondent_key: str) -> list[Choice]:
    """The choices in the order to show to the respondent identified by ``respondent_key``.

    With ``question.shuffle_choices`` the order is a permutation that depends only on
    ``respondent_key``, the question id and the choice ids (ordered by SHA-256 of the
    three), so it is the same on every request, process and Python version; "other"
    choices stay last in their original order. Without it, the original order.
    """
    choices = list(question.choices)
    if not question.shuffle_choices:
        return choices
    regular = [c for c in choices if not c.is_other]
    others = [c for c in choices if c.is_other]
    keyed = sorted(
        enumerate(regular),
        key=lambda item: (_sort_key(respondent_key, question.id, item[1].id), item[0]),
    )
    return [choice for _index, choice in keyed] + others
