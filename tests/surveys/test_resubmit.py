"""Submitting again with an empty body answers 409 ``already_submitted``, not a list of
missing answers."""

from __future__ import annotations

import pytest

from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
@pytest.mark.parametrize("body", [{}, {"answers": None}])
def test_submitting_again_without_answers_is_already_submitted(community, member, anonymous, body):
    _m, client = member
    survey = make_survey(community, basic_questions()[:2], anonymous=anonymous)
    answers = {survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id}, survey.q["q2"].id: 3}
    url = f"/api/v1/surveys/{survey.pk}/submit"
    assert client.post(url, {"answers": answers}, format="json").status_code == 201
    again = client.post(url, body, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_submitted"


def test_submitting_an_empty_body_before_any_draft_names_the_missing_answers(community, member):
    _m, client = member
    survey = make_survey(community, basic_questions()[:2])
    response = client.post(f"/api/v1/surveys/{survey.pk}/submit", {}, format="json")
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {
        f"answers.{survey.q['q1'].id}",
        f"answers.{survey.q['q2'].id}",
    }
