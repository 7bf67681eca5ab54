"""Quizzes end to end over HTTP: scoring, answers hidden until results are due, the
leaderboard (ties by submission time, names shown only by choice, my rank), the qualifiers
selector a draw reads, and the query counts of the quiz endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from community.models import MembershipStatus
from surveys import services
from surveys.models import QuizEntry, SurveyStatus
from surveys.selectors import quiz_qualifiers
from tests.surveys.factories import basic_questions, make_quiz, make_survey, quiz_answers

pytestmark = pytest.mark.django_db

#: What would give the key away (ids never contain a dot, so "42.5" is only ever the number).
SECRETS = ("EXPLAIN-CAPITAL", "EXPLAIN-PRIMES", "Hangzhou", "杭州", "is_correct", "42.5")


@pytest.fixture
def clock(monkeypatch):
    """A frozen clock for the services (``django.utils.timezone.now``), moved by hand."""

    class Clock:
        now = timezone.now().replace(microsecond=0)

        def tick(self, **delta) -> None:
            self.now += timedelta(**delta)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def _submit(client, survey, **answers):
    return client.post(
        f"/api/v1/surveys/{survey.id}/submit",
        {"answers": quiz_answers(survey, **answers)},
        format="json",
    )


def _secrets_in(body: bytes) -> list[str]:
    text = body.decode()
    return [s for s in SECRETS if s in text] + (["correct"] if "correct" in text else [])


# --- scoring --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, 7),
        ({"capital": "上海"}, 5),
        ({"primes": ("2",)}, 4),  # a subset is wrong: exact set match
        ({"primes": ("2", "3", "4")}, 4),  # a superset too
        ({"answer": "42.50"}, 7),  # the same number
        ({"answer": 41}, 6),
        ({"city": "  hangzhou "}, 7),  # case and outer spaces ignored
        ({"city": "Hang zhou"}, 6),
        ({"capital": "上海", "primes": ("4",), "answer": 1, "city": "上海"}, 0),
    ],
)
def test_submission_is_scored_and_stored(community, member, answers, expected):
    survey = make_quiz(community)
    membership, client = member
    response = _submit(client, survey, **answers)
    assert response.status_code == 201, response.json()
    entry = QuizEntry.objects.get(survey=survey, membership=membership)
    assert (entry.score, entry.max_score) == (expected, 7)
    assert entry.submitted_at is not None
    mine = client.get(f"/api/v1/surveys/{survey.id}/quiz").json()
    assert mine["score"] == expected and mine["max_score"] == 7 and mine["rank"] == 1


def test_result_after_submit_shows_answers_explanations_and_my_score(community, member):
    survey = make_quiz(community)
    _m, client = member
    assert _submit(client, survey, capital="上海").status_code == 201
    body = client.get(f"/api/v1/surveys/{survey.id}/quiz/result").json()
    assert (body["score"], body["max_score"], body["rank"]) == (5, 7, 1)
    by_id = {q["question_id"]: q for q in body["questions"]}
    capital = by_id[survey.q["capital"].id]
    assert capital["is_correct"] is False and capital["earned"] == 0
    assert capital["correct_choice_ids"] == [survey.c["capital"]["北京"].id]
    assert capital["my_answer"] == {"choice": survey.c["capital"]["上海"].id}
    assert capital["explanation"] == "EXPLAIN-CAPITAL 北京是首都"
    primes = by_id[survey.q["primes"].id]
    assert primes["earned"] == 3 and set(primes["correct_choice_ids"]) == {
        survey.c["primes"]["2"].id,
        survey.c["primes"]["3"].id,
    }
    number = by_id[survey.q["answer"].id]
    assert number["my_answer"] == 42.5 and number["accepted_answers"] == ["42.5"]
    assert by_id[survey.q["city"].id]["accepted_answers"] == ["Hangzhou", "杭州"]
    feel = by_id[survey.q["feel"].id]
    assert feel["points"] == 0 and feel["is_correct"] is None


# --- answers hidden before results are due ----------------------------------------------------
def test_no_member_endpoint_reveals_the_key_before_results_are_due(community, make_member):
    survey = make_quiz(community, quiz_results="after_close", publish_results=True)
    _m, client = make_member()
    base = f"/api/v1/surveys/{survey.id}"

    detail = client.get(base)
    assert detail.status_code == 200
    assert detail.json()["quiz_mode"] is True
    quiz = detail.json()["quiz"]
    assert quiz["max_score"] == 7 and quiz["results"] == "after_close"
    assert quiz["question_points"][survey.q["primes"].id] == 3
    assert _secrets_in(detail.content) == []
    for question in detail.json()["questions"]:
        assert set(question) >= {"choices"} and all(
            set(c) == {"id", "label", "is_other"} for c in question["choices"]
        )

    assert client.get(f"{base}/quiz").json()["results_due"] is False
    for path in ("quiz/result", "quiz/leaderboard", "results"):
        refused = client.get(f"{base}/{path}")
        assert refused.status_code == 403, path
        assert refused.json()["errors"][0]["code"] == "quiz_results_not_due"

    draft = client.put(f"{base}/draft", {"answers": quiz_answers(survey)}, format="json")
    assert draft.status_code == 200 and _secrets_in(draft.content) == ["杭州", "42.5"]
    submitted = _submit(client, survey)
    assert submitted.status_code == 201
    # what comes back is my own answers (杭州, 42), nothing of the key
    assert _secrets_in(submitted.content) == ["杭州", "42.5"]
    mine = client.get(f"{base}/quiz").json()
    assert mine["score"] is None and mine["rank"] is None and mine["submitted_at"]
    # after_close: submitting is not enough
    for path in ("quiz/result", "quiz/leaderboard", "results"):
        assert client.get(f"{base}/{path}").status_code == 403, path
    assert _secrets_in(client.get(f"{base}/response").content) == ["杭州", "42.5"]

    moderator = make_member(tier="moderator")[0]
    services.survey_close(actor=moderator, survey_id=survey.id)
    result = client.get(f"{base}/quiz/result")
    assert result.status_code == 200 and result.json()["score"] == 7
    assert client.get(f"{base}/quiz/leaderboard").status_code == 200
    assert client.get(f"{base}/results").status_code == 200
    # after the close a member who did not take part sees the key, with no score
    _o, other = make_member()
    late = other.get(f"{base}/quiz/result").json()
    assert late["score"] is None and late["rank"] is None
    assert "EXPLAIN-CAPITAL 北京是首都" in [q["explanation"] for q in late["questions"]]


def test_after_submit_results_show_to_who_submitted_only(community, make_member):
    survey = make_quiz(community)
    _a, alice = make_member()
    _b, bob = make_member()
    assert _submit(alice, survey).status_code == 201
    assert alice.get(f"/api/v1/surveys/{survey.id}/quiz/result").status_code == 200
    assert bob.get(f"/api/v1/surveys/{survey.id}/quiz/result").status_code == 403
    assert bob.get(f"/api/v1/surveys/{survey.id}/quiz/leaderboard").status_code == 403


def test_a_quiz_is_answered_once(community, member):
    survey = make_quiz(community)
    _m, client = member
    assert _submit(client, survey, capital="上海").status_code == 201
    again = _submit(client, survey)
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_submitted"
    assert QuizEntry.objects.get(survey=survey).score == 5


# --- leaderboard ----------------------------------------------------------------------------
def test_leaderboard_orders_by_score_then_submission_time(community, make_member, clock):
    survey = make_quiz(community)
    players = [make_member() for _ in range(4)]
    # (answers, seconds later): two ties at 5 points, one 7, one 0
    plays = [
        {"capital": "上海"},
        {},
        {"capital": "上海"},
        {"capital": "上海", "primes": ("4",), "answer": 0, "city": "x"},
    ]
    for (_membership, client), answers in zip(players, plays, strict=True):
        clock.tick(seconds=10)
        assert _submit(client, survey, **answers).status_code == 201
    _first, client = players[0]
    rows = client.get(f"/api/v1/surveys/{survey.id}/quiz/leaderboard").json()["results"]
    assert [(r["rank"], r["score"]) for r in rows] == [(1, 7), (2, 5), (3, 5), (4, 0)]
    # the earlier of the two 5s is player 0 (submitted 20 seconds before player 2)
    assert [r["is_me"] for r in rows] == [False, True, False, False]
    submitted = [r["submitted_at"] for r in rows[1:3]]
    assert submitted == sorted(submitted)
    assert client.get(f"/api/v1/surveys/{survey.id}/quiz").json()["rank"] == 2
    assert players[2][1].get(f"/api/v1/surveys/{survey.id}/quiz").json()["rank"] == 3

    # pages keep the places: rank continues across the cursor
    ranks, url = [], f"/api/v1/surveys/{survey.id}/quiz/leaderboard?page_size=1"
    while url:
        page = client.get(url).json()
        ranks += [(r["rank"], r["score"], r["is_me"]) for r in page["results"]]
        url = page["next"]
    assert ranks == [(1, 7, False), (2, 5, True), (3, 5, False), (4, 0, False)]


def test_names_show_only_when_the_member_chooses(community, make_member):
    survey = make_quiz(community)
    shy, shy_client = make_member()
    proud, proud_client = make_member()
    start = proud_client.post(
        f"/api/v1/surveys/{survey.id}/quiz/start", {"show_name": True}, format="json"
    )
    assert start.status_code == 200 and start.json()["show_name"] is True
    assert _submit(proud_client, survey).status_code == 201
    assert _submit(shy_client, survey, capital="上海").status_code == 201
    rows = shy_client.get(
        f"/api/v1/surveys/{survey.id}/quiz/leaderboard", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()["results"]
    assert [r["name"] for r in rows] == [proud.user.nickname, "匿名玩家"]
    assert shy.user.nickname not in str(rows)

    # change of mind, both ways, after submitting
    changed = shy_client.patch(
        f"/api/v1/surveys/{survey.id}/quiz", {"show_name": True}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["show_name"] is True
    proud_client.patch(f"/api/v1/surveys/{survey.id}/quiz", {"show_name": False}, format="json")
    rows = shy_client.get(
        f"/api/v1/surveys/{survey.id}/quiz/leaderboard", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["results"]
    assert [r["name"] for r in rows] == ["anonymous player", shy.user.nickname]


def test_leaderboard_query_count_does_not_grow(community, make_member, django_assert_num_queries):
    survey = make_quiz(community)
    players = [make_member() for _ in range(12)]
    _m, client = players[0]
    for size in (2, 12):
        for _membership, player in players[:size]:
            if not QuizEntry.objects.filter(membership=_membership).exists():
                assert _submit(player, survey).status_code == 201
        with django_assert_num_queries(LEADERBOARD_QUERIES):
            page = client.get(f"/api/v1/surveys/{survey.id}/quiz/leaderboard")
        assert len(page.json()["results"]) == size


# token, survey with my membership, my entry (results due?), the page (entries with their
# members' users joined), the rank of the page's first row
LEADERBOARD_QUERIES = 5
# the submit of a named survey (tests/surveys/test_queries.py: 6) plus the quiz's entry
# locked (1) and its score written (1); the answer key comes from the cache
QUIZ_SUBMIT_QUERIES = 8


def test_quiz_submit_query_count(community, member, django_assert_num_queries):
    survey = make_quiz(community)
    _m, client = member
    client.get(f"/api/v1/surveys/{survey.id}")  # warm the definition and key caches
    with django_assert_num_queries(QUIZ_SUBMIT_QUERIES):
        assert _submit(client, survey).status_code == 201


def test_answer_key_follows_the_definition_version(community, make_member):
    survey = make_quiz(community, status=SurveyStatus.DRAFT)
    moderator = make_member(tier="moderator")[0]
    cache.clear()
    services.question_update(actor=moderator, question_id=survey.q["answer"].id, quiz_answer="43")
    services.survey_publish(actor=moderator, survey_id=survey.id)
    survey.refresh_from_db()
    _m, client = make_member()
    assert _submit(client, survey, answer=43).status_code == 201
    assert QuizEntry.objects.get(survey=survey).score == 7


# --- qualifiers for a draw ------------------------------------------------------------------
def test_quiz_qualifiers_lists_memberships_with_enough_points(community, make_member, clock):
    survey = make_quiz(community)
    players = [make_member() for _ in range(4)]
    scores = [{}, {"capital": "上海"}, {"capital": "上海", "primes": ("4",)}, {}]  # 7, 5, 2, 7
    for (_membership, client), answers in zip(players, scores, strict=True):
        clock.tick(seconds=1)
        assert _submit(client, survey, **answers).status_code == 201
    ids = [m.pk for m, _c in players]
    # a member who only started does not qualify
    make_member_started = make_member()
    make_member_started[1].post(f"/api/v1/surveys/{survey.id}/quiz/start", {}, format="json")

    assert quiz_qualifiers(survey_id=survey.id, min_points=5) == [ids[0], ids[3], ids[1]]
    assert quiz_qualifiers(survey_id=survey.id, min_points=0) == [ids[0], ids[3], ids[1], ids[2]]
    assert quiz_qualifiers(survey_id=survey.id, min_points=8) == []
    assert all(isinstance(i, str) for i in quiz_qualifiers(survey_id=survey.id, min_points=0))
    # banned or departed members drop out; muted ones stay
    players[0][0].status = MembershipStatus.BANNED
    players[0][0].save()
    players[3][0].status = MembershipStatus.MUTED
    players[3][0].save()
    assert quiz_qualifiers(survey_id=survey.id, min_points=5) == [ids[3], ids[1]]
    # not a quiz, or unknown: nobody
    plain = make_survey(community, basic_questions())
    assert quiz_qualifiers(survey_id=plain.id, min_points=0) == []
    assert quiz_qualifiers(survey_id="nosuchsurvey", min_points=0) == []
