"""Bad input to the quiz endpoints: a 4xx in the one error shape, and nothing changes."""

from __future__ import annotations

import pytest

from surveys.models import Participation, QuizEntry, Response
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import basic_questions, make_quiz, make_survey, quiz_answers

pytestmark = pytest.mark.django_db


def _state():
    return (
        list(QuizEntry.objects.order_by("id").values_list("id", "show_name", "score")),
        Response.objects.count(),
        Participation.objects.count(),
    )


def _code(response) -> str:
    body = response.json()
    assert body["type"] in ("client_error", "validation_error"), body
    return body["errors"][0]["code"]


@pytest.mark.parametrize(
    "body",
    [{"show_name": "maybe"}, {"show_name": []}, {"show_name": {"a": 1}}, {"show_name": None}],
)
def test_start_with_bad_show_name(community, member, body):
    quiz = make_quiz(community)
    _m, client = member
    before = _state()
    response = client.post(f"/api/v1/surveys/{quiz.id}/quiz/start", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "show_name"
    assert _state() == before


@pytest.mark.parametrize("body", [{}, {"show_name": "x"}, {"show_name": None}, []])
def test_name_visibility_with_bad_body(community, member, body):
    quiz = make_quiz(community)
    _m, client = member
    client.post(f"/api/v1/surveys/{quiz.id}/quiz/start", {}, format="json")
    before = _state()
    response = client.patch(f"/api/v1/surveys/{quiz.id}/quiz", body, format="json")
    assert response.status_code == 400
    assert _state() == before


def test_name_visibility_before_starting_is_404(community, member):
    quiz = make_quiz(community)
    _m, client = member
    response = client.patch(f"/api/v1/surveys/{quiz.id}/quiz", {"show_name": True}, format="json")
    assert response.status_code == 404 and _code(response) == "quiz_not_started"
    assert not QuizEntry.objects.exists()


def test_other_communitys_quiz_is_404_everywhere(community, member):
    other = make_quiz(CommunityFactory())
    player = MembershipFactory(community=other.community)
    client_for(player.user).post(
        f"/api/v1/surveys/{other.id}/submit", {"answers": quiz_answers(other)}, format="json"
    )
    _m, client = member
    before = _state()
    base = f"/api/v1/surveys/{other.id}"
    calls = [
        client.get(f"{base}/quiz"),
        client.post(f"{base}/quiz/start", {"show_name": True}, format="json"),
        client.patch(f"{base}/quiz", {"show_name": True}, format="json"),
        client.get(f"{base}/quiz/result"),
        client.get(f"{base}/quiz/leaderboard"),
    ]
    for response in calls:
        assert response.status_code == 404, response.json()
        assert "EXPLAIN" not in response.content.decode()
    assert _state() == before


def test_a_survey_that_is_not_a_quiz(community, member):
    survey = make_survey(community, basic_questions())
    _m, client = member
    base = f"/api/v1/surveys/{survey.id}"
    for response in (
        client.get(f"{base}/quiz"),
        client.post(f"{base}/quiz/start", {}, format="json"),
        client.patch(f"{base}/quiz", {"show_name": True}, format="json"),
        client.get(f"{base}/quiz/result"),
        client.get(f"{base}/quiz/leaderboard"),
    ):
        assert response.status_code == 404 and _code(response) == "not_a_quiz"
    assert not QuizEntry.objects.exists()
    assert client.get(base).json()["quiz"] is None


def test_bad_answers_to_a_quiz_save_no_score(community, member):
    quiz = make_quiz(community)
    _m, client = member
    before = _state()
    answers = quiz_answers(quiz)
    answers[quiz.q["answer"].id] = "forty-two"
    answers[quiz.q["capital"].id] = {"choice": "nosuchchoice"}
    response = client.post(f"/api/v1/surveys/{quiz.id}/submit", {"answers": answers}, format="json")
    assert response.status_code == 400
    attrs = {e["attr"] for e in response.json()["errors"]}
    assert attrs == {f"answers.{quiz.q['answer'].id}", f"answers.{quiz.q['capital'].id}"}
    assert _state() == before


def test_leaderboard_bad_cursor_and_page_size(community, member):
    quiz = make_quiz(community)
    _m, client = member
    client.post(f"/api/v1/surveys/{quiz.id}/submit", {"answers": quiz_answers(quiz)}, format="json")
    base = f"/api/v1/surveys/{quiz.id}/quiz/leaderboard"
    bad = client.get(f"{base}?cursor=not-a-cursor")
    assert bad.status_code == 404 and bad.json()["type"] == "client_error"
    # a page size out of range is clamped to the allowed one, never an error
    assert len(client.get(f"{base}?page_size=100000").json()["results"]) == 1
    assert len(client.get(f"{base}?page_size=-3").json()["results"]) == 1


def test_muted_member_cannot_start_but_may_read(community, make_member):
    quiz = make_quiz(community)
    _m, client = make_member(status="muted")
    response = client.post(f"/api/v1/surveys/{quiz.id}/quiz/start", {}, format="json")
    assert response.status_code == 403 and _code(response) == "muted"
    assert client.get(f"/api/v1/surveys/{quiz.id}/quiz").status_code == 200
    assert not QuizEntry.objects.exists()


def test_signed_out_is_refused(community, api_client):
    quiz = make_quiz(community)
    for response in (
        api_client.get(f"/api/v1/surveys/{quiz.id}/quiz"),
        api_client.post(f"/api/v1/surveys/{quiz.id}/quiz/start", {}, format="json"),
        api_client.get(f"/api/v1/surveys/{quiz.id}/quiz/leaderboard"),
    ):
        assert response.status_code in (401, 403, 404)
    assert not QuizEntry.objects.exists()
