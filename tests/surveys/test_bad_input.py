"""Bad answers: 4xx in the standard error shape naming the question, nothing saved."""

from __future__ import annotations

import pytest

from surveys.models import Answer, Participation, Response, Survey
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(community):
    survey = make_survey(
        community,
        [
            {
                "key": "color",
                "type": "single_choice",
                "title": "颜色",
                "required": True,
                "choices": ["红", "绿"],
            },
            {"key": "fruit", "type": "multiple_choice", "title": "水果", "choices": ["苹果", "梨"]},
            {"key": "name", "type": "short_text", "title": "名字", "max_length": 5},
            {
                "key": "age",
                "type": "number",
                "title": "年龄",
                "min_value": 0,
                "max_value": 120,
                "integer_only": True,
            },
            {"key": "day", "type": "date", "title": "日期"},
            {"key": "why", "type": "long_text", "title": "为什么选红"},
        ],
    )
    why = survey.q["why"]
    why.condition = {
        "match": "all",
        "rules": [
            {
                "question_id": survey.q["color"].id,
                "operator": "equals",
                "value": survey.c["color"]["红"].id,
            }
        ],
    }
    why.save()
    return survey


def _valid(survey):
    return {survey.q["color"].id: {"choice": survey.c["color"]["绿"].id}}


CASES = {
    "wrong type": lambda s: ("age", "twelve"),
    "wrong type for choice": lambda s: ("color", "红"),
    "unknown choice id": lambda s: ("fruit", {"choices": ["nope12345678"]}),
    "choice of another question": lambda s: ("fruit", {"choices": [s.c["color"]["红"].id]}),
    "over-long text": lambda s: ("name", "一二三四五六"),
    "number out of range": lambda s: ("age", 130),
    "decimal where integer": lambda s: ("age", 1.5),
    "malformed date": lambda s: ("day", "2024-02-30"),
    "date wrong format": lambda s: ("day", "30/01/2024"),
    "answer to a hidden question": lambda s: ("why", "因为"),
}


def _snapshot():
    return (
        Response.objects.count(),
        Participation.objects.count(),
        Answer.objects.count(),
        Survey.objects.get().submitted_count,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_bad_answer_on_submit(member, survey, case):
    _m, client = member
    key, value = CASES[case](survey)
    answers = {**_valid(survey), survey.q[key].id: value}
    before = _snapshot()
    response = client.post(
        f"/api/v1/surveys/{survey.id}/submit", {"answers": answers}, format="json"
    )
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["type"] == "validation_error"
    assert [e["attr"] for e in body["errors"]] == [f"answers.{survey.q[key].id}"]
    assert body["errors"][0]["detail"]
    assert _snapshot() == before


@pytest.mark.parametrize("case", [c for c in CASES if c != "answer to a hidden question"])
def test_bad_answer_on_draft(member, survey, case):
    _m, client = member
    key, value = CASES[case](survey)
    before = _snapshot()
    response = client.put(
        f"/api/v1/surveys/{survey.id}/draft", {"answers": {survey.q[key].id: value}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == f"answers.{survey.q[key].id}"
    assert _snapshot() == before


def test_missing_required_answer(member, survey):
    response = member[1].post(f"/api/v1/surveys/{survey.id}/submit", {"answers": {}}, format="json")
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == [f"answers.{survey.q['color'].id}"]
    assert Response.objects.count() == 0


def test_unknown_question_and_non_object(member, survey):
    _m, client = member
    response = client.post(
        f"/api/v1/surveys/{survey.id}/submit",
        {"answers": {**_valid(survey), "zzz": 1}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "answers.zzz"
    response = client.post(f"/api/v1/surveys/{survey.id}/submit", {"answers": [1]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "answers"
    assert Response.objects.count() == 0


def test_messages_are_translated(member, survey):
    _m, client = member
    response = client.post(
        f"/api/v1/surveys/{survey.id}/submit",
        {"answers": {}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["errors"][0]["detail"]
