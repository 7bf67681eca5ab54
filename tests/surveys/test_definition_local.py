"""The survey definition is kept per process under its versioned key: a submit needs it three
times, and each read of the shared cache unpickled it (a Redis round trip in production)."""

from __future__ import annotations

import pytest
from django.db.models import F

from surveys import definition as definitions
from surveys.definition import definition_for
from surveys.models import Question, Survey
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db


def test_a_known_version_is_served_without_the_shared_cache(
    community, django_assert_num_queries, monkeypatch
):
    survey = make_survey(community, basic_questions())
    first = definition_for(survey)
    reads = []
    monkeypatch.setattr(definitions.cache, "get", lambda *a, **k: reads.append(a))
    with django_assert_num_queries(0):
        again = definition_for(survey)
    assert again is first
    assert reads == []


def test_a_new_version_is_rebuilt(community):
    survey = make_survey(community, basic_questions())
    before = definition_for(survey)
    Question.objects.create(survey=survey, order=99, type="short_text", title="新问题")
    Survey.objects.filter(pk=survey.pk).update(version=F("version") + 1)
    survey.refresh_from_db(fields=["version"])
    after = definition_for(survey)
    assert len(after.questions) == len(before.questions) + 1


def test_the_process_keeps_a_bounded_number(community, monkeypatch):
    monkeypatch.setattr(definitions, "LOCAL_SIZE", 2)
    surveys = [make_survey(community, basic_questions()) for _ in range(3)]
    for survey in surveys:
        definition_for(survey)
    assert len(definitions._local) == 2
    keys = list(definitions._local)
    assert definitions._cache_key(surveys[0]) not in keys
