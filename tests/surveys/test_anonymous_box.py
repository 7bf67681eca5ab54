"""The box of anonymous surveys: sealing, mixing in batches of k, the small-group floor of
reports, and the cap under parallel submissions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection, connections, transaction
from django.utils import timezone

from community.errors import DomainError
from community.sealing import seal, unseal
from surveys import services, tasks
from surveys.models import Answer, Participation, Response, SealedResponse, Survey
from surveys.reports import crosstab, survey_report
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.surveys.factories import basic_questions, make_survey


def _answers(survey, yes: bool = False, rating: int = 3) -> dict:
    choice = "Yes" if yes else "No"
    return {
        survey.q["q1"].id: {"choice": survey.c["q1"][choice].id},
        survey.q["q2"].id: rating,
        survey.q["q3"].id: "ok",
    }


def _submit(survey, community, **kw):
    membership = MembershipFactory(community=community)
    return services.response_submit(
        membership=membership, survey=survey, answers=_answers(survey, **kw)
    )


# --- sealing ---------------------------------------------------------------------------------
def test_sealed_response_opens_only_for_its_survey_and_key():
    payload = {"answers": {"q": "短"}}
    sealed = seal(secret="k1", box="survey:S1", payload=payload)
    assert unseal(secret="k1", box="survey:S1", sealed=sealed) == payload
    for secret, survey_id in (("k2", "S1"), ("k1", "S2")):
        with pytest.raises(InvalidTag):
            unseal(secret=secret, box=f"survey:{survey_id}", sealed=sealed)
    # padded: a long answer seals to the same size as a short one
    longer = seal(secret="k1", box="survey:S1", payload={"answers": {"q": "长" * 200}})
    assert len(longer) == len(sealed)
    assert b"\xe7\x9f\xad" not in sealed  # the plaintext is not in the sealed bytes


def test_threads_sealing_into_one_box_at_once_each_open_what_they_sealed():
    """Each thread keeps its own AES-GCM objects (``community.sealing._aead``): eight threads
    sealing and opening in the same two boxes at once get back exactly their payloads."""

    def work(worker: int) -> bool:
        for i in range(200):
            box = f"survey:S{i % 2}"
            payload = {"worker": worker, "i": i, "answers": {"q": "答" * (i % 50)}}
            if unseal(secret="k1", box=box, sealed=seal(secret="k1", box=box, payload=payload)) != (
                payload
            ):
                return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))


@pytest.mark.django_db
def test_sealed_bytes_stay_in_their_row(community):
    """Encrypted bytes never compress, and a 20-question response seals to about 3 KB, over
    PostgreSQL's 2 KB threshold: stored by default, each one cost a failed compression and a
    second row in the TOAST table. Migration ``surveys.0013`` keeps them in the row."""
    if connection.vendor != "postgresql":
        pytest.skip("TOAST is PostgreSQL's (set DATABASE_URL)")
    survey = make_survey(community, basic_questions(17), anonymous=True, min_group_size=5)
    answers = _answers(survey) | {survey.q[f"x{i}"].id: "长" * 30 for i in range(17)}
    services.response_submit(
        membership=MembershipFactory(community=community), survey=survey, answers=answers
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT length(sealed), pg_relation_size(c.reltoastrelid) "
            "FROM surveys_sealedresponse, pg_class c WHERE c.relname = 'surveys_sealedresponse'"
        )
        ((size, toasted),) = cursor.fetchall()
    assert 3000 < size < 8000 and toasted == 0


# --- mixing ----------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_responses_become_readable_only_in_batches_of_k(community):
    survey = make_survey(community, basic_questions(), anonymous=True)  # k = 3 by default
    assert survey.min_group_size == 3
    for expected_readable in (0, 0, 3, 3, 3, 6):
        _submit(survey, community)
        assert Response.objects.filter(survey=survey).count() == expected_readable
        assert survey_report(Survey.objects.get(pk=survey.pk)).submitted == expected_readable
    assert not SealedResponse.objects.exists()
    assert Answer.objects.filter(survey=survey).count() == 6 * 3
    # the mixed rows of a batch share one coarse timestamp (to the hour)
    stamps = set(Response.objects.values_list("submitted_at", flat=True))
    assert all(s.minute == s.second == s.microsecond == 0 for s in stamps)


@pytest.mark.django_db(transaction=True)
def test_closing_mixes_the_last_batch_below_k_and_the_sweep_mixes_what_the_clock_closed(
    community,
):
    closing = make_survey(community, basic_questions(), anonymous=True)
    _submit(closing, community)
    assert not Response.objects.filter(survey=closing).exists()
    services.survey_close(
        actor=MembershipFactory(community=community, tier="moderator"), survey_id=closing.pk
    )
    assert Response.objects.filter(survey=closing).count() == 1

    timed = make_survey(
        community, basic_questions(), anonymous=True, closes_at=timezone.now() + timedelta(hours=1)
    )
    _submit(timed, community)
    assert services.survey_responses_mix_due() == 0  # open, below k: waits
    later = timezone.now() + timedelta(hours=2)
    assert services.survey_responses_mix_due(now=later) == 1
    assert Response.objects.filter(survey=timed).count() == 1


@pytest.mark.django_db(transaction=True)
def test_edit_after_mixing_replaces_the_mixed_response_through_the_box(community):
    survey = make_survey(community, basic_questions(), anonymous=True, allow_edit_after_submit=True)
    first = MembershipFactory(community=community)
    token = services.response_submit(
        membership=first, survey=survey, answers=_answers(survey, rating=1)
    ).new_token
    _submit(survey, community)
    _submit(survey, community)  # batch of 3 mixed
    assert Response.objects.filter(survey=survey).count() == 3
    services.response_edit(
        membership=first, survey=survey, answers=_answers(survey, rating=5), token=token
    )
    # the edit waits in the box: the mixed response is unchanged until its batch is mixed
    assert sorted(
        Answer.objects.filter(question_id=survey.q["q2"].id).values_list("number", flat=True)
    ) == [1, 3, 3]
    Survey.objects.filter(pk=survey.pk).update(status="closed")
    assert services.survey_responses_mix(survey_id=survey.pk) == 1
    assert Response.objects.filter(survey=survey).count() == 3
    assert sorted(
        Answer.objects.filter(question_id=survey.q["q2"].id).values_list("number", flat=True)
    ) == [3, 3, 5]


def _waiting(survey) -> tuple[int, int]:
    """(the survey's ``box_waiting``, the entries really in its box)."""
    survey.refresh_from_db()
    return survey.box_waiting, SealedResponse.objects.filter(survey=survey).count()


@pytest.mark.django_db(transaction=True)
def test_the_survey_counts_what_waits_in_its_box_through_submits_mixes_and_edits(community):
    survey = make_survey(community, basic_questions(), anonymous=True, allow_edit_after_submit=True)
    first = MembershipFactory(community=community)
    token = services.response_submit(
        membership=first, survey=survey, answers=_answers(survey)
    ).new_token
    seen = [_waiting(survey)]
    _submit(survey, community)
    seen.append(_waiting(survey))
    _submit(survey, community)  # completes the batch: mixed after its commit
    seen.append(_waiting(survey))
    for rating in (4, 5):  # a mixed response edited: one entry waits; edited again: replaced
        services.response_edit(
            membership=first, survey=survey, answers=_answers(survey, rating=rating), token=token
        )
        seen.append(_waiting(survey))
    Survey.objects.filter(pk=survey.pk).update(status="closed")
    services.survey_responses_mix(survey_id=survey.pk)
    seen.append(_waiting(survey))
    assert seen == [(1, 1), (2, 2), (0, 0), (1, 1), (1, 1), (0, 0)]


@pytest.mark.django_db(transaction=True)
def test_a_mix_that_leaves_a_batch_behind_queues_the_next(community, monkeypatch):
    """Responses committed while a mixer works are not its batch; when they make a batch, the
    mixer queues the next mix itself (no later submission may complete one: the count already
    passed k). Here another transaction holds three entries, so the mixer takes the other
    three and leaves three behind."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL (set DATABASE_URL)")
    survey = make_survey(community, basic_questions(), anonymous=True)  # k = 3
    queued = []
    monkeypatch.setattr(  # queued, never run
        tasks.mix_responses, "apply_async", lambda args, **options: queued.append(*args)
    )
    for _ in range(6):
        _submit(survey, community)
    assert queued == [survey.pk, survey.pk]  # the 3rd and the 6th completed a batch
    queued.clear()
    held, release = threading.Event(), threading.Event()

    def hold_three():
        try:
            with transaction.atomic():
                entries = SealedResponse.objects.select_for_update().filter(survey=survey)
                list(entries.order_by("id")[:3])
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_three)
    holder.start()
    try:
        assert held.wait(30)
        assert services.survey_responses_mix(survey_id=survey.pk) == 3
        assert _waiting(survey) == (3, 3) and queued == [survey.pk]
    finally:
        release.set()
        holder.join()
    # control: a mix that leaves less than a batch queues nothing
    assert services.survey_responses_mix(survey_id=survey.pk) == 3
    assert _waiting(survey) == (0, 0) and queued == [survey.pk]


@pytest.mark.django_db
def test_mixing_writes_a_batch_in_the_same_few_statements_whatever_its_size(
    community, django_assert_num_queries
):
    """Survey, box (locked), the deletions, the responses with their answer rows: a batch
    of 12 responses costs the statements a batch of 3 does (the ORM wrote one per response)."""
    counts = []
    for batch in (3, 12):
        survey = make_survey(community, basic_questions(), anonymous=True)
        for _ in range(batch):  # no commit in this test: the after-commit mixer never runs
            _submit(survey, community, yes=True)
        with django_assert_num_queries(6) as captured:  # with the savepoint and its release
            assert services.survey_responses_mix(survey_id=survey.pk) == batch
        counts.append(len(captured.captured_queries))
        assert Response.objects.filter(survey=survey).count() == batch
        assert Answer.objects.filter(survey=survey).count() == batch * 3
        assert not SealedResponse.objects.filter(survey=survey).exists()
    assert counts == [6, 6]


# --- the small-group floor -------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_reports_hide_questions_answered_by_fewer_than_k(community, make_member):
    survey = make_survey(community, basic_questions(), anonymous=True, publish_results=True)
    q = survey.q
    for yes in (True, True, False):
        _submit(survey, community, yes=yes)
    Survey.objects.filter(pk=survey.pk).update(status="closed")
    survey = Survey.objects.get(pk=survey.pk)
    report = survey_report(survey)
    by_id = {q.id: q for q in report.questions}
    # q1 and q2 answered by 3 = k: shown; CONTROL for the floor below
    assert not by_id[q["q1"].id].hidden and by_id[q["q1"].id].choices
    # moderators included: raise k above the answer count and the breakdown goes
    Survey.objects.filter(pk=survey.pk).update(min_group_size=4)
    survey = Survey.objects.get(pk=survey.pk)
    for question in survey_report(survey).questions:
        assert question.hidden and not (question.choices or question.distribution or question.texts)
        assert question.mean is None
    table = crosstab(survey, q["q1"].id, q["q2"].id)
    assert table.hidden and table.total == 0 and not any(map(any, table.counts))
    # and members, through the published results
    _m, client = make_member()
    body = client.get(f"/api/v1/surveys/{survey.id}/results").json()
    assert all(
        q["hidden"] and not q["choices"] and not q["distribution"] for q in body["questions"]
    )


@pytest.mark.django_db
def test_published_results_of_a_named_survey_have_the_floor_too(community, make_member):
    survey = make_survey(community, basic_questions(), publish_results=True)
    _submit(survey, community)
    # the moderator's report of a named survey: no floor (they may read each response)
    assert not any(q.hidden for q in survey_report(survey).questions)
    _m, client = make_member()
    body = client.get(f"/api/v1/surveys/{survey.id}/results").json()
    assert body["participant_count"] == 1
    assert all(q["hidden"] and not q["choices"] for q in body["questions"])


# --- concurrency -----------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_parallel_anonymous_submits_keep_the_cap_and_mix_each_response_once(community):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL)")
    cap, members = 7, 12
    survey = make_survey(community, basic_questions(), anonymous=True, response_cap=cap)
    clients = [client_for(MembershipFactory(community=community).user) for _ in range(members)]
    answers = _answers(survey)
    barrier = threading.Barrier(members)

    def submit(client):
        try:
            barrier.wait()
            return client.post(
                f"/api/v1/surveys/{survey.id}/submit", {"answers": answers}, format="json"
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(members) as pool:
        codes = sorted(r.status_code for r in pool.map(submit, clients))
    assert codes == [201] * cap + [409] * (members - cap)
    assert Survey.objects.get().submitted_count == cap
    assert Participation.objects.count() == cap
    # parallel mixers each took a full batch or skipped the rows another held: nothing twice
    mixed = Response.objects.count()
    waiting = SealedResponse.objects.count()
    assert mixed + waiting == cap and waiting < 3 and mixed >= 3
    # the count of waiting responses, kept by parallel submits and mixers, is exact
    assert Survey.objects.get().box_waiting == waiting
    Survey.objects.filter(pk=survey.pk).update(status="closed")
    services.survey_responses_mix(survey_id=survey.pk)
    assert Response.objects.count() == cap and not SealedResponse.objects.exists()
    assert Survey.objects.get().box_waiting == 0
    assert Answer.objects.count() == cap * 3


@pytest.mark.django_db
def test_smallest_group_cannot_be_lowered_once_published(community):
    moderator = MembershipFactory(community=community, tier="moderator")
    draft = make_survey(community, basic_questions(), status="draft")
    services.survey_update(actor=moderator, survey_id=draft.pk, min_group_size=2)  # control
    published = make_survey(community, basic_questions())
    services.survey_update(actor=moderator, survey_id=published.pk, min_group_size=5)  # raise: ok
    with pytest.raises(DomainError) as refused:
        services.survey_update(actor=moderator, survey_id=published.pk, min_group_size=3)
    assert (refused.value.code, refused.value.field) == ("setting_locked", "min_group_size")
    with pytest.raises(DomainError) as refused:
        services.survey_update(actor=moderator, survey_id=draft.pk, min_group_size=1)
    assert refused.value.code == "group_too_small"
    assert Survey.objects.get(pk=published.pk).min_group_size == 5
