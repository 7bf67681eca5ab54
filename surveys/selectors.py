"""Reads of the surveys app, with the query shape decided here."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import DateTimeField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import VISIBLE_STATUSES, Action, ensure, visible_object
from community.errors import NotFound
from community.models import Membership, User
from surveys.models import Participation, Survey, SurveyStatus

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
