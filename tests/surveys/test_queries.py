"""Query counts of the hot endpoints are pinned and do not grow with the number of questions."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.surveys.factories import basic_questions, make_survey, with_condition

pytestmark = pytest.mark.django_db

# bearer token lookup (1); survey with my membership (1, one join); my participation (1)
DETAIL_QUERIES = 3
# cold cache: + pages, questions, choices (definition) + question and page help texts
DETAIL_QUERIES_COLD = DETAIL_QUERIES + 5
# token, survey with my membership (1 query); in the transaction: participation
# (FOR UPDATE; created in a savepoint pair the first time), insert response, insert answers, update participation, count (conditional
# UPDATE of the survey row, last); plus the savepoint pair of the test transaction
SUBMIT_QUERIES = 12


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


def test_list_query_count(community, member, django_assert_num_queries):
    for _ in range(5):
        make_survey(community, basic_questions())
    _m, client = member
    with django_assert_num_queries(3):  # token, membership, page (a cursor needs no count)
        response = client.get(f"/api/v1/communities/{community.id}/surveys")
    assert len(response.json()["results"]) == 5
