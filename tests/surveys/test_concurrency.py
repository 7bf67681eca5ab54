"""The response cap holds under parallel submissions (real threads, PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from community.errors import Conflict
from surveys import services
from surveys.models import Answer, Participation, Response, Survey
from surveys.services import ChoiceSpec
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.surveys.factories import basic_questions, make_survey
from tests.waiting import wait_for

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


def test_control_read_then_write_oversubscribes(needs_postgres, community):
    """Control for the test above: the same parallel submitters, counted by the unguarded
    statement "read the count, and write when it is under the cap", pass the cap. Every thread
    reads, then all write (the barrier holds each one between its read and its write: the
    window that real traffic opens by chance). So the guard in the service, not luck or the
    test's timing, is what keeps the cap."""
    survey = make_survey(community, basic_questions(), response_cap=CAP)
    users = [MembershipFactory(community=community).user for _ in range(MEMBERS)]
    table = Survey._meta.db_table
    barrier = threading.Barrier(MEMBERS)

    def submit_unguarded(user) -> bool:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT submitted_count, response_cap FROM {table} WHERE id = %s",  # noqa: S608
                        [survey.pk],
                    )
                    count, cap = cursor.fetchone()
                barrier.wait()
                if count >= cap:
                    return False
                Response.objects.create(
                    community=community,
                    survey=survey,
                    respondent=user,
                    status="submitted",
                    submitted_at=timezone.now(),
                )
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET submitted_count = %s WHERE id = %s",  # noqa: S608
                        [count + 1, survey.pk],
                    )
                return True
        finally:
            connections.close_all()

    with ThreadPoolExecutor(MEMBERS) as pool:
        accepted = sum(pool.map(submit_unguarded, users))

    assert accepted == MEMBERS > CAP  # every submitter saw room
    assert Response.objects.filter(survey=survey, status="submitted").count() == MEMBERS
    # And the counter lost the updates, so the check constraint never saw the overflow.
    assert Survey.objects.get(pk=survey.pk).submitted_count == 1


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


def _blocked_backends() -> int:
    """Sessions of this database waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("remove_picked_choice", [False, True])
def test_first_submission_racing_an_authoring_edit(needs_postgres, community, remove_picked_choice):
    """The authoring services hold the survey row lock: a first submission cannot count itself
    (and commit) until the edit commits. The edit bumped the survey's version, so the guarded
    count refuses the submission and nothing is kept; its answers are validated again against
    the new definition. When the edit removed the choice the submission picked (allowed:
    nothing was submitted yet), that is a 409 ``survey_changed``, nothing half-written.
    Control: after a relabelling the submission goes through, recorded against the new
    version."""
    survey = make_survey(community, basic_questions())
    moderator = MembershipFactory(community=community, tier="moderator")
    member = MembershipFactory(community=community)
    q1 = survey.q["q1"]
    choices = [ChoiceSpec(c.id, c.label) for c in q1.choices.order_by("order")]
    if remove_picked_choice:
        choices = [c for c in choices if c.label != "No"]
    else:
        choices = [c._replace(label=c.label + "!") for c in choices]
    answers = _answers(survey)  # picks "No", validated against the definition before the edit
    edited, release = threading.Event(), threading.Event()

    def edit():
        try:
            with transaction.atomic():
                services.choice_sync(actor=moderator, question_id=q1.id, choices=choices)
                edited.set()
                assert release.wait(30)
        finally:
            connections.close_all()

    def submit():
        try:
            assert edited.wait(30)
            return services.response_submit(membership=member, survey=survey, answers=answers)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        editing = pool.submit(edit)
        submitting = pool.submit(submit)
        wait_for(lambda: _blocked_backends() > 0, timeout=30, interval=0.02)
        assert _blocked_backends() == 1  # the submission waits for the survey row
        assert not submitting.done()
        release.set()
        editing.result()
        if remove_picked_choice:
            with pytest.raises(Conflict) as refused:
                submitting.result()
            assert refused.value.code == "survey_changed"
        else:
            submitted = submitting.result()
            survey.refresh_from_db()
            assert submitted.response.definition_version == survey.version

    counted = 0 if remove_picked_choice else 1
    assert Survey.objects.get(pk=survey.pk).submitted_count == counted
    assert Response.objects.filter(status="submitted").count() == counted
    assert Answer.objects.count() == 3 * counted
