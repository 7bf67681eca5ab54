"""Invariants held by the database itself."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import RestrictedError
from django.utils import timezone

from surveys.models import Answer, Choice, Participation, Response
from tests.db_constraints import assert_violates
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(community):
    return make_survey(community, basic_questions())


def test_one_participation_per_member(survey, community):
    user = MembershipFactory(community=community).user
    Participation.objects.create(community=community, survey=survey, user=user)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Participation.objects.create(community=community, survey=survey, user=user)
    assert_violates(excinfo.value, "participation_one_per_member")


def test_anonymous_participation_cannot_point_at_a_response(survey, community):
    response = Response.objects.create(community=community, survey=survey)
    user = MembershipFactory(community=community).user
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Participation.objects.create(
            community=community, survey=survey, user=user, anonymous=True, draft=response
        )
    assert_violates(excinfo.value, "participation_anonymous_unlinked")


def test_named_response_has_no_edit_token(survey, community):
    user = MembershipFactory(community=community).user
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Response.objects.create(
            community=community, survey=survey, respondent=user, edit_token_hash="x" * 64
        )
    assert_violates(excinfo.value, "response_token_only_when_anonymous")


def test_submitted_response_has_a_time(survey, community):
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Response.objects.create(community=community, survey=survey, status="submitted")
    assert_violates(excinfo.value, "response_submitted_has_time")
    Response.objects.create(
        community=community, survey=survey, status="submitted", submitted_at=timezone.now()
    )


def test_edit_tokens_are_unique_per_survey(survey, community):
    Response.objects.create(community=community, survey=survey, edit_token_hash="a" * 64)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Response.objects.create(community=community, survey=survey, edit_token_hash="a" * 64)
    assert_violates(excinfo.value, "response_edit_token_unique")


def test_choice_cannot_be_row_and_other(survey):
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Choice.objects.create(question=survey.q["q1"], label="x", is_other=True, is_row=True)
    assert_violates(excinfo.value, "choice_row_not_other")


def test_community_is_copied_down(survey, community):
    choice = Choice.objects.create(question=survey.q["q1"], label="Maybe")
    assert choice.community_id == community.pk and choice.survey_id == survey.pk


# --- the answer rows' one composite foreign key (surveys.models.Answer) ----------------------
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the composite key exists only on PostgreSQL"
)


def _answer_keys() -> dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The foreign keys of ``surveys_answer``: name -> (target table, columns, target columns)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname, c.confrelid::regclass::text, "
            "array(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
            "JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY k.i), "
            "array(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
            "JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY k.i) "
            "FROM pg_constraint c WHERE c.conrelid = 'surveys_answer'::regclass AND c.contype = 'f'"
        )
        return {name: (table, tuple(cols), tuple(fcols)) for name, table, cols, fcols in cursor}


@postgresql_only
def test_answer_rows_carry_no_foreign_key_their_scope_is_checked_per_statement():
    """A foreign key is checked for every answer row (about thirty per submit, hundreds per
    mix), share-locking the row it points at. The answers' response, survey and community are
    checked once per statement instead (migration ``0010``), and a response is kept from being
    deleted under its answers at COMMIT; questions and choices by the guarded count's version
    check and a delete trigger (``test_submit_path``, ``test_authoring``)."""
    assert _answer_keys() == {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
            "('surveys_answer'::regclass, 'surveys_response'::regclass) ORDER BY tgname"
        )
        assert [name for (name,) in cursor] == [
            "answer_scope_insert",
            "answer_scope_response_delete",
            "answer_scope_response_rekey",
            "answer_scope_update",
        ]


def _answer(response: Response, survey, **fields) -> Answer:
    return Answer.objects.create(
        community_id=fields.pop("community_id", response.community_id),
        survey_id=survey.pk,
        response_id=fields.pop("response_id", response.pk),
        question=survey.q["q1"],
        **fields,
    )


def _commit_checks() -> None:
    """What COMMIT does to the deferred keys, inside the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@postgresql_only
def test_an_answer_must_name_its_responses_survey_and_community(survey, community):
    response = Response.objects.create(community=community, survey=survey)
    with transaction.atomic():  # control: the response's own survey and community
        _answer(response, survey)
        _commit_checks()

    elsewhere = make_survey(community, basic_questions())
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        _answer(response, elsewhere)
        _commit_checks()
    assert_violates(excinfo.value, "answer_response_scope_fk")

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        _answer(response, survey, community_id=CommunityFactory().pk)
        _commit_checks()
    assert_violates(excinfo.value, "answer_response_scope_fk")

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        _answer(response, survey, response_id="no-such-response")
        _commit_checks()
    assert_violates(excinfo.value, "answer_response_scope_fk")


@postgresql_only
def test_a_response_cannot_go_while_answer_rows_name_it(survey, community):
    """Below the ORM: deleting (or re-keying) a response whose answer rows stay is refused at
    COMMIT. Control: with its rows deleted first, in the same transaction, it goes."""
    response = Response.objects.create(community=community, survey=survey)
    _answer(response, survey)
    for sql in (
        "DELETE FROM surveys_response WHERE id = %s",
        "UPDATE surveys_response SET id = 'elsewhere' WHERE id = %s",
    ):
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [response.pk])
            _commit_checks()
        assert_violates(excinfo.value, "answer_response_scope_fk")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM surveys_response WHERE id = %s", [response.pk])
        cursor.execute("DELETE FROM surveys_answer WHERE response_id = %s", [response.pk])
        _commit_checks()
    assert not Response.objects.exists()


def test_deleting_a_response_or_survey_still_takes_its_answers(survey, community):
    """The three fields are no database constraints of their own: Django still cascades."""
    kept = Response.objects.create(community=community, survey=survey)
    gone = Response.objects.create(community=community, survey=survey)
    _answer(kept, survey)
    _answer(gone, survey)
    gone.delete()
    assert list(Answer.objects.values_list("response_id", flat=True)) == [kept.pk]
    survey.delete()
    assert not Answer.objects.exists()


def test_an_answered_question_or_choice_cannot_be_deleted_on_its_own(survey, community):
    """RESTRICT without a database constraint: Django's collector refuses, the rows stay."""
    response = Response.objects.create(community=community, survey=survey)
    choice = survey.c["q1"]["No"]
    _answer(response, survey, choice=choice)
    with pytest.raises(RestrictedError):
        choice.delete()
    with pytest.raises(RestrictedError):
        survey.q["q1"].delete()
    assert Choice.objects.filter(pk=choice.pk).exists()
    assert Answer.objects.filter(choice=choice).exists()
