"""Who may enter a draw: one table, one function per source.

A source answers the user ids of the members it lets in (a ``values`` query of user ids, never
anything more: a secret poll's voters are read from its participation records, never from a
ballot). ``model`` names the object ``source_id`` points at (None: no object), and
:func:`source_object_check` refuses objects that cannot feed a draw (an anonymous survey, a
survey that is not a quiz). To add a source: add a value to ``games.models.DrawSource``, write
its function here, add one row to :data:`SOURCES` and, when some of its objects cannot feed a
draw, a branch in :func:`source_object_check`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from community.errors import DomainError
from community.models import Membership, MembershipStatus
from games.models import Draw, DrawJoin, DrawSource


def _members(draw: Draw) -> QuerySet:
    return Membership.objects.filter(
        community_id=draw.community_id, status=MembershipStatus.ACTIVE
    ).values_list("user_id", flat=True)


def _poll_voters(draw: Draw) -> QuerySet:
    # Named polls record a ballot per voter, secret polls a participation record (never the
    # choice): each poll has only one of the two, so their union is its voters.
    from polls.models import Ballot, Participation

    named = Ballot.objects.filter(community_id=draw.community_id, poll_id=draw.source_id)
    secret = Participation.objects.filter(community_id=draw.community_id, poll_id=draw.source_id)
    return named.values_list("voter_id", flat=True).union(secret.values_list("user_id", flat=True))


def _survey_respondents(draw: Draw) -> QuerySet:
    from surveys.models import Participation, ResponseStatus

    return Participation.objects.filter(
        community_id=draw.community_id,
        survey_id=draw.source_id,
        anonymous=False,
        status=ResponseStatus.SUBMITTED,
    ).values_list("user_id", flat=True)


def _event_confirmed(draw: Draw) -> QuerySet:
    from events.models import Registration, RegistrationStatus

    return Registration.objects.filter(
        community_id=draw.community_id, event_id=draw.source_id, status=RegistrationStatus.CONFIRMED
    ).values_list("user_id", flat=True)


def _event_checked_in(draw: Draw) -> QuerySet:
    from events.models import CheckIn

    return CheckIn.objects.filter(
        community_id=draw.community_id, event_id=draw.source_id, guest_index=0
    ).values_list("registration__user_id", flat=True)


def _quiz_scorers(draw: Draw) -> QuerySet:
    # The quiz app says who qualifies (submitted, at least ``min_points``, still a member):
    # its membership ids, turned into user ids in one query.
    from surveys.selectors import quiz_qualifiers

    qualifiers = quiz_qualifiers(survey_id=draw.source_id, min_points=draw.min_points)
    return Membership.objects.filter(community_id=draw.community_id, pk__in=qualifiers).values_list(
        "user_id", flat=True
    )


def _joined(draw: Draw) -> QuerySet:
    return DrawJoin.objects.filter(community_id=draw.community_id, draw_id=draw.pk).values_list(
        "user_id", flat=True
    )


def _named_survey_only(survey: Any) -> None:
    if survey.anonymous:
        raise DomainError(
            _("An anonymous survey cannot feed a draw: its respondents are not named."),
            code="survey_anonymous",
            field="source_id",
        )


def _quiz_only(survey: Any) -> None:
    # A quiz is always named (a check constraint of surveys.Survey), so this one refusal is
    # enough: a survey that is not a quiz has no points to reach.
    if not survey.quiz_mode:
        raise DomainError(
            _("Only a quiz can feed this draw: the survey has no scores."),
            code="survey_not_a_quiz",
            field="source_id",
        )


def _poll_model() -> type[Model]:
    from polls.models import Poll

    return Poll


def _survey_model() -> type[Model]:
    from surveys.models import Survey

    return Survey


def _event_model() -> type[Model]:
    from events.models import Event

    return Event


@dataclass(frozen=True)
class EntrySource:
    """How one source lets members in: ``entrants`` gives their user ids; ``model`` (a
    callable, the apps load lazily) is the kind of object ``source_id`` names, if any."""

    entrants: Callable[[Draw], Any]
    model: Callable[[], type[Model]] | None = None


SOURCES: dict[str, EntrySource] = {
    DrawSource.MEMBERS: EntrySource(_members),
    DrawSource.POLL_VOTERS: EntrySource(_poll_voters, _poll_model),
    DrawSource.SURVEY_RESPONDENTS: EntrySource(_survey_respondents, _survey_model),
    DrawSource.EVENT_CONFIRMED: EntrySource(_event_confirmed, _event_model),
    DrawSource.EVENT_CHECKED_IN: EntrySource(_event_checked_in, _event_model),
    DrawSource.JOINED: EntrySource(_joined),
    DrawSource.QUIZ_SCORERS: EntrySource(_quiz_scorers, _survey_model),
}

assert set(SOURCES) == set(DrawSource), "every draw source has its row in SOURCES"


def source_object_check(*, source: str, obj: Any) -> None:
    """Refuse an object that cannot feed a draw of ``source`` (400 on ``source_id``). The
    refusals are called by name here, not through :data:`SOURCES`, so the contract's error
    walk (``community.raised_errors``) sees their codes and documents them."""
    if source == DrawSource.SURVEY_RESPONDENTS:
        _named_survey_only(obj)
    elif source == DrawSource.QUIZ_SCORERS:
        _quiz_only(obj)
