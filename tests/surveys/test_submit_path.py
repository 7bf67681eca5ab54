"""The submit path does only the work a submission needs (issue 18)."""

from __future__ import annotations

import pytest

from surveys import services, tasks
from surveys.models import Response, SealedResponse
from tests.factories import MembershipFactory
from tests.surveys.factories import basic_questions, make_survey


def _answers(survey) -> dict:
    return {
        survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id},
        survey.q["q2"].id: 4,
        survey.q["q3"].id: "ok",
    }


@pytest.mark.django_db(transaction=True)
def test_anonymous_submit_queues_the_mixer_only_when_the_box_holds_a_batch(community, monkeypatch):
    survey = make_survey(community, basic_questions(), anonymous=True)  # k = 3
    queued = []
    delay = tasks.mix_responses.delay
    monkeypatch.setattr(
        tasks.mix_responses, "delay", lambda survey_id: queued.append(survey_id) or delay(survey_id)
    )
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
