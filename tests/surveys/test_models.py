"""Invariants held by the database itself."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from surveys.models import Choice, Participation, Response
from tests.db_constraints import assert_violates
from tests.factories import MembershipFactory
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
