"""Survey engine: definitions, answer validation, display logic, shuffling and NPS.

Pure Python (stdlib only) and unaware of members and databases, so event sign-up forms can
reuse it. The Django layer converts its rows into :class:`SurveyDefinition` and passes its
``gettext`` to get translated messages.

Answer shapes (the API contract)
================================
``answers`` maps question id -> the JSON value below. ``null`` (or a missing key) is no
answer; so are ``""``/whitespace for text, number and date, ``{"choice": null}``,
``{"choices": []}``, ``[]`` for ranking and ``{}`` for matrix. Booleans are never numbers.

==================  ======================================================  =================
Type                JSON sent by the mini-program                           Cleaned value
==================  ======================================================  =================
single_choice,      ``{"choice": "<choice id>", "other_text": "..."}``      same dict
dropdown            ``other_text`` is read only when the choice
                    ``is_other`` (then it must be non-empty, at most 200
                    characters); otherwise it is ignored and dropped.
multiple_choice     ``{"choices": ["<id>", ...], "other_text": "..."}``     same dict, choices
                    no duplicates; ``min_selections``/``max_selections``;   in definition
                    ``other_text`` as above when an ``is_other`` choice     order
                    is selected.
short_text,         ``"text"`` -- stripped; max length 200 (short) / 5000   ``str``
long_text           (long) unless ``max_length``; ``min_length``;
                    ``pattern`` (short text only, full match; error is
                    ``pattern_message`` if set). NUL characters and lone
                    surrogates are rejected.
number              ``12``, ``12.5`` or ``"12.5"``; ``integer_only``,       ``Decimal``
                    ``min_value``/``max_value``; at most 20 digits.
date                ``"YYYY-MM-DD"``                                        ``datetime.date``
rating              integer in ``scale_min..scale_max`` (default 1..5)      ``int``
nps                 integer 0..10                                           ``int``
likert              integer 1..len(scale_labels) (default 5)                ``int``
matrix              ``{"<row id>": <1..len(scale_labels)>, ...}``;          ``dict`` in row
                    unknown rows rejected; every row needed when required.  order
ranking             ``["<choice id>", ...]`` best first: every choice       ``list``
                    once, or -- when ``min_selections`` is set -- at least
                    that many (at most ``max_selections``) distinct ids.
==================  ======================================================  =================

Integral floats (``4.0``) are accepted where integers are expected, since JavaScript does
not distinguish them. :meth:`CleanResult.to_json` turns ``Decimal`` into a plain string
(``"12.5"``) and dates into ``"YYYY-MM-DD"``; that form is valid input again.

Drafts (``partial=True``) may be incomplete but not wrong: missing required answers and
"shortfalls" -- too few selections, text shorter than ``min_length``, unranked options,
unanswered matrix rows of a required matrix, empty "other" text -- are accepted; answers to
hidden questions are dropped. On submit (``partial=False``) all of these are errors, and
answering a hidden question is an error. Hidden questions are never required.

Display conditions (see :mod:`surveys.engine.logic`): a question is visible when its page
is visible and its own condition holds. A rule about a hidden, unanswered or invalidly
answered question is false for every operator (``not_equals`` included). For
multiple_choice, ``equals`` and ``contains`` mean "the selection includes the id".
"""

from .answers import MAX_NUMBER_DIGITS
from .checks import DefinitionError, check_definition
from .definitions import (
    LONG_TEXT_MAX_LENGTH,
    OTHER_TEXT_MAX_LENGTH,
    SHORT_TEXT_MAX_LENGTH,
    Choice,
    Condition,
    Operator,
    Page,
    Question,
    QuestionType,
    Rule,
    SurveyDefinition,
)
from .logic import ALLOWED_OPERATORS
from .messages import gettext_noop
from .responses import (
    NON_FIELD_ERRORS,
    CleanResult,
    clean_response,
    visible_page_ids,
    visible_question_ids,
)
from .shuffle import shuffled_choices
from .stats import NpsResult, nps_score

__all__ = [
    "ALLOWED_OPERATORS",
    "LONG_TEXT_MAX_LENGTH",
    "MAX_NUMBER_DIGITS",
    "NON_FIELD_ERRORS",
    "OTHER_TEXT_MAX_LENGTH",
    "SHORT_TEXT_MAX_LENGTH",
    "Choice",
    "CleanResult",
    "Condition",
    "DefinitionError",
    "NpsResult",
    "Operator",
    "Page",
    "Question",
    "QuestionType",
    "Rule",
    "SurveyDefinition",
    "check_definition",
    "clean_response",
    "gettext_noop",
    "nps_score",
    "shuffled_choices",
    "visible_page_ids",
    "visible_question_ids",
]
