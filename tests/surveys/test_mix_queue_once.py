"""One mixing task at a time per anonymous survey, through a real Celery worker on Redis: while
a mix is queued and not started, further full batches do not queue another (that task mixes
them too); once it starts, the next full batch queues again, and nothing is left unmixed. The
task is queued to run ``SURVEY_MIX_DELAY`` seconds later, so steady traffic is mixed once per
delay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import redis
from django.utils import timezone

from surveys import services
from surveys.models import Response, SealedResponse
from tests.conftest import redis_test_url
from tests.factories import MembershipFactory
from tests.surveys.factories import basic_questions, make_survey
from tests.waiting import wait_for

pytestmark = pytest.mark.celery_worker


def _submit(survey, community) -> None:
    services.response_submit(
        membership=MembershipFactory(community=community),
        survey=survey,
        answers={
            survey.q["q1"].id: {"choice": survey.c["q1"]["Yes"].id},
            survey.q["q2"].id: 4,
            survey.q["q3"].id: "ok",
        },
    )


def test_full_batches_queue_one_mix_until_it_starts(community, celery_workers, settings):
    settings.REDIS_URL = redis_test_url()  # the pending marks live in the shared Redis
    settings.SURVEY_MIX_DELAY = 2
    broker = redis.Redis.from_url(redis_test_url())
    survey = make_survey(community, basic_questions(), anonymous=True)  # k = 3
    started = timezone.now()
    for _ in range(7):  # full from the third on: five submits find a batch waiting
        _submit(survey, community)
    # Without the pending mark each of those five would have queued a task.
    assert broker.llen("celery") == 1
    # ... to run two seconds after the submit that completed the first batch
    eta = datetime.fromisoformat(json.loads(broker.lindex("celery", 0))["headers"]["eta"])
    assert started + timedelta(seconds=2) <= eta <= timezone.now() + timedelta(seconds=2)
    assert SealedResponse.objects.filter(survey=survey).count() == 7

    worker = celery_workers(REDIS_URL=redis_test_url())  # it clears the marks there
    wait_for(
        lambda: Response.objects.filter(survey=survey, status="submitted").count() == 7,
        timeout=60,
        message=lambda: f"the queued mix did not mix all seven\n{worker.output}",
    )
    assert not SealedResponse.objects.filter(survey=survey).exists()

    for _ in range(3):  # the task started and cleared its mark: this batch queues again
        _submit(survey, community)
    wait_for(
        lambda: Response.objects.filter(survey=survey, status="submitted").count() == 10,
        timeout=60,
        message=lambda: f"the second batch was not mixed\n{worker.output}",
    )
