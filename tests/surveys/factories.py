"""Building surveys for tests: ``make_survey(community, [spec, ...])``."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from surveys.models import Choice, Page, Question, Survey, SurveyStatus


def make_survey(
    community,
    questions: list[dict[str, Any]],
    *,
    pages: list[dict[str, Any]] | None = None,
    status: str = SurveyStatus.PUBLISHED,
    **fields,
) -> Survey:
    """A survey whose questions are given as dicts of ``Question`` fields plus
    ``choices`` (labels, or dicts with ``label``/``is_other``), ``rows`` (labels) and
    ``page`` (an index into ``pages``). ``key`` names a question for ``survey.q[key]``;
    choices are reachable as ``survey.c[key][label]``."""
    survey = Survey.objects.create(
        community=community, title=fields.pop("title", "问卷"), status=status, **fields
    )
    page_rows = [
        Page.objects.create(survey=survey, order=i + 1, **spec)
        for i, spec in enumerate(pages or [])
    ]
    survey.q, survey.c = {}, {}
    for order, spec in enumerate(questions, start=1):
        spec = dict(spec)
        key = spec.pop("key", f"q{order}")
        choices = spec.pop("choices", [])
        rows = spec.pop("rows", [])
        page = spec.pop("page", 0 if page_rows else None)
        question = Question.objects.create(
            survey=survey,
            order=order,
            page=page_rows[page] if page is not None else None,
            **spec,
        )
        survey.q[key] = question
        survey.c[key] = {}
        for i, choice in enumerate(choices, start=1):
            if isinstance(choice, str):
                choice = {"label": choice}
            survey.c[key][choice["label"]] = Choice.objects.create(
                question=question, order=i, **choice
            )
        for i, label in enumerate(rows, start=1):
            survey.c[key][label] = Choice.objects.create(
                question=question, order=100 + i, label=label, is_row=True
            )
    survey.pages_ = page_rows
    survey.refresh_from_db(fields=["version"])
    return survey


def basic_questions(n_extra: int = 0) -> list[dict[str, Any]]:
    """Three questions (single choice, rating, short text shown when q1 == "Yes"), plus
    ``n_extra`` optional short texts."""
    specs: list[dict[str, Any]] = [
        {
            "key": "q1",
            "type": "single_choice",
            "title": "来吗?",
            "required": True,
            "choices": ["Yes", "No"],
        },
        {"key": "q2", "type": "rating", "title": "打分", "required": True},
        {"key": "q3", "type": "short_text", "title": "为什么?", "required": True, "max_length": 20},
    ]
    specs += [{"key": f"x{i}", "type": "short_text", "title": f"其他 {i}"} for i in range(n_extra)]
    return specs


def with_condition(survey: Survey) -> Survey:
    """Show q3 only when q1 is "Yes"."""
    q3 = survey.q["q3"]
    q3.condition = {
        "match": "all",
        "rules": [
            {
                "question_id": survey.q["q1"].id,
                "operator": "equals",
                "value": survey.c["q1"]["Yes"].id,
            }
        ],
    }
    q3.save()
    # Written directly (not through the authoring services): bump the version like they do,
    # so a definition cached before this edit is not served.
    Survey.objects.filter(pk=survey.pk).update(version=F("version") + 1)
    survey.refresh_from_db(fields=["version"])
    return survey


def make_quiz(community, **fields) -> Survey:
    """A published quiz worth 7 points: ``capital`` (single choice, 北京 correct, 2 points),
    ``primes`` (multiple choice, 2 and 3 correct, 3 points), ``answer`` (number, 42.5, 1 point),
    ``city`` (short text, "Hangzhou" or 杭州, 1 point) and an unscored rating ``feel``."""
    survey = make_survey(
        community,
        [
            {
                "key": "capital",
                "type": "single_choice",
                "title": "中国的首都?",
                "required": True,
                "choices": [{"label": "北京", "is_correct": True}, "上海"],
                "quiz_points": 2,
                "quiz_explanation": "EXPLAIN-CAPITAL 北京是首都",
            },
            {
                "key": "primes",
                "type": "multiple_choice",
                "title": "哪些是质数?",
                "choices": [
                    {"label": "2", "is_correct": True},
                    {"label": "3", "is_correct": True},
                    "4",
                ],
                "quiz_points": 3,
                "quiz_explanation": "EXPLAIN-PRIMES",
            },
            {
                "key": "answer",
                "type": "number",
                "title": "答案是?",
                "quiz_points": 1,
                "quiz_answer": "42.5",
            },
            {
                "key": "city",
                "type": "short_text",
                "title": "西湖在哪个城市?",
                "quiz_points": 1,
                "quiz_answer": "Hangzhou\n杭州",
            },
            {"key": "feel", "type": "rating", "title": "好玩吗?"},
        ],
        quiz_mode=True,
        **fields,
    )
    return survey


def quiz_answers(survey: Survey, *, capital="北京", primes=("2", "3"), answer=42.5, city="杭州"):
    """Answers to :func:`make_quiz` (all right by default: 7 points)."""
    return {
        survey.q["capital"].id: {"choice": survey.c["capital"][capital].id},
        survey.q["primes"].id: {"choices": [survey.c["primes"][p].id for p in primes]},
        survey.q["answer"].id: answer,
        survey.q["city"].id: city,
        survey.q["feel"].id: 5,
    }
