"""Reads of the surveys app, with the query shape decided here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import DateTimeField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import VISIBLE_STATUSES, Action, can, ensure, visible_object
from community.errors import Forbidden, NotFound
from community.models import Membership, User
from surveys.definition import definition_for
from surveys.models import (
    Participation,
    QuizEntry,
    QuizResults,
    Survey,
    SurveyState,
    SurveyStatus,
)
from surveys.quiz import answer_key_for, is_correct

MY_STATUS_NOT_STARTED = "not_started"
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def _open_with_my_status(surveys: QuerySet[Survey], *, user_id: str) -> QuerySet[Survey]:
    """Published surveys inside their open window, soonest closing first, annotated with
    ``my_status`` (not_started / draft / submitted) in the same query."""
    now = timezone.now()
    mine = Participation.objects.filter(
        community_id=OuterRef("community_id"), survey=OuterRef("pk"), user_id=user_id
    ).values("status")[:1]
    return (
        surveys.filter(status=SurveyStatus.PUBLISHED)
        .filter(Q(opens_at__isnull=True) | Q(opens_at__lte=now))
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        .annotate(
            my_status=Coalesce(Subquery(mine), Value(MY_STATUS_NOT_STARTED)),
            # Never null, so a cursor can stand on it: no closing time sorts last.
            closing_at=Coalesce("closes_at", Value(NEVER, output_field=DateTimeField())),
        )
        .order_by("closing_at", "-published_at", "id")
    )


def open_surveys(*, membership: Membership) -> QuerySet[Survey]:
    """Open surveys of the member's community, with ``my_status``."""
    return _open_with_my_status(
        Survey.objects.filter(community_id=membership.community_id),
        user_id=membership.user_id,
    )


def open_surveys_of_user(*, user: User) -> QuerySet[Survey]:
    """Open surveys of every community the user can see (active or muted member), with
    ``my_status``: the "surveys for me" list of the mini-program. Each survey comes with its
    community (joined), whose time zone its card is shown in."""
    communities = Membership.objects.filter(user=user, status__in=VISIBLE_STATUSES).values(
        "community_id"
    )
    return _open_with_my_status(
        Survey.objects.filter(community_id__in=communities).select_related("community"),
        user_id=user.pk,
    )


def survey_for_member(
    *, user: User, survey_id: str, action: Action = Action.VIEW
) -> tuple[Survey, Membership]:
    """A published or closed survey the user may see, with their membership, in one query
    (``community.authz.visible_object``).

    404 for drafts, unknown ids and surveys of communities the user is not a visible member
    of; 403 when ``action`` is not allowed (muted, group rules not accepted), from
    ``community.authz.ensure`` (no query)."""
    found = visible_object(Survey, user=user, object_id=survey_id)
    if found is None or found[0].status == SurveyStatus.DRAFT:
        raise NotFound(_("Survey not found."))
    survey, membership = found
    ensure(membership, action)
    return survey, membership


def my_status(*, survey: Survey, user: User) -> str:
    """not_started / draft / submitted."""
    status = (
        Participation.objects.filter(community_id=survey.community_id, survey=survey, user=user)
        .values_list("status", flat=True)
        .first()
    )
    return status or MY_STATUS_NOT_STARTED


# --- quizzes --------------------------------------------------------------------------------
def quiz_entry_of(*, survey: Survey, membership: Membership) -> QuizEntry | None:
    """The member's entry in a quiz (started or submitted), or None."""
    return QuizEntry.objects.filter(
        community_id=survey.community_id, survey=survey, membership=membership
    ).first()


def quiz_results_due(*, survey: Survey, membership: Membership, entry: QuizEntry | None) -> bool:
    """May this member see the quiz's correct answers, explanations and leaderboard now?
    After the quiz closes everyone may; before, with ``quiz_results=after_submit``, those who
    submitted; the survey's managers always."""
    if survey.state() == SurveyState.CLOSED:
        return True
    if survey.quiz_results == QuizResults.AFTER_SUBMIT and entry and entry.submitted_at:
        return True
    return can(membership, Action.MANAGE_SURVEYS)


def quiz_require_results(
    *, survey: Survey, membership: Membership, entry: QuizEntry | None
) -> None:
    """403 ``quiz_results_not_due`` unless :func:`quiz_results_due`; 404 for a survey that is
    not a quiz."""
    if not survey.quiz_mode:
        raise NotFound(_("This survey is not a quiz."), code="not_a_quiz")
    if not quiz_results_due(survey=survey, membership=membership, entry=entry):
        raise Forbidden(_("The quiz's results are not shown yet."), code="quiz_results_not_due")


def quiz_leaderboard(*, survey: Survey) -> QuerySet[QuizEntry]:
    """Submitted entries, best score first, earlier submission first among equal scores (the
    order of the partial index ``quiz_entry_board``), with the member's user for the name."""
    return (
        QuizEntry.objects.filter(
            community_id=survey.community_id, survey=survey, submitted_at__isnull=False
        )
        .select_related("membership__user")
        .order_by("-score", "submitted_at", "id")
    )


