"""Free text of survey answers (short/long text, "other" text) is normalised at the API
boundary (``AnswersInField``) before the engine validates it: stored, reported and returned in
the normal form of ``community.text``; text that is only invisible characters is no answer, so
a required question refuses it and nothing is submitted."""

from __future__ import annotations

import pytest

from surveys.models import Answer, Response, Survey
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db

ZW = "\u200b"
RLO = "\u202e"


@pytest.fixture
def survey(community):
    return make_survey(
        community,
        [
            {"key": "short", "type": "short_text", "title": "昵称", "required": True},
            {"key": "long", "type": "long_text", "title": "建议"},
            {
                "key": "pick",
                "type": "single_choice",
                "title": "哪里",
                "required": True,
                "choices": ["公园", {"label": "其他", "is_other": True}],
            },
        ],
    )


def _answers(survey, short, long="", other="海边"):
    return {
        survey.q["short"].id: short,
        survey.q["long"].id: long,
        survey.q["pick"].id: {"choice": survey.c["pick"]["其他"].id, "other_text": other},
    }


def test_free_text_answers_are_stored_in_normal_form(member, survey):
    _m, client = member
    answers = _answers(
        survey,
        short=f" {RLO}ＡＢＣ{ZW} ",
        long="第一点\u3000很好\r\n\r\n\r\n\r\n第二点\u200f",
        other=f"海{ZW}边 ",
    )
    response = client.post(
        f"/api/v1/surveys/{survey.id}/submit", {"answers": answers}, format="json"
    )
    assert response.status_code == 201, response.content
    stored = Response.objects.get().answers
    assert stored[survey.q["short"].id] == "ABC"
    assert stored[survey.q["long"].id] == "第一点 很好\n\n第二点"
    assert stored[survey.q["pick"].id]["other_text"] == "海边"
    reported = set(Answer.objects.values_list("text", flat=True))
    assert {"ABC", "第一点 很好\n\n第二点", "海边"} <= reported


def test_a_draft_is_normalised_too(member, survey):
    _m, client = member
    body = {"answers": {survey.q["short"].id: f"小张{ZW}"}}
    response = client.put(f"/api/v1/surveys/{survey.id}/draft", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["answers"][survey.q["short"].id] == "小张"


@pytest.mark.parametrize("where", ["short", "other"])
def test_invisible_only_text_is_no_answer_and_nothing_is_submitted(member, survey, where):
    _m, client = member
    invisible = f"{ZW}{RLO}\u2066\ufeff\u3000"
    answers = (
        _answers(survey, short=invisible)
        if where == "short"
        else _answers(survey, short="小张", other=invisible)
    )
    response = client.post(
        f"/api/v1/surveys/{survey.id}/submit",
        {"answers": answers},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400, response.content
    attr = f"answers.{survey.q['short' if where == 'short' else 'pick'].id}"
    assert attr in {e["attr"] for e in response.json()["errors"]}
    assert not Response.objects.exists() and not Answer.objects.exists()
    assert Survey.objects.get().submitted_count == 0
