"""User-facing messages, marked for translation without importing Django.

Every message is wrapped in :func:`gettext_noop`, a keyword Django's ``makemessages``
extracts, so Chinese translations can be added to the project's ``.po`` files. The engine
keeps messages untranslated (as :class:`Message`) and renders them with the ``gettext``
callable passed by the caller; ``%(name)s`` placeholders are filled in *after* translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Gettext = Callable[[str], str]


def gettext_noop(message: str) -> str:
    """Mark ``message`` for extraction by ``makemessages``; return it unchanged."""
    return message


def no_translation(message: str) -> str:
    """Default ``gettext``: the English message as is."""
    return message


@dataclass(frozen=True)
class Message:
    """An untranslated message id plus its placeholder values.

    ``literal`` messages (e.g. an admin-written ``pattern_message``) are shown verbatim:
    neither translated nor %-formatted.
    """

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    literal: bool = False

    def render(self, gettext: Gettext = no_translation) -> str:
        """Translate with ``gettext``, then fill in the placeholders."""
        if self.literal:
            return self.msgid
        params = {key: _format_param(value) for key, value in self.params.items()}
        text = gettext(self.msgid)
        try:
            return text % params if params else text
        except (KeyError, ValueError, TypeError):  # a broken translation
            return self.msgid % params if params else self.msgid


def _format_param(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


# --- answers --------------------------------------------------------------------------
REQUIRED = gettext_noop("This question is required.")
UNKNOWN_QUESTION = gettext_noop("Unknown question.")
HIDDEN_QUESTION = gettext_noop("This question is not shown for your earlier answers.")
ANSWERS_NOT_OBJECT = gettext_noop("Answers must be an object keyed by question id.")
INVALID_FORMAT = gettext_noop("This answer is not in the expected format.")
UNKNOWN_CHOICE = gettext_noop("Unknown choice.")
OTHER_TEXT_REQUIRED = gettext_noop("Fill in the text for the option you chose.")
DUPLICATE_SELECTION = gettext_noop("Each option can be chosen only once.")
MIN_SELECTIONS = gettext_noop("Choose at least %(min)s options.")
MAX_SELECTIONS = gettext_noop("Choose at most %(max)s options.")
MAX_SELECTIONS_ONE = gettext_noop("Choose only one option.")
ENTER_TEXT = gettext_noop("Enter text.")
UNSUPPORTED_CHARACTERS = gettext_noop("The text contains unsupported characters.")
MIN_LENGTH = gettext_noop("Use at least %(min)s characters.")
MAX_LENGTH = gettext_noop("Use at most %(max)s characters.")
PATTERN_MISMATCH = gettext_noop("Enter a value in the expected format.")
ENTER_NUMBER = gettext_noop("Enter a number.")
TOO_MANY_DIGITS = gettext_noop("Enter a number with at most %(max)s digits.")
WHOLE_NUMBER = gettext_noop("Enter a whole number.")
MIN_VALUE = gettext_noop("Enter a number no less than %(min)s.")
MAX_VALUE = gettext_noop("Enter a number no greater than %(max)s.")
DATE_FORMAT = gettext_noop("Enter a date as YYYY-MM-DD.")
DATE_INVALID = gettext_noop("Enter a date that exists in the calendar.")
SCALE_RANGE = gettext_noop("Choose a value from %(min)s to %(max)s.")
UNKNOWN_ROW = gettext_noop("Unknown row.")
MATRIX_INCOMPLETE = gettext_noop("Answer every row.")
RANK_DUPLICATE = gettext_noop("Each option can be ranked only once.")
RANK_ALL = gettext_noop("Rank all options.")
RANK_MIN = gettext_noop("Rank at least %(min)s options.")
RANK_MAX = gettext_noop("Rank at most %(max)s options.")

# --- definitions ----------------------------------------------------------------------
DUPLICATE_QUESTION_ID = gettext_noop('Another question already uses the id "%(id)s".')
DUPLICATE_PAGE_ID = gettext_noop('Another page already uses the id "%(id)s".')
UNKNOWN_PAGE = gettext_noop('The page "%(id)s" does not exist.')
MISSING_PAGE = gettext_noop("Put this question on a page.")
PAGE_ORDER = gettext_noop("Questions must be listed in page order.")
NO_CHOICES = gettext_noop("Add at least one choice.")
DUPLICATE_CHOICE_ID = gettext_noop('Two choices share the id "%(id)s".')
NO_ROWS = gettext_noop("Add at least one row.")
DUPLICATE_ROW_ID = gettext_noop('Two rows share the id "%(id)s".')
SEVERAL_OTHER_CHOICES = gettext_noop("Only one choice can have a free-text field.")
RANKING_OTHER_CHOICE = gettext_noop("Ranking choices cannot have a free-text field.")
SELECTION_LIMIT_TOO_LOW = gettext_noop("Selection limits must be at least 1.")
SELECTIONS_INVERTED = gettext_noop("The minimum number of selections is greater than the maximum.")
SELECTIONS_UNREACHABLE = gettext_noop(
    "The minimum number of selections is greater than the number of choices."
)
SCALE_INVERTED = gettext_noop("The lowest rating must be less than the highest.")
SCALE_LABELS_TOO_FEW = gettext_noop("A scale needs at least two labels.")
VALUES_INVERTED = gettext_noop("The minimum value is greater than the maximum.")
LENGTH_NEGATIVE = gettext_noop("Length limits cannot be negative.")
LENGTHS_INVERTED = gettext_noop("The minimum length is greater than the maximum.")
INVALID_PATTERN = gettext_noop("The pattern is not a valid regular expression: %(error)s.")
PATTERN_NOT_SHORT_TEXT = gettext_noop("Only short text questions can have a pattern.")
EMPTY_CONDITION = gettext_noop("A condition needs at least one rule.")
RULE_UNKNOWN_QUESTION = gettext_noop('The condition refers to an unknown question "%(id)s".')
RULE_SELF_REFERENCE = gettext_noop("A question's condition cannot refer to the question itself.")
RULE_FORWARD_REFERENCE = gettext_noop(
    'The condition refers to question "%(id)s", which comes later in the survey.'
)
RULE_PAGE_FORWARD_REFERENCE = gettext_noop(
    'The page condition refers to question "%(id)s", which is on this page or a later one.'
)
RULE_BAD_OPERATOR = gettext_noop(
    'The operator "%(operator)s" cannot be used with question "%(id)s" (%(type)s).'
)
RULE_NOT_A_CHOICE = gettext_noop('"%(value)s" is not a choice of question "%(id)s".')
RULE_NEEDS_TEXT = gettext_noop('The condition on question "%(id)s" needs non-empty text.')
RULE_NEEDS_NUMBER = gettext_noop('The condition on question "%(id)s" needs a number.')
RULE_NEEDS_WHOLE_NUMBER = gettext_noop('The condition on question "%(id)s" needs a whole number.')
RULE_NEEDS_DATE = gettext_noop('The condition on question "%(id)s" needs a date as YYYY-MM-DD.')
