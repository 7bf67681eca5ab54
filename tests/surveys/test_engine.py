"""Tests for the pure-Python survey engine (no Django)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.engine import (
    NON_FIELD_ERRORS,
    Choice,
    CleanResult,
    Condition,
    DefinitionError,
    NpsResult,
    Operator,
    Page,
    Question,
    QuestionType,
    Rule,
    SurveyDefinition,
    check_definition,
    clean_response,
    nps_score,
    shuffled_choices,
    visible_page_ids,
    visible_question_ids,
)

T = QuestionType
HIDDEN = "This question is not shown for your earlier answers."
REQUIRED = "This question is required."


def choices(*ids: str, other: str | None = None) -> tuple[Choice, ...]:
    items = tuple(Choice(i, i.upper()) for i in ids)
    return items + ((Choice(other, "Other", is_other=True),) if other else ())


def q(id: str, type: QuestionType, **kwargs: Any) -> Question:
    if type in (T.SINGLE_CHOICE, T.MULTIPLE_CHOICE, T.DROPDOWN, T.RANKING):
        kwargs.setdefault("choices", choices("a", "b", "c"))
    if type == T.MATRIX:
        kwargs.setdefault("rows", choices("r1", "r2"))
    return Question(id=id, type=type, title=id.title(), **kwargs)


def when(question_id: str, operator: str, value: Any, *more: Rule, match: str = "all"):
    return Condition((Rule(question_id, Operator(operator), value), *more), match=match)


def clean_one(question: Question, raw: Any, *, partial: bool = False) -> CleanResult:
    definition = SurveyDefinition(questions=(question,))
    return clean_response(definition, {question.id: raw}, partial=partial)


def test_engine_does_not_import_django():
    code = (
        "import sys, surveys.engine; "
        "sys.exit(any(name.split('.')[0] == 'django' for name in sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# --- definitions ------------------------------------------------------------------------
def test_definitions_normalise_strings_and_lists():
    question = Question("x", "rating", "X", choices=[Choice("a", "A")], min_value=3)
    assert question.type is T.RATING
    assert question.choices == (Choice("a", "A"),)
    assert question.min_value == Decimal(3)
    assert Rule("x", "greater", 2).operator is Operator.GREATER
    with pytest.raises(ValueError):
        Condition((), match="some")


# --- happy paths ------------------------------------------------------------------------
OTHER_Q = {"choices": choices("a", "b", other="o")}

HAPPY = [
    (q("s", T.SINGLE_CHOICE), {"choice": "a"}, {"choice": "a"}),
    (
        q("s", T.SINGLE_CHOICE, **OTHER_Q),
        {"choice": "o", "other_text": " x "},
        {"choice": "o", "other_text": "x"},
    ),
    (q("s", T.SINGLE_CHOICE, **OTHER_Q), {"choice": "a", "other_text": "stale"}, {"choice": "a"}),
    (q("d", T.DROPDOWN), {"choice": "c"}, {"choice": "c"}),
    (q("m", T.MULTIPLE_CHOICE), {"choices": ["c", "a"]}, {"choices": ["a", "c"]}),
    (
        q("m", T.MULTIPLE_CHOICE, **OTHER_Q),
        {"choices": ["o"], "other_text": "y"},
        {"choices": ["o"], "other_text": "y"},
    ),
    (
        q("m", T.MULTIPLE_CHOICE, max_selections=2, min_selections=2),
        {"choices": ["a", "b"]},
        {"choices": ["a", "b"]},
    ),
    (q("t", T.SHORT_TEXT), "  hello  ", "hello"),
    (q("t", T.SHORT_TEXT), "x" * 200, "x" * 200),
    (q("t", T.SHORT_TEXT, pattern=r"1\d{10}"), "13800138000", "13800138000"),
    (q("t", T.LONG_TEXT), "y" * 5000, "y" * 5000),
    (q("t", T.LONG_TEXT, min_length=3), "a\nb", "a\nb"),
    (q("n", T.NUMBER), 12, Decimal("12")),
    (q("n", T.NUMBER), 12.5, Decimal("12.5")),
    (q("n", T.NUMBER), " -3.25 ", Decimal("-3.25")),
    (q("n", T.NUMBER), "1e2", Decimal("100")),
    (q("n", T.NUMBER, integer_only=True), 4.0, Decimal("4")),
    (q("n", T.NUMBER, min_value=Decimal(0), max_value=Decimal(10)), "10", Decimal("10")),
    (q("dt", T.DATE), "2024-02-29", date(2024, 2, 29)),
    (q("r", T.RATING), 5, 5),
    (q("r", T.RATING), 1.0, 1),
    (q("r", T.RATING, scale_min=0, scale_max=10), 0, 0),
    (q("p", T.NPS), 0, 0),
    (q("p", T.NPS), 10, 10),
    (q("l", T.LIKERT), 5, 5),
    (q("l", T.LIKERT, scale_labels=tuple("1234567")), 7, 7),
    (q("x", T.MATRIX, required=True), {"r2": 1, "r1": 5}, {"r1": 5, "r2": 1}),
    (q("x", T.MATRIX), {"r1": 3, "r2": None}, {"r1": 3}),
    (q("k", T.RANKING), ["c", "a", "b"], ["c", "a", "b"]),
    (q("k", T.RANKING, min_selections=2), ["b", "c"], ["b", "c"]),
]


@pytest.mark.parametrize(("question", "raw", "expected"), HAPPY)
def test_valid_answers_are_cleaned(question, raw, expected):
    for partial in (False, True):
        result = clean_one(question, raw, partial=partial)
        assert result.errors == {}
        assert result.values == {question.id: expected}


EMPTY_ANSWERS = [(type_, None) for type_ in T] + [
    (T.SHORT_TEXT, ""),
    (T.LONG_TEXT, "   "),
    (T.NUMBER, ""),
    (T.DATE, " "),
    (T.SINGLE_CHOICE, {"choice": None}),
    (T.DROPDOWN, {}),
    (T.MULTIPLE_CHOICE, {"choices": []}),
    (T.MATRIX, {}),
    (T.MATRIX, {"r1": None}),
    (T.RANKING, []),
]


@pytest.mark.parametrize(("type_", "raw"), EMPTY_ANSWERS)
def test_empty_answers_count_as_no_answer(type_, raw):
    for partial in (False, True):
        assert clean_one(q("x", type_), raw, partial=partial) == CleanResult()
    assert clean_one(q("x", type_, required=True), raw).errors == {"x": [REQUIRED]}
    assert clean_one(q("x", type_, required=True), raw, partial=True) == CleanResult()


# --- bad input --------------------------------------------------------------------------
FORMAT = "This answer is not in the expected format."
UNKNOWN = "Unknown choice."

BAD = [
    # choice questions
    (q("s", T.SINGLE_CHOICE), "a", FORMAT),
    (q("s", T.SINGLE_CHOICE), {"choice": 1}, FORMAT),
    (q("s", T.SINGLE_CHOICE), {"choice": "a", "extra": 1}, FORMAT),
    (q("s", T.SINGLE_CHOICE), {"choice": "zzz"}, UNKNOWN),
    (q("s", T.SINGLE_CHOICE, choices=choices("yes", "no")), {"choice": "a"}, UNKNOWN),
    (q("s", T.SINGLE_CHOICE, **OTHER_Q), {"choice": "o", "other_text": 5}, FORMAT),
    (
        q("s", T.SINGLE_CHOICE, **OTHER_Q),
        {"choice": "o", "other_text": "z" * 201},
        "Use at most 200 characters.",
    ),
    (q("d", T.DROPDOWN), ["a"], FORMAT),
    (q("m", T.MULTIPLE_CHOICE), ["a"], FORMAT),
    (q("m", T.MULTIPLE_CHOICE), {"choices": "a"}, FORMAT),
    (q("m", T.MULTIPLE_CHOICE), {"choices": ["a", 2]}, FORMAT),
    (q("m", T.MULTIPLE_CHOICE), {"choices": ["a", "zzz"]}, UNKNOWN),
    (q("m", T.MULTIPLE_CHOICE), {"choices": ["a", "a"]}, "Each option can be chosen only once."),
    (
        q("m", T.MULTIPLE_CHOICE, max_selections=2),
        {"choices": ["a", "b", "c"]},
        "Choose at most 2 options.",
    ),
    (
        q("m", T.MULTIPLE_CHOICE, max_selections=1),
        {"choices": ["a", "b"]},
        "Choose only one option.",
    ),
    # text
    (q("t", T.SHORT_TEXT), 123, "Enter text."),
    (q("t", T.SHORT_TEXT), ["x"], "Enter text."),
    (q("t", T.SHORT_TEXT), "x" * 201, "Use at most 200 characters."),
    (q("t", T.LONG_TEXT), "x" * 5001, "Use at most 5000 characters."),
    (q("t", T.LONG_TEXT, max_length=10), "x" * 11, "Use at most 10 characters."),
    (
        q("t", T.SHORT_TEXT, pattern=r"1\d{10}"),
        "1380013800x",
        "Enter a value in the expected format.",
    ),
    (
        q("t", T.SHORT_TEXT, pattern=r"\d+", pattern_message="Digits only (100%)."),
        "12a",
        "Digits only (100%).",
    ),
    (q("t", T.SHORT_TEXT), "a\x00b", "The text contains unsupported characters."),
    (q("t", T.LONG_TEXT), "a\ud800b", "The text contains unsupported characters."),
    # numbers
    (q("n", T.NUMBER), True, "Enter a number."),
    (q("n", T.NUMBER), False, "Enter a number."),
    (q("n", T.NUMBER), "abc", "Enter a number."),
    (q("n", T.NUMBER), "1,000", "Enter a number."),
    (q("n", T.NUMBER), "nan", "Enter a number."),
    (q("n", T.NUMBER), "Infinity", "Enter a number."),
    (q("n", T.NUMBER), float("nan"), "Enter a number."),
    (q("n", T.NUMBER), float("inf"), "Enter a number."),
    (q("n", T.NUMBER), [1], "Enter a number."),
    (q("n", T.NUMBER), {"value": 1}, "Enter a number."),
    (q("n", T.NUMBER), "1e999999", "Enter a number with at most 20 digits."),
    (q("n", T.NUMBER), 10**40, "Enter a number with at most 20 digits."),
    (q("n", T.NUMBER), "0.0000000000000000000001", "Enter a number with at most 20 digits."),
    (q("n", T.NUMBER, integer_only=True), 1.5, "Enter a whole number."),
    (q("n", T.NUMBER, integer_only=True), "2.01", "Enter a whole number."),
    (q("n", T.NUMBER, max_value=Decimal("10")), 10.01, "Enter a number no greater than 10."),
    (q("n", T.NUMBER, min_value=Decimal("-1.5")), "-2", "Enter a number no less than -1.5."),
    # dates
    (q("dt", T.DATE), "2024/01/01", "Enter a date as YYYY-MM-DD."),
    (q("dt", T.DATE), "2024-1-1", "Enter a date as YYYY-MM-DD."),
    (q("dt", T.DATE), "20240101", "Enter a date as YYYY-MM-DD."),
    (q("dt", T.DATE), "2024-01-01T10:00", "Enter a date as YYYY-MM-DD."),
    (q("dt", T.DATE), 20240101, "Enter a date as YYYY-MM-DD."),
    (q("dt", T.DATE), "2023-02-29", "Enter a date that exists in the calendar."),
    (q("dt", T.DATE), "2024-13-01", "Enter a date that exists in the calendar."),
    # scales
    (q("r", T.RATING), True, "Enter a whole number."),
    (q("r", T.RATING), "4", "Enter a whole number."),
    (q("r", T.RATING), 4.5, "Enter a whole number."),
    (q("r", T.RATING), 0, "Choose a value from 1 to 5."),
    (q("r", T.RATING), 6, "Choose a value from 1 to 5."),
    (q("r", T.RATING, scale_min=1, scale_max=10), 11, "Choose a value from 1 to 10."),
    (q("p", T.NPS), 11, "Choose a value from 0 to 10."),
    (q("p", T.NPS), -1, "Choose a value from 0 to 10."),
    (q("p", T.NPS), False, "Enter a whole number."),
    (q("l", T.LIKERT), 6, "Choose a value from 1 to 5."),
    (q("l", T.LIKERT, scale_labels=("no", "maybe", "yes")), 4, "Choose a value from 1 to 3."),
    # matrix
    (q("x", T.MATRIX), [1, 2], FORMAT),
    (q("x", T.MATRIX), {"r1": 1, "r9": 2}, "Unknown row."),
    (q("x", T.MATRIX), {"r1": 6}, "Choose a value from 1 to 5."),
    (q("x", T.MATRIX), {"r1": True}, "Enter a whole number."),
    # ranking
    (q("k", T.RANKING), "a,b,c", FORMAT),
    (q("k", T.RANKING), ["a", "b", "b"], "Each option can be ranked only once."),
    (q("k", T.RANKING), ["a", "b", "zzz"], UNKNOWN),
    (q("k", T.RANKING), ["a", 1, "c"], FORMAT),
    (
        q("k", T.RANKING, min_selections=1, max_selections=2),
        ["a", "b", "c"],
        "Rank at most 2 options.",
    ),
]


@pytest.mark.parametrize(("question", "raw", "message"), BAD)
def test_wrong_answers_are_errors_in_both_modes(question, raw, message):
    for partial in (False, True):
        result = clean_one(question, raw, partial=partial)
        assert result.errors == {question.id: [message]}
        assert result.values == {}


SHORTFALLS = [
    (
        q("s", T.SINGLE_CHOICE, **OTHER_Q),
        {"choice": "o"},
        "Fill in the text for the option you chose.",
    ),
    (
        q("s", T.DROPDOWN, **OTHER_Q),
        {"choice": "o", "other_text": "  "},
        "Fill in the text for the option you chose.",
    ),
    (
        q("m", T.MULTIPLE_CHOICE, **OTHER_Q),
        {"choices": ["a", "o"]},
        "Fill in the text for the option you chose.",
    ),
    (q("m", T.MULTIPLE_CHOICE, min_selections=2), {"choices": ["a"]}, "Choose at least 2 options."),
    (q("t", T.SHORT_TEXT, min_length=5), "abc", "Use at least 5 characters."),
    (q("x", T.MATRIX, required=True), {"r1": 2}, "Answer every row."),
    (q("k", T.RANKING), ["b", "a"], "Rank all options."),
    (q("k", T.RANKING, min_selections=2), ["b"], "Rank at least 2 options."),
]


@pytest.mark.parametrize(("question", "raw", "message"), SHORTFALLS)
def test_incomplete_answers_are_kept_in_drafts_and_rejected_on_submit(question, raw, message):
    draft = clean_one(question, raw, partial=True)
    assert draft.errors == {}
    assert question.id in draft.values
    submit = clean_one(question, raw, partial=False)
    assert submit.errors == {question.id: [message]}
    assert submit.values == {}


def test_optional_matrix_may_be_partly_answered_on_submit():
    assert clean_one(q("x", T.MATRIX), {"r1": 2}).values == {"x": {"r1": 2}}


# --- whole responses --------------------------------------------------------------------
GATED = SurveyDefinition(
    questions=(
        q("pet", T.SINGLE_CHOICE, choices=choices("dog", "cat")),
        q("dog_name", T.SHORT_TEXT, required=True, condition=when("pet", "equals", "dog")),
        q("age", T.NUMBER, required=True),
    )
)


def test_unknown_question_ids_are_errors():
    result = clean_response(GATED, {"age": 3, "nope": 1, "": None}, partial=True)
    assert result.errors == {"nope": ["Unknown question."], "": ["Unknown question."]}
    assert result.values == {"age": Decimal(3)}


def test_required_questions_are_enforced_on_submit_only():
    assert clean_response(GATED, {}, partial=True).errors == {}
    assert clean_response(GATED, {}, partial=False).errors == {"age": [REQUIRED]}


def test_hidden_required_question_is_not_required():
    result = clean_response(GATED, {"pet": {"choice": "cat"}, "age": 2}, partial=False)
    assert result.is_valid
    assert result.values == {"pet": {"choice": "cat"}, "age": Decimal(2)}


def test_visible_required_question_is_required():
    result = clean_response(GATED, {"pet": {"choice": "dog"}, "age": 2}, partial=False)
    assert result.errors == {"dog_name": [REQUIRED]}


def test_answer_to_hidden_question_is_error_on_submit_and_dropped_in_draft():
    answers = {"pet": {"choice": "cat"}, "dog_name": "Rex", "age": 2}
    submit = clean_response(GATED, answers, partial=False)
    assert submit.errors == {"dog_name": [HIDDEN]}
    draft = clean_response(GATED, answers, partial=True)
    assert draft.errors == {}
    assert "dog_name" not in draft.values
    # even an invalid answer to a hidden question is silently dropped from a draft
    assert clean_response(GATED, {"dog_name": 5}, partial=True).errors == {}
    # an empty answer to a hidden question is no answer at all
    assert clean_response(GATED, {"dog_name": "", "age": 1}, partial=False).errors == {}


def test_errors_do_not_drop_other_values():
    result = clean_response(GATED, {"pet": {"choice": "bird"}, "age": 7}, partial=True)
    assert result.errors == {"pet": [UNKNOWN]}
    assert result.values == {"age": Decimal(7)}


@pytest.mark.parametrize("answers", [[], "x", None, 3])
def test_answers_must_be_an_object(answers):
    result = clean_response(GATED, answers, partial=True)
    assert result.errors == {NON_FIELD_ERRORS: ["Answers must be an object keyed by question id."]}
    assert visible_question_ids(GATED, answers) == {"pet", "age"}


def test_messages_are_translated_before_formatting():
    zh = {
        "Use at most %(max)s characters.": "最多%(max)s个字符。",
        "This question is required.": "此题必答。",
    }
    definition = SurveyDefinition(questions=(q("t", T.SHORT_TEXT), q("r", T.RATING, required=True)))
    result = clean_response(
        definition, {"t": "x" * 300}, partial=False, gettext=lambda s: zh.get(s, s)
    )
    assert result.errors == {"t": ["最多200个字符。"], "r": ["此题必答。"]}


def test_broken_translation_falls_back_to_english():
    result = clean_one(q("t", T.SHORT_TEXT), "x" * 300)
    broken = clean_response(
        SurveyDefinition(questions=(q("t", T.SHORT_TEXT),)),
        {"t": "x" * 300},
        partial=False,
        gettext=lambda s: "%(oops)s",
    )
    assert broken.errors == result.errors == {"t": ["Use at most 200 characters."]}


def test_to_json_is_serialisable_and_round_trips():
    definition = defn(
        q("s", T.SINGLE_CHOICE),
        q("n", T.NUMBER),
        q("dt", T.DATE),
        q("x", T.MATRIX),
        q("k", T.RANKING),
    )
    answers = {
        "s": {"choice": "b"},
        "n": "1e3",
        "dt": "2024-05-01",
        "x": {"r1": 1},
        "k": ["b", "c", "a"],
    }
    result = clean_response(definition, answers, partial=False)
    assert result.is_valid
    payload = result.to_json()
    assert payload == {
        "s": {"choice": "b"},
        "n": "1000",
        "dt": "2024-05-01",
        "x": {"r1": 1},
        "k": ["b", "c", "a"],
    }
    json.dumps(payload)
    assert clean_response(definition, payload, partial=False).values == result.values


# --- visibility -------------------------------------------------------------------------
CASCADE = SurveyDefinition(
    questions=(
        q("q1", T.SINGLE_CHOICE, choices=choices("yes", "no")),
        q("q2", T.SINGLE_CHOICE, choices=choices("x", "y"), condition=when("q1", "equals", "yes")),
        q("q3", T.SHORT_TEXT, condition=when("q2", "equals", "x")),
        q("q4", T.SHORT_TEXT, condition=when("q2", "not_equals", "x")),
    )
)


def test_visibility_cascades_from_hidden_sources():
    yes_x = {"q1": {"choice": "yes"}, "q2": {"choice": "x"}}
    assert visible_question_ids(CASCADE, yes_x) == {"q1", "q2", "q3"}
    no_x = {"q1": {"choice": "no"}, "q2": {"choice": "x"}}
    assert visible_question_ids(CASCADE, no_x) == {"q1"}
    submit = clean_response(CASCADE, {**no_x, "q3": "hi"}, partial=False)
    assert submit.errors == {"q2": [HIDDEN], "q3": [HIDDEN]}
    draft = clean_response(CASCADE, {**no_x, "q3": "hi"}, partial=True)
    assert draft.values == {"q1": {"choice": "no"}}


def test_rules_about_unanswered_or_invalid_questions_are_false():
    assert visible_question_ids(CASCADE, {"q1": {"choice": "yes"}}) == {"q1", "q2"}
    invalid = {"q1": {"choice": "yes"}, "q2": {"choice": "zzz"}}
    assert visible_question_ids(CASCADE, invalid) == {"q1", "q2"}
    other = {"q1": {"choice": "yes"}, "q2": {"choice": "y"}}
    assert visible_question_ids(CASCADE, other) == {"q1", "q2", "q4"}


def test_page_conditions_hide_whole_pages():
    definition = SurveyDefinition(
        pages=(
            Page("p1", "About you"),
            Page("p2", "Parents", condition=when("kids", "greater", 0)),
            Page("p3", "Thanks"),
        ),
        questions=(
            q("kids", T.NUMBER, page_id="p1"),
            q("school", T.SHORT_TEXT, page_id="p2", required=True),
            q("care", T.RATING, page_id="p2", condition=when("school", "contains", "No. 1")),
            q("nps", T.NPS, page_id="p3"),
        ),
    )
    assert visible_question_ids(definition, {"kids": 0}) == {"kids", "nps"}
    assert visible_page_ids(definition, {"kids": 0}) == ["p1", "p3"]
    answers = {"kids": "2", "school": "No. 1 Middle School"}
    assert visible_question_ids(definition, answers) == {"kids", "school", "care", "nps"}
    assert visible_page_ids(definition, answers) == ["p1", "p2", "p3"]
    assert clean_response(definition, {"kids": 0}, partial=False).is_valid


def _visible(question: Question, raw: Any, operator: str, value: Any, match: str = "all") -> bool:
    definition = SurveyDefinition(
        questions=(
            question,
            q("target", T.SHORT_TEXT, condition=when(question.id, operator, value, match=match)),
        )
    )
    return "target" in visible_question_ids(definition, {question.id: raw})


MULTI = q("m", T.MULTIPLE_CHOICE)


@pytest.mark.parametrize(
    ("question", "raw", "operator", "value", "expected"),
    [
        (q("s", T.SINGLE_CHOICE), {"choice": "a"}, "equals", "a", True),
        (q("s", T.SINGLE_CHOICE), {"choice": "b"}, "equals", "a", False),
        (q("s", T.SINGLE_CHOICE), {"choice": "b"}, "not_equals", "a", True),
        (q("s", T.SINGLE_CHOICE), None, "not_equals", "a", False),
        (q("d", T.DROPDOWN), {"choice": "c"}, "equals", "c", True),
        (MULTI, {"choices": ["a", "b"]}, "equals", "b", True),
        (MULTI, {"choices": ["a", "b"]}, "contains", "b", True),
        (MULTI, {"choices": ["a", "b"]}, "contains", "c", False),
        (MULTI, {"choices": ["a", "b"]}, "not_equals", "c", True),
        (MULTI, {"choices": ["a", "b"]}, "not_equals", "a", False),
        (MULTI, {"choices": []}, "not_equals", "a", False),
        (q("t", T.SHORT_TEXT), "  Yes ", "equals", "Yes", True),
        (q("t", T.SHORT_TEXT), "yes", "equals", "Yes", False),
        (q("t", T.LONG_TEXT), "I love the park", "contains", "park", True),
        (q("t", T.LONG_TEXT), "I love the park", "contains", "gym", False),
        (q("t", T.SHORT_TEXT), "x", "not_equals", "y", True),
        (q("t", T.SHORT_TEXT), "", "not_equals", "y", False),
        (q("n", T.NUMBER), 18, "greater", 17, True),
        (q("n", T.NUMBER), "17.0", "greater", "17", False),
        (q("n", T.NUMBER), 2.5, "less", 3, True),
        (q("n", T.NUMBER), "3", "equals", 3.0, True),
        (q("n", T.NUMBER), "abc", "not_equals", 3, False),
        (q("dt", T.DATE), "2024-06-01", "greater", "2024-05-31", True),
        (q("dt", T.DATE), "2024-06-01", "less", date(2024, 6, 1), False),
        (q("dt", T.DATE), "2024-06-01", "equals", "2024-06-01", True),
        (q("r", T.RATING), 2, "less", 3, True),
        (q("r", T.RATING), 4, "equals", 4, True),
        (q("p", T.NPS), 9, "greater", 8, True),
        (q("p", T.NPS), 0, "equals", 0, True),
        (q("l", T.LIKERT), 3, "not_equals", 3, False),
        # nonsensical rules (rejected by check_definition) are simply false at runtime
        (q("s", T.SINGLE_CHOICE), {"choice": "a"}, "greater", "a", False),
        (q("s", T.SINGLE_CHOICE), {"choice": "a"}, "not_equals", "zzz", False),
        (q("n", T.NUMBER), 5, "contains", 5, False),
        (q("n", T.NUMBER), 5, "greater", "many", False),
        (q("x", T.MATRIX), {"r1": 1}, "equals", 1, False),
    ],
)
def test_operators(question, raw, operator, value, expected):
    assert _visible(question, raw, operator, value) is expected


def test_any_and_all_matching():
    age = q("age", T.NUMBER)
    kids = q("kids", T.NUMBER)
    rules = (Rule("age", Operator.GREATER, 60), Rule("kids", Operator.GREATER, 2))
    for match, answers, expected in [
        ("all", {"age": 70, "kids": 3}, True),
        ("all", {"age": 70, "kids": 1}, False),
        ("any", {"age": 70, "kids": 1}, True),
        ("any", {"age": 20}, False),
    ]:
        target = q("t", T.SHORT_TEXT, condition=Condition(rules, match=match))
        definition = SurveyDefinition(questions=(age, kids, target))
        assert ("t" in visible_question_ids(definition, answers)) is expected, (match, answers)


def test_forward_and_self_references_are_false_at_runtime():
    definition = SurveyDefinition(
        questions=(
            q("a", T.SHORT_TEXT, condition=when("b", "equals", "x")),
            q("b", T.SHORT_TEXT, condition=when("b", "equals", "x")),
        )
    )
    assert visible_question_ids(definition, {"a": "x", "b": "x"}) == set()


# --- check_definition -------------------------------------------------------------------
SINGLE = q("s", T.SINGLE_CHOICE)
NUMBER = q("n", T.NUMBER)


def defn(*questions: Question, pages: tuple[Page, ...] = ()) -> SurveyDefinition:
    return SurveyDefinition(pages=pages, questions=questions)


DEFINITION_ERRORS = [
    (
        defn(q("t", T.SHORT_TEXT, condition=when("ghost", "equals", "x"))),
        DefinitionError(
            'The condition refers to an unknown question "ghost".', "t", None, "condition"
        ),
    ),
    (
        defn(q("t", T.SHORT_TEXT, condition=when("t", "equals", "x"))),
        DefinitionError(
            "A question's condition cannot refer to the question itself.", "t", None, "condition"
        ),
    ),
    (
        defn(q("t", T.SHORT_TEXT, condition=when("s", "equals", "a")), SINGLE),
        DefinitionError(
            'The condition refers to question "s", which comes later in the survey.',
            "t",
            None,
            "condition",
        ),
    ),
    (
        defn(
            q("s", T.SINGLE_CHOICE, page_id="p1"),
            q("t", T.SHORT_TEXT, page_id="p2"),
            pages=(Page("p1"), Page("p2", condition=when("t", "equals", "x"))),
        ),
        DefinitionError(
            'The page condition refers to question "t", which is on this page or a later one.',
            None,
            "p2",
            "condition",
        ),
    ),
    (
        defn(
            q("s", T.SINGLE_CHOICE, page_id="p1"),
            q("t", T.SHORT_TEXT, page_id="p2"),
            pages=(Page("p1", condition=when("t", "equals", "x")), Page("p2")),
        ),
        DefinitionError(
            'The page condition refers to question "t", which is on this page or a later one.',
            None,
            "p1",
            "condition",
        ),
    ),
    (
        defn(SINGLE, q("t", T.SHORT_TEXT, condition=when("s", "greater", "a"))),
        DefinitionError(
            'The operator "greater" cannot be used with question "s" (single_choice).',
            "t",
            None,
            "condition",
        ),
    ),
    (
        defn(NUMBER, q("t", T.SHORT_TEXT, condition=when("n", "contains", 1))),
        DefinitionError(
            'The operator "contains" cannot be used with question "n" (number).',
            "t",
            None,
            "condition",
        ),
    ),
    (
        defn(q("x", T.MATRIX), q("t", T.SHORT_TEXT, condition=when("x", "equals", 1))),
        DefinitionError(
            'The operator "equals" cannot be used with question "x" (matrix).',
            "t",
            None,
            "condition",
        ),
    ),
    (
        defn(SINGLE, q("t", T.SHORT_TEXT, condition=when("s", "equals", "yes"))),
        DefinitionError('"yes" is not a choice of question "s".', "t", None, "condition"),
    ),
    (
        defn(NUMBER, q("t", T.SHORT_TEXT, condition=when("n", "greater", "lots"))),
        DefinitionError('The condition on question "n" needs a number.', "t", None, "condition"),
    ),
    (
        defn(q("r", T.RATING), q("t", T.SHORT_TEXT, condition=when("r", "equals", 2.5))),
        DefinitionError(
            'The condition on question "r" needs a whole number.', "t", None, "condition"
        ),
    ),
    (
        defn(q("dt", T.DATE), q("t", T.SHORT_TEXT, condition=when("dt", "less", "01/02/2024"))),
        DefinitionError(
            'The condition on question "dt" needs a date as YYYY-MM-DD.', "t", None, "condition"
        ),
    ),
    (
        defn(q("u", T.SHORT_TEXT), q("t", T.SHORT_TEXT, condition=when("u", "contains", " "))),
        DefinitionError(
            'The condition on question "u" needs non-empty text.', "t", None, "condition"
        ),
    ),
    (
        defn(q("t", T.SHORT_TEXT, condition=Condition(()))),
        DefinitionError("A condition needs at least one rule.", "t", None, "condition"),
    ),
    (
        defn(q("s", T.SINGLE_CHOICE, choices=())),
        DefinitionError("Add at least one choice.", "s", None, "choices"),
    ),
    (
        defn(q("k", T.RANKING, choices=())),
        DefinitionError("Add at least one choice.", "k", None, "choices"),
    ),
    (
        defn(q("s", T.DROPDOWN, choices=choices("a", "b", "a"))),
        DefinitionError('Two choices share the id "a".', "s", None, "choices"),
    ),
    (
        defn(q("s", T.SINGLE_CHOICE, choices=choices("a", other="o") + choices(other="p"))),
        DefinitionError("Only one choice can have a free-text field.", "s", None, "choices"),
    ),
    (
        defn(q("k", T.RANKING, choices=choices("a", other="o"))),
        DefinitionError("Ranking choices cannot have a free-text field.", "k", None, "choices"),
    ),
    (
        defn(q("m", T.MULTIPLE_CHOICE, min_selections=3, max_selections=2)),
        DefinitionError(
            "The minimum number of selections is greater than the maximum.",
            "m",
            None,
            "min_selections",
        ),
    ),
    (
        defn(q("m", T.MULTIPLE_CHOICE, min_selections=4)),
        DefinitionError(
            "The minimum number of selections is greater than the number of choices.",
            "m",
            None,
            "min_selections",
        ),
    ),
    (
        defn(q("m", T.MULTIPLE_CHOICE, max_selections=0)),
        DefinitionError("Selection limits must be at least 1.", "m", None, "max_selections"),
    ),
    (
        defn(q("x", T.MATRIX, rows=())),
        DefinitionError("Add at least one row.", "x", None, "rows"),
    ),
    (
        defn(q("x", T.MATRIX, rows=choices("r", "r"))),
        DefinitionError('Two rows share the id "r".', "x", None, "rows"),
    ),
    (
        defn(q("l", T.LIKERT, scale_labels=("only",))),
        DefinitionError("A scale needs at least two labels.", "l", None, "scale_labels"),
    ),
    (
        defn(q("r", T.RATING, scale_min=5, scale_max=1)),
        DefinitionError("The lowest rating must be less than the highest.", "r", None, "scale_min"),
    ),
    (
        defn(q("r", T.RATING, scale_min=7)),
        DefinitionError("The lowest rating must be less than the highest.", "r", None, "scale_min"),
    ),
    (
        defn(q("n", T.NUMBER, min_value=Decimal(5), max_value=Decimal(1))),
        DefinitionError("The minimum value is greater than the maximum.", "n", None, "min_value"),
    ),
    (
        defn(q("t", T.LONG_TEXT, min_length=10, max_length=5)),
        DefinitionError("The minimum length is greater than the maximum.", "t", None, "min_length"),
    ),
    (
        defn(q("t", T.SHORT_TEXT, min_length=-1)),
        DefinitionError("Length limits cannot be negative.", "t", None, "min_length"),
    ),
    (
        defn(q("t", T.SHORT_TEXT, pattern="(ab")),
        DefinitionError(
            "The pattern is not a valid regular expression: missing ), unterminated subpattern at position 0.",
            "t",
            None,
            "pattern",
        ),
    ),
    (
        defn(q("t", T.LONG_TEXT, pattern=r"\d+")),
        DefinitionError("Only short text questions can have a pattern.", "t", None, "pattern"),
    ),
    (
        defn(q("t", T.SHORT_TEXT), q("t", T.NUMBER)),
        DefinitionError('Another question already uses the id "t".', "t", None, "id"),
    ),
    (
        defn(q("t", T.SHORT_TEXT, page_id="p"), pages=(Page("p"), Page("p"))),
        DefinitionError('Another page already uses the id "p".', None, "p", "id"),
    ),
    (
        defn(q("t", T.SHORT_TEXT, page_id="p9"), pages=(Page("p"),)),
        DefinitionError('The page "p9" does not exist.', "t", None, "page_id"),
    ),
    (
        defn(q("t", T.SHORT_TEXT, page_id="p")),
        DefinitionError('The page "p" does not exist.', "t", None, "page_id"),
    ),
    (
        defn(q("t", T.SHORT_TEXT), pages=(Page("p"),)),
        DefinitionError("Put this question on a page.", "t", None, "page_id"),
    ),
    (
        defn(
            q("a", T.SHORT_TEXT, page_id="p2"),
            q("b", T.SHORT_TEXT, page_id="p1"),
            pages=(Page("p1"), Page("p2")),
        ),
        DefinitionError("Questions must be listed in page order.", "b", None, "page_id"),
    ),
]


@pytest.mark.parametrize(("definition", "error"), DEFINITION_ERRORS)
def test_check_definition_rejects(definition, error):
    assert check_definition(definition) == [error]


def test_circular_references_are_rejected():
    definition = defn(
        q("a", T.SHORT_TEXT, condition=when("b", "equals", "x")),
        q("b", T.SHORT_TEXT, condition=when("a", "equals", "x")),
    )
    assert [e.question_id for e in check_definition(definition)] == ["a"]


def test_check_definition_messages_are_translated():
    errors = check_definition(
        defn(q("s", T.SINGLE_CHOICE, choices=())), gettext=lambda s: "请添加选项。"
    )
    assert [e.message for e in errors] == ["请添加选项。"]


def test_valid_definition_has_no_errors():
    assert check_definition(FULL) == []
    assert check_definition(CASCADE) == []
    assert check_definition(GATED) == []


# --- shuffling --------------------------------------------------------------------------
SHUFFLED = q("s", T.MULTIPLE_CHOICE, shuffle_choices=True, choices=choices(*"abcdefgh", other="zz"))


def test_no_shuffle_keeps_order():
    question = q("s", T.SINGLE_CHOICE, choices=choices("a", "b", other="o"))
    assert shuffled_choices(question, "member-1") == list(question.choices)


def test_shuffle_is_stable_per_respondent():
    first = shuffled_choices(SHUFFLED, "member-1")
    assert first == shuffled_choices(SHUFFLED, "member-1")
    assert Counter(c.id for c in first) == Counter(c.id for c in SHUFFLED.choices)
    # pinned: a respondent must see the same order after upgrades (SHA-256, not hash())
    assert "".join(c.id for c in first) == "aecdbfhgzz"
    assert "".join(c.id for c in shuffled_choices(SHUFFLED, "member-2")) == "hbcdagfezz"


def test_shuffle_differs_between_respondents_and_questions():
    orders = {tuple(c.id for c in shuffled_choices(SHUFFLED, f"m{i}")) for i in range(30)}
    assert len(orders) > 1
    renamed = replace(SHUFFLED, id="other-question")
    assert any(
        shuffled_choices(renamed, f"m{i}") != shuffled_choices(SHUFFLED, f"m{i}") for i in range(30)
    )


def test_other_choice_stays_last():
    for i in range(30):
        order = shuffled_choices(SHUFFLED, f"m{i}")
        assert order[-1].id == "zz"
        assert order[-1].is_other


# --- NPS --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({10: 5, 9: 1, 8: 2, 0: 2}, NpsResult(6, 2, 2, 10, 40.0)),
        ({10: 1, 7: 2}, NpsResult(1, 2, 0, 3, 33.3)),
        ({10: 2, 0: 1}, NpsResult(2, 0, 1, 3, 33.3)),
        ({10: 1, 8: 15}, NpsResult(1, 15, 0, 16, 6.3)),
        ({6: 1, 8: 15}, NpsResult(0, 15, 1, 16, -6.3)),
        ({3: 4}, NpsResult(0, 0, 4, 4, -100.0)),
        ({}, NpsResult(0, 0, 0, 0, None)),
        ({9: 0}, NpsResult(0, 0, 0, 0, None)),
    ],
)
def test_nps_score(counts, expected):
    assert nps_score(counts) == expected


@pytest.mark.parametrize("counts", [{11: 1}, {-1: 1}, {True: 1}, {"9": 1}, {9: -1}, {9: 1.5}])
def test_nps_score_rejects_bad_counts(counts):
    with pytest.raises(ValueError):
        nps_score(counts)


# --- properties -------------------------------------------------------------------------
FULL = SurveyDefinition(
    pages=(
        Page("p1", "Basics"),
        Page("p2", "Details", condition=when("single", "not_equals", "b")),
        Page(
            "p3",
            "Extra",
            condition=when("nps", "greater", 8, Rule("likert", Operator.EQUALS, 2), match="any"),
        ),
    ),
    questions=(
        q(
            "single",
            T.SINGLE_CHOICE,
            page_id="p1",
            required=True,
            choices=choices("a", "b", other="o"),
        ),
        q(
            "multi",
            T.MULTIPLE_CHOICE,
            page_id="p1",
            choices=choices("a", "b", "c", other="o"),
            min_selections=1,
            max_selections=2,
            condition=when("single", "equals", "a"),
        ),
        q("drop", T.DROPDOWN, page_id="p1"),
        q(
            "short",
            T.SHORT_TEXT,
            page_id="p1",
            pattern="[a-z]+",
            max_length=10,
            min_length=2,
            condition=when("multi", "contains", "b"),
        ),
        q("long", T.LONG_TEXT, page_id="p1", required=True),
        q(
            "number",
            T.NUMBER,
            page_id="p1",
            min_value=Decimal(0),
            max_value=Decimal(100),
            integer_only=True,
        ),
        q("date", T.DATE, page_id="p1", condition=when("number", "greater", 10)),
        q("rating", T.RATING, page_id="p2", condition=when("date", "greater", "2020-01-01")),
        q("nps", T.NPS, page_id="p2", required=True, condition=when("rating", "less", 3)),
        q("likert", T.LIKERT, page_id="p2", scale_labels=("1", "2", "3", "4", "5")),
        q(
            "matrix",
            T.MATRIX,
            page_id="p2",
            required=True,
            condition=when("short", "equals", "abc"),
        ),
        q("ranking", T.RANKING, page_id="p2"),
        q("extra", T.LONG_TEXT, page_id="p3", condition=when("short", "contains", "ab")),
    ),
)
QUESTION_IDS = [question.id for question in FULL.questions]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ids = st.sampled_from(["a", "b", "c", "o", "r1", "r2", "zzz", ""])
plausible = st.one_of(
    st.fixed_dictionaries({"choice": ids | json_scalars}, optional={"other_text": json_scalars}),
    st.fixed_dictionaries(
        {"choices": st.lists(ids, max_size=5)}, optional={"other_text": st.text(max_size=5)}
    ),
    st.lists(ids, max_size=5),
    st.dictionaries(ids, st.integers(-1, 7) | json_scalars, max_size=3),
    st.integers(-2, 120),
    st.dates().map(date.isoformat),
    st.sampled_from(["abc", "ab", "x", " 42 ", "1e1", "2024-02-30"]),
)
answer_maps = st.dictionaries(
    st.sampled_from(QUESTION_IDS) | st.text(max_size=8), plausible | json_values, max_size=14
)


def _assert_well_formed(result: CleanResult, answers: dict[str, Any]) -> None:
    assert isinstance(result, CleanResult)
    visible = visible_question_ids(FULL, answers)
    assert set(result.values) <= visible
    assert not set(result.values) & set(result.errors)
    for messages in result.errors.values():
        assert messages and all(isinstance(m, str) and m for m in messages)
    json.dumps(result.to_json())


@settings(max_examples=400, deadline=None)
@given(answers=answer_maps)
def test_clean_response_never_raises_and_round_trips(answers):
    draft = clean_response(FULL, answers, partial=True)
    submit = clean_response(FULL, answers, partial=False)
    _assert_well_formed(draft, answers)
    _assert_well_formed(submit, answers)
    # a draft's cleaned values, stored as JSON and loaded again, give the same draft
    again = clean_response(FULL, draft.to_json(), partial=True)
    assert again.errors == {}
    assert again.values == draft.values
    if submit.is_valid:
        assert clean_response(FULL, submit.to_json(), partial=False) == submit


@settings(max_examples=100, deadline=None)
@given(answers=json_values)
def test_clean_response_accepts_any_json(answers):
    for partial in (False, True):
        result = clean_response(FULL, answers, partial=partial)
        assert isinstance(result, CleanResult)
        visible_question_ids(FULL, answers)


@settings(max_examples=100, deadline=None)
@given(question_id=st.sampled_from(QUESTION_IDS), raw=json_values | plausible)
def test_every_type_handles_any_json(question_id, raw):
    question = FULL.question_map()[question_id]
    lone = replace(question, condition=None, page_id=None)
    result = clean_one(lone, raw)
    assert set(result.values) | set(result.errors) <= {question_id}
