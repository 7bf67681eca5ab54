"""Authoring services: a survey's definition cannot change under submitted answers, other
edits bump its version, each response records the version it answered, and every service
checks its actor itself."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from community.errors import DomainError, Forbidden, NotFound
from surveys import services
from surveys.models import Answer, Choice, Export, Page, Question, Response, Survey, SurveyStatus
from surveys.services import ChoiceSpec
from tests.db_constraints import assert_violates
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(community):
    return MembershipFactory(community=community, tier="moderator")


@pytest.fixture
def survey(community):
    return make_survey(community, basic_questions())


def _submit(community, survey, *, choice="No"):
    survey.refresh_from_db()
    answers = {
        survey.q["q1"].id: {"choice": survey.c["q1"][choice].id},
        survey.q["q2"].id: 3,
        survey.q["q3"].id: "ok",
    }
    membership = MembershipFactory(community=community)
    return services.response_submit(membership=membership, survey=survey, answers=answers).response


def _specs(question, *, without=()):
    return [
        ChoiceSpec(c.id, c.label, c.is_other, c.is_row)
        for c in question.choices.order_by("order")
        if c.label not in without
    ]


def _version(survey) -> int:
    return Survey.objects.values_list("version", flat=True).get(pk=survey.pk)


# --- refused after the first submitted response -----------------------------------------------
def test_choice_removal_refused_once_submitted_and_allowed_before(community, survey, moderator):
    q1 = survey.q["q1"]
    services.choice_sync(
        actor=moderator,
        question_id=q1.id,
        choices=[*_specs(q1), ChoiceSpec(None, "Maybe")],
    )
    # control: no response yet, so a choice can go
    services.choice_sync(actor=moderator, question_id=q1.id, choices=_specs(q1, without={"Maybe"}))
    assert [c.label for c in q1.choices.order_by("order")] == ["Yes", "No"]

    _submit(community, survey, choice="No")
    with pytest.raises(DomainError) as refused:
        services.choice_sync(
            actor=moderator, question_id=q1.id, choices=_specs(q1, without={"Yes"})
        )
    assert refused.value.code == "definition_locked" and refused.value.field == "choices"
    assert [c.label for c in q1.choices.order_by("order")] == ["Yes", "No"]
    # relabelling is still fine, and keeps the answers
    relabelled = [ChoiceSpec(s.id, s.label + "!", s.is_other, s.is_row) for s in _specs(q1)]
    services.choice_sync(actor=moderator, question_id=q1.id, choices=relabelled)
    assert [c.label for c in q1.choices.order_by("order")] == ["Yes!", "No!"]
    assert Answer.objects.filter(choice=survey.c["q1"]["No"]).count() == 1


def test_question_delete_refused_once_submitted_but_not_for_drafts(community, survey, moderator):
    """Drafts do not freeze the definition (they are validated again on submit); a submitted
    response does."""
    extra = services.question_create(
        actor=moderator, survey_id=survey.pk, type="short_text", title="补充"
    )
    services.response_save_draft(
        membership=MembershipFactory(community=community), survey=survey, answers={}
    )
    services.question_delete(actor=moderator, question_id=extra.id)  # only a draft: allowed
    assert not Question.objects.filter(pk=extra.id).exists()

    _submit(community, survey)
    with pytest.raises(DomainError) as refused:
        services.question_delete(actor=moderator, question_id=survey.q["q3"].id)
    assert refused.value.code == "definition_locked"
    assert Question.objects.filter(pk=survey.q["q3"].id).exists()
    assert Answer.objects.filter(question=survey.q["q3"]).count() == 1


def test_question_type_change_refused_once_submitted(community, survey, moderator):
    q3 = survey.q["q3"]
    services.question_update(actor=moderator, question_id=q3.id, type="long_text")  # control
    _submit(community, survey)
    with pytest.raises(DomainError) as refused:
        services.question_update(actor=moderator, question_id=q3.id, type="short_text")
    assert (refused.value.code, refused.value.field) == ("definition_locked", "type")
    q3.refresh_from_db()
    assert q3.type == "long_text"
    services.question_update(actor=moderator, question_id=q3.id, title="为什么呢?")  # rewording
    q3.refresh_from_db()
    assert q3.title == "为什么呢?"


def test_page_with_questions_cannot_be_deleted_once_submitted(community, moderator):
    survey = make_survey(community, basic_questions(), pages=[{"title": "一"}])
    empty = services.page_create(actor=moderator, survey_id=survey.pk, title="空白")
    _submit(community, survey)
    with pytest.raises(DomainError) as refused:
        services.page_delete(actor=moderator, page_id=survey.pages_[0].id)
    assert refused.value.code == "definition_locked"
    services.page_delete(actor=moderator, page_id=empty.id)  # holds no question: fine
    assert list(Page.objects.filter(survey=survey).values_list("title", flat=True)) == ["一"]


def test_anonymous_is_fixed_once_published(community, moderator):
    draft = make_survey(community, basic_questions(), status=SurveyStatus.DRAFT)
    services.survey_update(actor=moderator, survey_id=draft.pk, anonymous=True)  # control
    published = make_survey(community, basic_questions())
    with pytest.raises(DomainError) as refused:
        services.survey_update(actor=moderator, survey_id=published.pk, anonymous=True)
    assert (refused.value.code, refused.value.field) == ("setting_locked", "anonymous")
    assert Survey.objects.get(pk=published.pk).anonymous is False


def test_multiple_responses_setting_is_fixed_once_submitted(community, survey, moderator):
    services.survey_update(actor=moderator, survey_id=survey.pk, allow_multiple_responses=True)
    services.survey_update(actor=moderator, survey_id=survey.pk, allow_multiple_responses=False)
    _submit(community, survey)
    with pytest.raises(DomainError) as refused:
        services.survey_update(actor=moderator, survey_id=survey.pk, allow_multiple_responses=True)
    assert refused.value.field == "allow_multiple_responses"


def test_cap_below_submitted_count_is_a_domain_error(community, survey, moderator):
    _submit(community, survey)
    _submit(community, survey)
    with pytest.raises(DomainError) as refused:
        services.survey_update(actor=moderator, survey_id=survey.pk, response_cap=1)
    assert (refused.value.code, refused.value.field) == ("cap_below_submitted", "response_cap")
    services.survey_update(actor=moderator, survey_id=survey.pk, response_cap=2)
    assert Survey.objects.get(pk=survey.pk).response_cap == 2


# --- the database backs the rules -------------------------------------------------------------
def test_database_refuses_cap_below_submitted_count(community, survey):
    _submit(community, survey)
    _submit(community, survey)
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.filter(pk=survey.pk).update(response_cap=1)
    Survey.objects.filter(pk=survey.pk).update(response_cap=2)  # control: equal is fine


def test_database_refuses_deleting_answered_choices_and_questions(community, survey):
    _submit(community, survey, choice="No")
    picked, unpicked = survey.c["q1"]["No"], survey.c["q1"]["Yes"]
    with pytest.raises(IntegrityError), transaction.atomic():
        picked.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        survey.q["q2"].delete()
    unpicked.delete()  # control: nobody picked it
    assert Choice.objects.filter(pk=picked.pk).exists()
    assert Answer.objects.filter(survey=survey).count() == 3


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize("what", ["choice", "question", "unanswered"])
def test_database_refuses_raw_delete_of_answered_choice_or_question(community, survey, what):
    """Below the ORM too: a trigger refuses the deletion of a question or choice that answer
    rows name (they carry no foreign key to them: see ``Answer``). Control: an unanswered
    choice goes."""
    _submit(community, survey, choice="No")
    table, pk, constraint = {
        "choice": ("surveys_choice", survey.c["q1"]["No"].pk, "answer_choice_restrict"),
        "question": ("surveys_question", survey.q["q1"].pk, "answer_question_restrict"),
        "unanswered": ("surveys_choice", survey.c["q1"]["Yes"].pk, None),
    }[what]
    delete = f"DELETE FROM {table} WHERE id = %s"  # noqa: S608 (no input in the SQL)
    if constraint is None:
        with connection.cursor() as cursor:
            cursor.execute(delete, [pk])
        assert not Choice.objects.filter(pk=pk).exists()
        return
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(delete, [pk])
    assert_violates(refused.value, constraint)
    assert Answer.objects.filter(survey=survey).count() == 3


def test_deleting_a_survey_still_takes_its_answers(community, survey):
    _submit(community, survey)
    Survey.objects.get(pk=survey.pk).delete()
    assert not Answer.objects.exists() and not Response.objects.exists()


# --- versions -------------------------------------------------------------------------------
def test_definition_edits_bump_the_version_and_responses_record_theirs(
    community, survey, moderator
):
    start = _version(survey)
    services.survey_update(actor=moderator, survey_id=survey.pk, title="新标题")
    assert _version(survey) == start  # settings are not the definition
    first = _submit(community, survey)
    assert first.definition_version == start

    services.question_update(actor=moderator, question_id=survey.q["q1"].id, title="来不来?")
    assert _version(survey) == start + 1
    services.question_update(actor=moderator, question_id=survey.q["q1"].id, title="来不来?")
    assert _version(survey) == start + 1  # nothing changed: same version
    services.choice_sync(
        actor=moderator,
        question_id=survey.q["q1"].id,
        choices=[*_specs(survey.q["q1"]), ChoiceSpec(None, "Maybe")],
    )
    services.page_create(actor=moderator, survey_id=survey.pk, title="新页")
    assert _version(survey) == start + 3

    second = _submit(community, survey)
    assert second.definition_version == start + 3
    first.refresh_from_db()
    assert first.definition_version == start


def test_stale_draft_is_refused_on_submit_with_the_questions_error(community, survey, moderator):
    """The rule chosen for drafts: they do not freeze the definition, and an answer the
    definition no longer has is refused when the draft is submitted."""
    member = MembershipFactory(community=community)
    q1 = survey.q["q1"]
    draft = {q1.id: {"choice": survey.c["q1"]["No"].id}}
    services.response_save_draft(membership=member, survey=survey, answers=draft)
    services.choice_sync(actor=moderator, question_id=q1.id, choices=_specs(q1, without={"No"}))
    survey.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.response_submit(membership=member, survey=survey, answers=None)
    assert f"answers.{q1.id}" in refused.value.error_dict


# --- every service checks its actor -----------------------------------------------------------
@pytest.mark.parametrize("tier", ["member"])
def test_duplicate_and_export_refuse_a_plain_member(community, survey, tier):
    member = MembershipFactory(community=community, tier=tier)
    with pytest.raises(Forbidden) as refused:
        services.survey_duplicate(actor=member, survey_id=survey.pk)
    assert refused.value.code == "tier_too_low"
    with pytest.raises(Forbidden):
        services.export_request(actor=member, survey_id=survey.pk, format="csv")
    assert Survey.objects.count() == 1 and not Export.objects.exists()


def test_duplicate_and_export_refuse_another_communitys_moderator(survey):
    stranger = MembershipFactory(community=CommunityFactory(), tier="moderator")
    with pytest.raises(NotFound):
        services.survey_duplicate(actor=stranger, survey_id=survey.pk)
    with pytest.raises(NotFound):
        services.export_request(actor=stranger, survey_id=survey.pk, format="csv")
    assert Survey.objects.count() == 1 and not Export.objects.exists()


def test_authoring_services_refuse_a_plain_member(community, survey):
    member = MembershipFactory(community=community)
    q1 = survey.q["q1"]
    calls = [
        lambda: services.survey_create(actor=member, title="新问卷"),
        lambda: services.survey_update(actor=member, survey_id=survey.pk, title="x"),
        lambda: services.page_create(actor=member, survey_id=survey.pk),
        lambda: services.question_create(
            actor=member, survey_id=survey.pk, type="short_text", title="x"
        ),
        lambda: services.question_update(actor=member, question_id=q1.id, title="x"),
        lambda: services.question_delete(actor=member, question_id=q1.id),
        lambda: services.choice_sync(actor=member, question_id=q1.id, choices=[]),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    version = _version(survey)
    assert Survey.objects.get(pk=survey.pk).title == survey.title and version == survey.version
    assert q1.choices.count() == 2


def test_question_page_must_belong_to_the_survey(community, moderator):
    survey = make_survey(community, basic_questions())
    other = make_survey(community, basic_questions(), pages=[{"title": "别的"}])
    with pytest.raises(DomainError) as refused:
        services.question_update(
            actor=moderator, question_id=survey.q["q1"].id, page=other.pages_[0]
        )
    assert refused.value.field == "page"