def quiz_rank(*, entry: QuizEntry) -> int | None:
    """The entry's place on its leaderboard (1 = best; ties broken by submission time, so
    places are unique), or None before it is submitted. One count over the index."""
    if entry.submitted_at is None:
        return None
    ahead = QuizEntry.objects.filter(
        community_id=entry.community_id, survey_id=entry.survey_id, submitted_at__isnull=False
    ).filter(
        Q(score__gt=entry.score)
        | Q(score=entry.score, submitted_at__lt=entry.submitted_at)
        | Q(score=entry.score, submitted_at=entry.submitted_at, id__lt=entry.id)
    )
    return ahead.count() + 1


def quiz_qualifiers(*, survey_id: str, min_points: int) -> list[str]:
    """Membership ids (``community.Membership.id``, the short public ids every app uses for a
    member of a community) of the quiz's submitted entries with at least ``min_points``
    points, best first (score, then earlier submission): the people a lucky draw fed by this
    quiz enters. Members who left or were banned since keep their entry but are left out, as
    are pending ones: only active and muted members qualify. An unknown survey, or one that
    is not a quiz, qualifies nobody (``[]``). For the draws app; no permission check here
    (the caller checks its actor). Two queries: the survey's community, then the entries by the
    partial index ``quiz_entry_board`` (community first, as every query of a community's
    rows)."""
    community_id = (
        Survey.objects.filter(pk=survey_id, quiz_mode=True)
        .values_list("community_id", flat=True)
        .first()
    )
    if community_id is None:
        return []
    return list(
        QuizEntry.objects.filter(
            community_id=community_id,
            survey_id=survey_id,
            submitted_at__isnull=False,
            score__gte=min_points,
            membership__status__in=VISIBLE_STATUSES,
        )
        .order_by("-score", "submitted_at", "id")
        .values_list("membership_id", flat=True)
    )


def quiz_my_status(
    *, survey: Survey, membership: Membership, entry: QuizEntry | None = None
) -> dict[str, Any]:
    """My go at a quiz as the mini-program shows it: started, deadline, name setting, and my
    score and rank once results are due (``entry`` when the caller has it fresh)."""
    if not survey.quiz_mode:
        raise NotFound(_("This survey is not a quiz."), code="not_a_quiz")
    if entry is None:
        entry = quiz_entry_of(survey=survey, membership=membership)
    due = quiz_results_due(survey=survey, membership=membership, entry=entry)
    deadline = None
    if entry is not None and survey.quiz_time_limit:
        deadline = entry.started_at + timedelta(seconds=survey.quiz_time_limit)
    submitted = entry is not None and entry.submitted_at is not None
    return {
        "started_at": entry.started_at if entry else None,
        "deadline": deadline,
        "time_limit_seconds": survey.quiz_time_limit,
        "show_name": entry.show_name if entry else False,
        "submitted_at": entry.submitted_at if entry else None,
        "results_due": due,
        "score": entry.score if due and submitted else None,
        "max_score": answer_key_for(survey).max_score,
        "rank": quiz_rank(entry=entry) if due and submitted else None,
    }


def quiz_my_result(*, survey: Survey, membership: Membership) -> dict[str, Any]:
    """The quiz's correct answers, explanations and points with my answers and score, once
    results are due for me (403 ``quiz_results_not_due`` before). After the quiz closes,
    members who did not take part see the key too (their score is null)."""
    entry = quiz_entry_of(survey=survey, membership=membership)
    quiz_require_results(survey=survey, membership=membership, entry=entry)
    submitted = entry is not None and entry.submitted_at is not None
    answers: dict[str, Any] = {}
    if submitted:
        answers = (
            Participation.objects.filter(
                community_id=survey.community_id, survey=survey, user_id=membership.user_id
            )
            .values_list("submitted__answers", flat=True)
            .first()
        ) or {}
    key = answer_key_for(survey)
    items = {item.question_id: item for item in key.items}
    questions = []
    for question in definition_for(survey).questions:
        item = items.get(question.id)
        if item is None:
            continue
        mine = answers.get(question.id)
        right = is_correct(item, mine) if item.points else None
        questions.append(
            {
                "question_id": question.id,
                "title": question.title,
                "type": question.type,
                "points": item.points,
                "earned": item.points if right else 0,
                "is_correct": right,
                "my_answer": mine,
                "correct_choice_ids": [
                    c.id for c in question.choices if c.id in item.correct_choices
                ],
                "accepted_answers": list(item.accepted),
                "explanation": item.explanation,
            }
        )
    return {
        "score": entry.score if submitted else None,
        "max_score": key.max_score,
        "rank": quiz_rank(entry=entry) if submitted else None,
        "submitted_at": entry.submitted_at if submitted else None,
        "questions": questions,
    }


def quiz_leaderboard_for(*, survey: Survey, membership: Membership) -> QuerySet[QuizEntry]:
    """The leaderboard a member may read: 403 ``quiz_results_not_due`` until results are due
    for them (their own submission with ``after_submit``, or the close), 404 for a survey
    that is not a quiz."""
    entry = quiz_entry_of(survey=survey, membership=membership)
    quiz_require_results(survey=survey, membership=membership, entry=entry)
    return quiz_leaderboard(survey=survey)
