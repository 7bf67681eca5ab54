"""Query counts of the hot endpoints are pinned and do not grow with the number of questions."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from tests.conftest import redis_test_url
from tests.surveys.factories import basic_questions, make_survey, with_condition

pytestmark = pytest.mark.django_db

# bearer token lookup (1); survey with my membership (1, one join); my participation (1)
DETAIL_QUERIES = 3
# cold cache: + pages, questions, choices (definition) + question and page help texts
DETAIL_QUERIES_COLD = DETAIL_QUERIES + 5
# token, survey with my membership (1 query); in the transaction (inside the test's savepoint
# pair), on PostgreSQL ONE statement: the participation found or created, locked and checked
# (upsert), the response, its answers and the guarded count of the survey row (was two: the
# participation's upsert, then the writes). Other databases: look up the participation, create
# it in a savepoint pair the first time, then one statement per write.
SUBMIT_QUERIES = 5 if connection.vendor == "postgresql" else 12


def _answers(survey):
    answers = {
        survey.q["q1"].id: {"choice": survey.c["q1"]["Yes"].id},
        survey.q["q2"].id: 5,
        survey.q["q3"].id: "好",
    }
    answers.update({q.id: "x" for key, q in survey.q.items() if key.startswith("x")})
    return answers


@pytest.mark.parametrize("extra", [0, 17])
def test_detail_query_count(community, member, django_assert_num_queries, extra):
    survey = with_condition(make_survey(community, basic_questions(extra)))
    _m, client = member
    cache.clear()
    with django_assert_num_queries(DETAIL_QUERIES_COLD):
        response = client.get(f"/api/v1/surveys/{survey.id}")
    assert len(response.json()["questions"]) == 3 + extra
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(f"/api/v1/surveys/{survey.id}")


@pytest.mark.parametrize("extra", [0, 17])
def test_submit_query_count(community, member, django_assert_num_queries, extra):
    survey = with_condition(make_survey(community, basic_questions(extra)))
    _m, client = member
    client.get(f"/api/v1/surveys/{survey.id}")  # warm the definition cache
    with django_assert_num_queries(SUBMIT_QUERIES):
        response = client.post(
            f"/api/v1/surveys/{survey.id}/submit", {"answers": _answers(survey)}, format="json"
        )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("extra", [0, 17])
def test_anonymous_submit_query_count(
    community,
    member,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
    extra,
    settings,
):
    """The sealed response takes the place of the response and its answers (one statement
    fewer on other databases). The work after its commit is counted too, and costs no query:
    the submission's own statement says how many responses wait in the box
    (``Survey.box_waiting``); the box was counted with one more query after every commit.
    (The activity count goes to Redis, as in production.)"""
    settings.INSIGHTS_REDIS_URL = redis_test_url()
    survey = with_condition(make_survey(community, basic_questions(extra), anonymous=True))
    _m, client = member
    client.get(f"/api/v1/surveys/{survey.id}")  # warm the definition cache
    queries = 5 if connection.vendor == "postgresql" else 12
    with (
        django_assert_num_queries(queries),
        django_capture_on_commit_callbacks(execute=True) as after_commit,
    ):
        response = client.post(
            f"/api/v1/surveys/{survey.id}/submit", {"answers": _answers(survey)}, format="json"
        )
    assert response.status_code == 201, response.json()
    assert response.json()["response_token"]
    assert len(after_commit) == 1  # the activity count (Redis); the box needs nothing


def test_second_submit_query_count(community, member, django_assert_num_queries):
    """A member's next response (the survey allows several) finds the participation."""
    survey = with_condition(
        make_survey(community, basic_questions(), allow_multiple_responses=True)
    )
    _m, client = member
    url = f"/api/v1/surveys/{survey.id}/submit"
    assert client.post(url, {"answers": _answers(survey)}, format="json").status_code == 201
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 9):
        response = client.post(url, {"answers": _answers(survey)}, format="json")
    assert response.status_code == 201, response.json()


def test_list_query_count(community, member, django_assert_num_queries):
    for _ in range(5):
        make_survey(community, basic_questions())
    _m, client = member
    with django_assert_num_queries(3):  # token, membership, page (a cursor needs no count)
        response = client.get(f"/api/v1/communities/{community.id}/surveys")
    assert len(response.json()["results"]) == 5
