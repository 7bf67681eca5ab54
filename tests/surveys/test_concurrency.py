"""The response cap holds under parallel submissions (real threads, PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections, transaction

from surveys.models import Answer, Participation, Response, Survey
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db(transaction=True)

CAP, MEMBERS = 5, 20


def _answers(survey):
    return {
        survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id},
        survey.q["q2"].id: 3,
        survey.q["q3"].id: "ok",
    }


@pytest.fixture
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL)")


def test_cap_never_exceeded_under_parallel_submits(needs_postgres, community):
    survey = make_survey(community, basic_questions(), response_cap=CAP)
    clients = [client_for(MembershipFactory(community=community).user) for _ in range(MEMBERS)]
    answers = _answers(survey)
    barrier = threading.Barrier(MEMBERS)

    def submit(client):
        try:
            barrier.wait()
            return client.post(
                f"/api/v1/surveys/{survey.id}/submit", {"answers": answers}, format="json"
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(MEMBERS) as pool:
        results = list(pool.map(submit, clients))

    codes = sorted(r.status_code for r in results)
    assert codes == [201] * CAP + [409] * (MEMBERS - CAP)
    refused = [r.json() for r in results if r.status_code == 409]
    assert {e["errors"][0]["code"] for e in refused} == {"survey_full"}
    assert Survey.objects.get().submitted_count == CAP
    assert Response.objects.count() == CAP
    assert Participation.objects.count() == CAP
    assert Answer.objects.count() == CAP * 3


def test_parallel_submits_of_one_member_count_once(needs_postgres, community):
    survey = make_survey(community, basic_questions())
    user = MembershipFactory(community=community).user
    clients = [client_for(user) for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def submit(client):
        try:
            barrier.wait()
            return client.post(
                f"/api/v1/surveys/{survey.id}/submit", {"answers": _answers(survey)}, format="json"
            ).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(clients)) as pool:
        codes = sorted(pool.map(submit, clients))
    assert codes == [201] + [409] * 7
    assert Response.objects.count() == 1


def test_database_refuses_count_over_cap(community):
    """The check constraint backs the lock up: the counter can never pass the cap."""
    survey = make_survey(community, basic_questions(), response_cap=1, submitted_count=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.filter(pk=survey.pk).update(submitted_count=2)
