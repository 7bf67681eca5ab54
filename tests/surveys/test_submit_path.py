"""The submit path does only the work a submission needs (issue 18)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from community.errors import Conflict
from surveys import services, tasks
from surveys.definition import definition_for
from surveys.models import Answer, Participation, Response, SealedResponse, Survey
from surveys.services import ChoiceSpec
from tests.factories import MembershipFactory
from tests.surveys.factories import basic_questions, make_quiz, make_survey, quiz_answers


def _answers(survey) -> dict:
    return {
        survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id},
        survey.q["q2"].id: 4,
        survey.q["q3"].id: "ok",
    }


@pytest.mark.django_db(transaction=True)
def test_anonymous_submit_queues_the_mixer_only_when_the_box_holds_a_batch(
    community, monkeypatch, settings
):
    survey = make_survey(community, basic_questions(), anonymous=True)  # k = 3
    queued = []
    apply_async = tasks.mix_responses.apply_async

    def queue(args, countdown=None, **options):
        queued.append(countdown)
        return apply_async(args, countdown=countdown, **options)  # eager here: mixes now

    monkeypatch.setattr(tasks.mix_responses, "apply_async", queue)
    seen = []
    for _ in range(7):
        services.response_submit(
            membership=MembershipFactory(community=community),
            survey=survey,
            answers=_answers(survey),
        )
        seen.append((len(queued), SealedResponse.objects.count(), Response.objects.count()))
    # (mixers queued, waiting in the box, mixed): one mixer per full batch, not one per submit
    assert seen == [(0, 1, 0), (0, 2, 0), (1, 0, 3), (1, 1, 3), (1, 2, 3), (2, 0, 6), (2, 1, 6)]
    # each to run SURVEY_MIX_DELAY seconds later (a worker would; eager mode runs it at once)
    assert queued == [settings.SURVEY_MIX_DELAY] * 2 and settings.SURVEY_MIX_DELAY > 0


@pytest.mark.django_db
def test_a_submission_over_a_draft_keeps_the_drafts_row_and_start(community, member):
    """The one statement (``response_store.submission_at_once``) turns the member's draft
    into the submitted response: same row, same start time, the participation pointing at it
    as submitted and no longer as a draft, one submission counted."""
    survey = make_survey(community, basic_questions())
    membership, client = member
    url = f"/api/v1/surveys/{survey.id}"
    assert client.put(f"{url}/draft", {"answers": {}}, format="json").status_code == 200
    draft = Response.objects.get()
    Response.objects.filter(pk=draft.pk).update(created_at=draft.created_at - timedelta(hours=1))

    answered = client.post(f"{url}/submit", {"answers": _answers(survey)}, format="json")

    assert answered.status_code == 201, answered.json()
    submitted = Response.objects.get()
    assert submitted.pk == draft.pk and submitted.status == "submitted"
    assert submitted.created_at == draft.created_at - timedelta(hours=1)
    assert submitted.submitted_at is not None
    participation = Participation.objects.get(user=membership.user)
    assert (participation.draft_id, participation.submitted_id) == (None, draft.pk)
    assert (participation.status, participation.submissions) == ("submitted", 1)
    assert set(Answer.objects.values_list("response_id", flat=True)) == {draft.pk}
    survey.refresh_from_db()
    assert survey.submitted_count == 1


@pytest.mark.django_db
def test_a_refused_second_submission_writes_nothing(community, member):
    survey = make_survey(community, basic_questions())
    membership, client = member
    url = f"/api/v1/surveys/{survey.id}/submit"
    assert client.post(url, {"answers": _answers(survey)}, format="json").status_code == 201
    before = (Answer.objects.count(), Participation.objects.get().submissions)

    again = client.post(url, {"answers": _answers(survey)}, format="json")

    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already_submitted"
    assert (Answer.objects.count(), Participation.objects.get().submissions) == before
    assert Response.objects.count() == 1
    survey.refresh_from_db()
    assert survey.submitted_count == 1


def _stale_submit(community, *, kind: str, remove: bool):
    """Submit answers validated against the definition a request read before a moderator's
    choice edit committed: the survey row and its cached definition are the old version's
    (as for a request that read them a moment before the edit)."""
    if kind == "quiz":
        survey = make_quiz(community)
        question, picked, answers = survey.q["capital"], "北京", quiz_answers(survey)
    else:
        survey = make_survey(community, basic_questions(), anonymous=kind == "anonymous")
        question, picked, answers = survey.q["q1"], "No", _answers(survey)
    member = MembershipFactory(community=community)
    moderator = MembershipFactory(community=community, tier="moderator")
    stale = Survey.objects.get(pk=survey.pk)
    definition_for(stale)  # the old definition, cached under the old version
    choices = [ChoiceSpec(c.id, c.label) for c in question.choices.order_by("order")]
    if remove:
        choices = [c for c in choices if c.label != picked]
    else:
        choices = [c._replace(label=c.label + "!") for c in choices]
    services.choice_sync(actor=moderator, question_id=question.id, choices=choices)
    return survey, services.response_submit(membership=member, survey=stale, answers=answers)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["named", "anonymous", "quiz"])
def test_answers_to_a_choice_deleted_since_validation_are_refused_whole(community, kind):
    """The answer rows carry no foreign key to questions and choices: the guarded count's
    ``version`` check is what refuses a submission validated against a definition that has
    lost the picked choice since. 409 ``survey_changed``; nothing written, nothing counted."""
    with pytest.raises(Conflict) as refused:
        _stale_submit(community, kind=kind, remove=True)
    assert refused.value.code == "survey_changed"
    assert not Answer.objects.exists()
    assert not Response.objects.exists() and not SealedResponse.objects.exists()
    assert not Participation.objects.filter(submissions__gt=0).exists()
    assert Survey.objects.get().submitted_count == 0


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["named", "anonymous", "quiz"])
def test_answers_validated_before_a_relabelling_go_through_on_the_new_version(community, kind):
    """Control: the same stale submission, the edit only rewording the choices. The guard
    refuses the first try, the answers are validated again and counted once, recorded against
    the new version."""
    survey, result = _stale_submit(community, kind=kind, remove=False)
    survey.refresh_from_db()
    assert survey.submitted_count == 1
    assert Participation.objects.get().submissions == 1
    if kind != "anonymous":  # an anonymous response waits, sealed, in the box
        assert Response.objects.get(status="submitted").definition_version == survey.version
        assert Answer.objects.exists()
    else:
        assert SealedResponse.objects.count() == 1
    assert result.response.definition_version == survey.version


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["named", "anonymous"])
@pytest.mark.parametrize("since", ["closed", "full", "changed"])
def test_a_submission_refused_by_its_count_leaves_nothing_without_a_transaction(
    community, kind, since
):
    """On PostgreSQL the submission's one statement runs on its own (autocommit here: no
    transaction around it, no BEGIN and COMMIT round trips). When its guarded count refuses --
    the survey closed, filled up or lost the picked choice since the request read it -- the
    statement raises and PostgreSQL undoes all its writes: no participation, response, answer
    or sealed row is left, nothing is counted, and the member gets the precise 409."""
    survey = make_survey(
        community,
        basic_questions(),
        anonymous=kind == "anonymous",
        response_cap=5 if since == "full" else None,
    )
    stale = Survey.objects.get(pk=survey.pk)  # what the request read, and validates against
    definition_for(stale)
    if since == "closed":
        Survey.objects.filter(pk=survey.pk).update(status="closed")
    elif since == "full":
        Survey.objects.filter(pk=survey.pk).update(submitted_count=5)
    else:
        moderator = MembershipFactory(community=community, tier="moderator")
        question = survey.q["q1"]
        kept = [ChoiceSpec(c.id, c.label) for c in question.choices.exclude(label="No")]
        services.choice_sync(actor=moderator, question_id=question.id, choices=kept)

    with pytest.raises(Conflict) as refused:
        services.response_submit(
            membership=MembershipFactory(community=community),
            survey=stale,
            answers=_answers(survey),
        )

    assert (
        refused.value.code
        == {
            "closed": "survey_closed",
            "full": "survey_full",
            "changed": "survey_changed",
        }[since]
    )
    assert not Participation.objects.exists()
    assert not Response.objects.exists() and not Answer.objects.exists()
    assert not SealedResponse.objects.exists()
    latest = Survey.objects.get()
    assert (latest.submitted_count, latest.box_waiting) == (5 if since == "full" else 0, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement order")
@pytest.mark.parametrize("quiz", [False, True], ids=["one statement", "quiz steps"])
def test_the_survey_row_is_locked_only_after_the_answers_are_written(community, member, quiz):
    """The guarded count is the last part of the submission's statement to run: while the
    answer rows go in, the hot survey row is not yet locked by the submitting transaction. A
    row trigger on the answers notes, for each row, whether the survey row it sees was
    written by this transaction already (its ``xmin``; the survey was created by an earlier,
    committed one). Reading the count first in the main query (as the statement did) ran it
    before the writes: every probe said True."""
    survey = make_quiz(community) if quiz else make_survey(community, basic_questions())
    answers = quiz_answers(survey) if quiz else _answers(survey)
    _m, client = member
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_lock_probe (locked boolean)")
        cursor.execute(
            "CREATE FUNCTION test_lock_probe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO test_lock_probe SELECT s.xmin::text = "
            "(pg_current_xact_id()::text::bigint % 4294967296)::text "
            "FROM surveys_survey s WHERE s.id = NEW.survey_id; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_lock_probe BEFORE INSERT ON surveys_answer "
            "FOR EACH ROW EXECUTE FUNCTION test_lock_probe()"
        )
    try:
        answered = client.post(
            f"/api/v1/surveys/{survey.id}/submit", {"answers": answers}, format="json"
        )
        assert answered.status_code == 201, answered.json()
        with connection.cursor() as cursor:
            cursor.execute("SELECT locked FROM test_lock_probe")
            probes = [locked for (locked,) in cursor.fetchall()]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_lock_probe ON surveys_answer")
            cursor.execute("DROP FUNCTION test_lock_probe()")
            cursor.execute("DROP TABLE test_lock_probe")
    assert probes and set(probes) == {False}  # one per answer row, none after the update
