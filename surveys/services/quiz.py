"""Quizzes: a survey in quiz mode (``Survey.quiz_mode``) -- starting the clock, the name on
the leaderboard, scoring a submission, and the checks a quiz passes before it is published.

A quiz is a survey because everything a member does with one (render the questions, save a
draft, submit once, validation, display logic, caps, closing, reports, exports) is what the
survey engine already does; a quiz adds an answer key (``surveys.quiz``) and one row per
member (``QuizEntry``) with their start time and score.

The timer runs on the server: :func:`quiz_start` records ``started_at`` once (calling it again
changes nothing but the name setting), and a submission arriving after
``started_at + quiz_time_limit`` (plus ``surveys.quiz.GRACE_SECONDS``) is refused with 409
``quiz_time_up``; a time-limited quiz submitted without starting is refused with 409
``quiz_not_started``. The score is computed and stored in the submission's own transaction
(:func:`quiz_score_submission`), so the leaderboard is one ordered read of an index.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from surveys.engine import QuestionType
from surveys.models import QuizEntry, Survey
from surveys.quiz import (
    CHOICE_SCORED,
    GRACE_SECONDS,
    SCORED_TYPES,
    AnswerKey,
    answer_key_for,
    as_decimal,
    build_answer_key,
)
from surveys.quiz import score as quiz_score
from surveys.services.common import _refuse_unless_accepting


def _quiz_participant(membership: Membership, survey: Survey) -> None:
    if membership.community_id != survey.community_id:
        raise NotFound(_("Survey not found."))
    ensure(membership, Action.PARTICIPATE)
    if not survey.quiz_mode:
        raise NotFound(_("This survey is not a quiz."), code="not_a_quiz")


def quiz_deadline(*, survey: Survey, entry: QuizEntry | None) -> datetime | None:
    """When the member's time is up (None without a time limit or before they start)."""
    if entry is None or not survey.quiz_time_limit:
        return None
    return entry.started_at + timedelta(seconds=survey.quiz_time_limit)


def quiz_start(
    *, membership: Membership, survey: Survey, show_name: bool | None = None
) -> QuizEntry:
    """Start the member's quiz: record ``started_at`` by the server's clock the first time,
    and return the entry as it is on every later call (idempotent: a retried request never
    restarts the clock). ``show_name`` (when given) sets whether the leaderboard shows the
    member's name or "anonymous player". A quiz that does not take answers (not open yet,
    closed, full) cannot be started."""
    _quiz_participant(membership, survey)
    scope = {"community_id": survey.community_id, "survey": survey, "membership": membership}
    with transaction.atomic():
        entry = lock_rows(QuizEntry.objects.filter(**scope)).first()
        if entry is None:
            _refuse_unless_accepting(survey)
            entry, _created = QuizEntry.objects.get_or_create(
                **scope,
                defaults={"started_at": timezone.now(), "show_name": bool(show_name)},
            )
            if _created or show_name is None:
                return entry
            entry = lock_rows(QuizEntry.objects.filter(pk=entry.pk)).get()
        if show_name is not None and entry.show_name != show_name:
            entry.show_name = show_name
            entry.save(update_fields=["show_name"])
    return entry


def quiz_set_name_visibility(
    *, membership: Membership, survey: Survey, show_name: bool
) -> QuizEntry:
    """Show the member's name on the quiz's leaderboard, or "anonymous player" instead.
    Allowed at any time, also after the quiz closed; 404 ``quiz_not_started`` when the member
    never started or submitted it."""
    if membership.community_id != survey.community_id or not survey.quiz_mode:
        raise NotFound(_("This survey is not a quiz."), code="not_a_quiz")
    ensure(membership, Action.VIEW)  # a mute stops publishing, not hiding one's own name
    with transaction.atomic():
        entry = lock_rows(
            QuizEntry.objects.filter(
                community_id=survey.community_id, survey=survey, membership=membership
            )
        ).first()
        if entry is None:
            raise NotFound(_("You have not started this quiz."), code="quiz_not_started")
        if entry.show_name != show_name:
            entry.show_name = show_name
            entry.save(update_fields=["show_name"])
    return entry


def quiz_score_submission(
    *, survey: Survey, membership: Membership, values: dict[str, Any], now: datetime
) -> int:
    """Score a quiz submission and store it on the member's entry. Call inside the
    submission's transaction, after the member's participation row is locked (so parallel
    submissions of one member queue before this). Refuses a time-limited quiz that was not
    started (409 ``quiz_not_started``) or whose time is up (409 ``quiz_time_up``); the
    caller's transaction then rolls back and nothing is saved. Returns the score."""
    scope = {"community_id": survey.community_id, "survey_id": survey.pk, "membership": membership}
    entry = lock_rows(QuizEntry.objects.filter(**scope)).first()
    if survey.quiz_time_limit:
        if entry is None:
            raise Conflict(
                _("Start the quiz first: its time limit counts from the start."),
                code="quiz_not_started",
            )
        deadline = quiz_deadline(survey=survey, entry=entry)
        if now > deadline + timedelta(seconds=GRACE_SECONDS):
            raise Conflict(
                _("Time is up: this quiz had to be submitted within %(seconds)d seconds.")
                % {"seconds": survey.quiz_time_limit},
                code="quiz_time_up",
            )
    key = answer_key_for(survey)
    points = quiz_score(key, values)
    if entry is None:
        QuizEntry.objects.bulk_create(
            [
                QuizEntry(
                    **scope,
                    started_at=now,
                    score=points,
                    max_score=key.max_score,
                    submitted_at=now,
                )
            ],
            update_conflicts=True,
            unique_fields=["community", "survey", "membership"],
            update_fields=["score", "max_score", "submitted_at"],
        )
    else:
        QuizEntry.objects.filter(pk=entry.pk).update(
            score=points, max_score=key.max_score, submitted_at=now
        )
    return points


def quiz_problems(key: AnswerKey) -> list[str]:
    """Why a quiz's answer key cannot be published (translated sentences), or []."""
    problems = []
    if not any(item.points for item in key.items):
        problems.append(_("A quiz needs at least one question with points."))
    for number, item in enumerate(key.items, start=1):
        if not item.points:
            continue
        if item.type not in SCORED_TYPES:
            problems.append(
                _(
                    "Question %(number)d: only single choice, dropdown, multiple choice, number "
                    "and short text questions can carry points."
                )
                % {"number": number}
            )
        elif item.type in CHOICE_SCORED or item.type == QuestionType.MULTIPLE_CHOICE:
            if not item.correct_choices:
                problems.append(
                    _("Question %(number)d: mark its correct choice.") % {"number": number}
                )
            elif item.type in CHOICE_SCORED and len(item.correct_choices) > 1:
                problems.append(
                    _("Question %(number)d: a single-choice question has one correct choice.")
                    % {"number": number}
                )
        elif not item.accepted:
            problems.append(
                _("Question %(number)d: write its correct answer.") % {"number": number}
            )
        elif item.type == QuestionType.NUMBER and not all(
            _is_number(answer) for answer in item.accepted
        ):
            problems.append(
                _("Question %(number)d: the correct answer of a number question is a number.")
                % {"number": number}
            )
    return problems


def _is_number(text: str) -> bool:
    value = as_decimal(text)
    return value is not None and value.is_finite()


def quiz_check(*, survey: Survey) -> None:
    """Raise 400 ``quiz_invalid`` (every problem in the message) unless the quiz's answer key
    can be published. Reads the key fresh from the database."""
    problems = quiz_problems(build_answer_key(survey))
    if problems:
        raise DomainError(" ".join(problems), code="quiz_invalid")
