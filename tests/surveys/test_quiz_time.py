"""A quiz's time limit, over HTTP with a frozen clock: the server records the start once and
refuses a submission after the deadline (plus the grace), saving nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from surveys.models import Participation, QuizEntry, Response, ResponseStatus
from surveys.quiz import GRACE_SECONDS
from tests.surveys.factories import make_quiz, quiz_answers

pytestmark = pytest.mark.django_db

LIMIT = 60


@pytest.fixture
def clock(monkeypatch):
    """A frozen clock for the services (``django.utils.timezone.now``), moved by hand."""

    class Clock:
        now = timezone.now().replace(microsecond=0)

        def tick(self, **delta) -> None:
            self.now += timedelta(**delta)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def quiz(community):
    return make_quiz(community, quiz_time_limit=LIMIT)


def _start(client, quiz, **body):
    return client.post(f"/api/v1/surveys/{quiz.id}/quiz/start", body, format="json")


def _submit(client, quiz):
    return client.post(
        f"/api/v1/surveys/{quiz.id}/submit", {"answers": quiz_answers(quiz)}, format="json"
    )


def _nothing_submitted(quiz) -> bool:
    return (
        not Response.objects.filter(survey=quiz, status=ResponseStatus.SUBMITTED).exists()
        and not QuizEntry.objects.filter(survey=quiz, submitted_at__isnull=False).exists()
        and not Participation.objects.filter(survey=quiz, submissions__gt=0).exists()
    )


def test_start_is_recorded_once_by_the_server(quiz, member, clock):
    _m, client = member
    first = _start(client, quiz)
    assert first.status_code == 200, first.json()
    body = first.json()
    started = parse_datetime(body["started_at"])
    assert started == clock.now
    assert parse_datetime(body["deadline"]) == clock.now + timedelta(seconds=LIMIT)
    assert body["time_limit_seconds"] == LIMIT and body["submitted_at"] is None
    clock.tick(seconds=30)
    again = _start(client, quiz, show_name=True)  # a retry (or a second device): same clock
    assert parse_datetime(again.json()["started_at"]) == started
    assert again.json()["show_name"] is True
    assert QuizEntry.objects.filter(survey=quiz).count() == 1


def test_submit_within_the_limit_and_grace_is_accepted(quiz, member, clock):
    _m, client = member
    _start(client, quiz)
    clock.tick(seconds=LIMIT + GRACE_SECONDS)  # the last accepted instant
    response = _submit(client, quiz)
    assert response.status_code == 201, response.json()
    assert QuizEntry.objects.get(survey=quiz).score == 7


def test_late_submit_is_refused_and_saves_nothing(quiz, member, clock):
    _m, client = member
    _start(client, quiz)
    clock.tick(seconds=LIMIT + GRACE_SECONDS + 1)
    response = _submit(client, quiz)
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "quiz_time_up"
    assert _nothing_submitted(quiz)
    entry = QuizEntry.objects.get(survey=quiz)
    assert entry.score is None and entry.submitted_at is None
    # starting again does not buy more time
    _start(client, quiz)
    assert _submit(client, quiz).json()["errors"][0]["code"] == "quiz_time_up"


def test_submit_without_starting_a_timed_quiz_is_refused(quiz, member):
    _m, client = member
    response = _submit(client, quiz)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "quiz_not_started"
    assert _nothing_submitted(quiz) and not QuizEntry.objects.exists()


def test_a_draft_saved_in_time_cannot_be_submitted_late(quiz, member, clock):
    _m, client = member
    _start(client, quiz)
    saved = client.put(
        f"/api/v1/surveys/{quiz.id}/draft", {"answers": quiz_answers(quiz)}, format="json"
    )
    assert saved.status_code == 200
    clock.tick(minutes=5)
    late = client.post(f"/api/v1/surveys/{quiz.id}/submit", {}, format="json")
    assert late.status_code == 409 and late.json()["errors"][0]["code"] == "quiz_time_up"
    assert _nothing_submitted(quiz)


def test_a_closed_quiz_cannot_be_started(quiz, member, clock):
    _m, client = member
    quiz.closes_at = clock.now + timedelta(minutes=1)
    quiz.save(update_fields=["closes_at"])
    clock.tick(minutes=2)
    response = _start(client, quiz)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "survey_closed"
    assert not QuizEntry.objects.exists()


def test_untimed_quiz_needs_no_start(community, member, clock):
    quiz = make_quiz(community)
    _m, client = member
    response = _submit(client, quiz)
    assert response.status_code == 201
    entry = QuizEntry.objects.get(survey=quiz)
    assert entry.started_at == entry.submitted_at == clock.now
    status = client.get(f"/api/v1/surveys/{quiz.id}/quiz").json()
    assert status["deadline"] is None and status["time_limit_seconds"] is None
