"""Starting a draw and joining it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, DomainError
from community.locking import lock_rows
from community.models import Membership
from community.services.content import content_screen_strict
from community.text import member_text
from games.models import (
    CLAIM_HOURS_MAX,
    MIN_POINTS_MAX,
    PRIZE_NAME_MAX,
    SOURCES_WITHOUT_OBJECT,
    TITLE_MAX,
    Draw,
    DrawJoin,
    DrawSource,
    DrawStatus,
    Prize,
)
from games.services.common import draw_get, round_commit
from games.sources import SOURCES, source_object_check

MAX_PRIZES = 10
MAX_EXCLUDED = 500


class PrizeSpec(TypedDict):
    name: str
    quantity: int


def _source_checked(*, community_id: str, source: str, source_id: str) -> str:
    if source not in SOURCES:
        raise DomainError(_("Unknown entry source."), code="invalid_choice", field="source")
    spec = SOURCES[source]
    if source in SOURCES_WITHOUT_OBJECT or spec.model is None:
        if source_id:
            raise DomainError(
                _("This source takes no poll, survey or event."),
                code="source_id_not_expected",
                field="source_id",
            )
        return ""
    if not source_id:
        raise DomainError(
            _("Name the poll, survey or event whose members enter."),
            code="required",
            field="source_id",
        )
    obj = spec.model().objects.filter(community_id=community_id, pk=source_id).first()
    if obj is None:
        raise DomainError(
            _("No such poll, survey or event in this community."),
            code="source_not_found",
            field="source_id",
        )
    source_object_check(source=source, obj=obj)
    return source_id


def _excluded_user_ids(*, community_id: str, member_ids: Sequence[str]) -> list[str]:
    member_ids = sorted(set(member_ids))
    if len(member_ids) > MAX_EXCLUDED:
        raise DomainError(
            _("Too many excluded members."), code="max_length", field="excluded_member_ids"
        )
    found = dict(
        Membership.objects.filter(community_id=community_id, pk__in=member_ids).values_list(
            "pk", "user_id"
        )
    )
    if len(found) != len(member_ids):
        raise DomainError(
            _("One of the excluded members is not a member of this community."),
            code="member_not_found",
            field="excluded_member_ids",
        )
    return sorted(found.values())


def draw_create(
    *,
    actor: Membership,
    title: str,
    prizes: Sequence[PrizeSpec],
    closes_at: datetime,
    source: str = DrawSource.MEMBERS,
    source_id: str = "",
    claim_hours: int = 72,
    exclude_organizer: bool = True,
    exclude_recent_winners_days: int = 0,
    excluded_member_ids: Sequence[str] = (),
    min_points: int = 0,
) -> Draw:
    """Start a lucky draw (admin tiers; the manage-events role). Its prizes are drawn in the
    order given (first prize first). Round 1's seed is chosen now and its commitment is
    published at once, before anyone can enter. The title and prize names are screened
    strictly (a draw cannot wait hidden in the moderation queue). A quiz-fed draw
    (``quiz_scorers``) lets in the members with at least ``min_points`` points in the quiz
    ``source_id`` (400 ``survey_not_a_quiz`` for a survey that is not a quiz); every other
    source takes no bar (400 ``min_points_not_expected``)."""
    ensure(actor, Action.CREATE_DRAW)
    now = timezone.now()
    title = member_text(title, field="title", max_length=TITLE_MAX)
    if not prizes:
        raise DomainError(_("A draw needs at least one prize."), code="required", field="prizes")
    if len(prizes) > MAX_PRIZES:
        raise DomainError(
            _("A draw has at most %(n)d prizes.") % {"n": MAX_PRIZES},
            code="max_length",
            field="prizes",
        )
    cleaned: list[PrizeSpec] = []
    for prize in prizes:
        quantity = int(prize["quantity"])
        if not 1 <= quantity <= 100:
            raise DomainError(
                _("A prize's quantity is between 1 and 100."), code="invalid", field="prizes"
            )
        name = member_text(prize["name"], field="prizes", max_length=PRIZE_NAME_MAX)
        cleaned.append({"name": name, "quantity": quantity})
    if closes_at <= now:
        raise DomainError(
            _("Entries must close in the future."), code="closes_in_past", field="closes_at"
        )
    if not 1 <= claim_hours <= CLAIM_HOURS_MAX:
        raise DomainError(
            _("The claim window is between 1 and %(n)d hours.") % {"n": CLAIM_HOURS_MAX},
            code="invalid",
            field="claim_hours",
        )
    if not 0 <= exclude_recent_winners_days <= 365:
        raise DomainError(
            _("Exclude winners of at most the last 365 days."),
            code="invalid",
            field="exclude_recent_winners_days",
        )
    if not 0 <= min_points <= MIN_POINTS_MAX:
        raise DomainError(
            _("The minimum points are between 0 and %(n)d.") % {"n": MIN_POINTS_MAX},
            code="invalid",
            field="min_points",
        )
    if min_points and source != DrawSource.QUIZ_SCORERS:
        raise DomainError(
            _("Only a quiz-fed draw takes minimum points."),
            code="min_points_not_expected",
            field="min_points",
        )
    source_id = _source_checked(
        community_id=actor.community_id, source=source, source_id=source_id or ""
    )
    excluded = _excluded_user_ids(
        community_id=actor.community_id, member_ids=list(excluded_member_ids)
    )
    texts = {"title": title} | {f"prizes.{i}.name": p["name"] for i, p in enumerate(cleaned)}
    content_screen_strict(texts=texts, user=actor.user)
    with transaction.atomic():
        draw = Draw.objects.create(
            community_id=actor.community_id,
            organizer_id=actor.user_id,
            title=title,
            source=source,
            source_id=source_id,
            exclude_organizer=exclude_organizer,
            exclude_recent_winners_days=exclude_recent_winners_days,
            excluded_user_ids=excluded,
            min_points=min_points,
            closes_at=closes_at,
            claim_hours=claim_hours,
            created_at=now,
        )
        Prize.objects.bulk_create(
            Prize(
                community_id=actor.community_id,
                draw=draw,
                position=position,
                name=prize["name"],
                quantity=prize["quantity"],
            )
            for position, prize in enumerate(cleaned, start=1)
        )
        round_commit(draw=draw, number=1, now=now)
    return draw


def _joinable(actor: Membership, draw_id: str) -> Draw:
    ensure(actor, Action.PARTICIPATE)
    draw = draw_get(community_id=actor.community_id, draw_id=draw_id)
    if draw.source != DrawSource.JOINED:
        raise Conflict(
            _("Members enter this draw by taking part, not by joining it."),
            code="draw_not_joinable",
        )
    if draw.status_at(timezone.now()) != DrawStatus.OPEN:
        raise Conflict(_("Entries to this draw are closed."), code="draw_closed")
    return draw


def draw_join(*, actor: Membership, draw_id: str) -> Draw:
    """Press "join the draw" (draws open to those who join). Idempotent; refused once entries
    closed (409 ``draw_closed``). The entry list is frozen under the draw's lock, so a join
    racing the close is either in the list or refused."""
    draw = _joinable(actor, draw_id)
    with transaction.atomic():
        # The freeze holds this lock while it reads the joins: a join waits for it, then
        # finds the draw closed (joins of one draw queue briefly on its row: a tap each).
        locked = lock_rows(Draw.objects.filter(pk=draw.pk)).first()
        if locked is None or locked.status_at(timezone.now()) != DrawStatus.OPEN:
            raise Conflict(_("Entries to this draw are closed."), code="draw_closed")
        try:
            with transaction.atomic():
                DrawJoin.objects.create(
                    community_id=draw.community_id, draw=draw, user_id=actor.user_id
                )
        except IntegrityError:
            pass  # joined already
    return draw


def draw_leave(*, actor: Membership, draw_id: str) -> Draw:
    """Take back my "join" while entries are open. Idempotent."""
    draw = _joinable(actor, draw_id)
    with transaction.atomic():
        locked = lock_rows(Draw.objects.filter(pk=draw.pk)).first()  # as a join: not mid-freeze
        if locked is None or locked.status_at(timezone.now()) != DrawStatus.OPEN:
            raise Conflict(_("Entries to this draw are closed."), code="draw_closed")
        DrawJoin.objects.filter(
            community_id=draw.community_id, draw_id=draw.pk, user_id=actor.user_id
        ).delete()
    return draw
