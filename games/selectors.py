"""Reads of the lucky draws: the list, a draw as a member sees it, the published document, the
organizer's named entry list and its CSV. Never imports services."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict
from community.exports import safe_text
from community.models import Membership
from games.entrants import entrant_user_ids, entry_id_for
from games.models import Draw, DrawJoin, DrawRound, DrawStatus, Entry, Prize, Winner
from games.verify import PROCEDURE


def draw_list(*, viewer: Membership) -> QuerySet[Draw]:
    """The community's draws, newest first, with my prize (when I won and it is not forfeited)
    and whether I pressed "join". One query per page."""
    mine = Winner.objects.filter(draw=OuterRef("pk"), user_id=viewer.user_id, forfeited_at=None)
    return Draw.objects.filter(community_id=viewer.community_id).annotate(
        my_prize_name=Subquery(mine.values("prize__name")[:1]),
        joined=Exists(DrawJoin.objects.filter(draw=OuterRef("pk"), user_id=viewer.user_id)),
    )


def _winner_status(winner: Winner) -> str:
    if winner.forfeited_at is not None:
        return "forfeited"
    return "claimed" if winner.claimed_at is not None else "unclaimed"


def draw_detail(*, viewer: Membership, draw: Draw, now: datetime | None = None) -> dict[str, Any]:
    """A draw as a member sees it: its prizes, every round's commitment (and seed once drawn),
    the frozen list's size and hash, the result (pseudonymous) and my own state: my entry id,
    whether I am in (before entries close: whether I would be, from the source as it stands),
    whether I joined, and my prize with its claim deadline."""
    now = now or timezone.now()
    prizes = list(Prize.objects.filter(community_id=draw.community_id, draw=draw))
    rounds = list(DrawRound.objects.filter(community_id=draw.community_id, draw=draw))
    winners = list(
        Winner.objects.filter(community_id=draw.community_id, draw=draw)
        .select_related("round", "prize", "entry")
        .order_by("round__number", "rank")
    )
    my_entry_id = entry_id_for(draw_id=draw.pk, user_id=viewer.user_id)
    if draw.drawn_at is not None:
        entered = Entry.objects.filter(
            community_id=draw.community_id, draw=draw, user_id=viewer.user_id
        ).exists()
    else:
        entered = viewer.user_id in entrant_user_ids(draw=draw, now=now)
    joined = DrawJoin.objects.filter(
        community_id=draw.community_id, draw=draw, user_id=viewer.user_id
    ).exists()
    mine = next((w for w in winners if w.user_id == viewer.user_id), None)
    pending = next((r for r in rounds if r.drawn_at is None), None)
    return {
        "draw": draw,
        "status": draw.status_at(now),
        "prizes": prizes,
        "rounds": [
            {
                "number": r.number,
                "commitment": r.commitment,
                "seed": r.seed or None,
                "committed_at": r.committed_at,
                "drawn_at": r.drawn_at,
            }
            for r in rounds
        ],
        "commitment": pending.commitment if pending else None,
        "results": [
            {
                "round": w.round.number,
                "prize_id": w.prize_id,
                "prize_name": w.prize.name,
                "entry_id": w.entry.entry_id,
                "status": _winner_status(w),
            }
            for w in winners
        ],
        "me": {
            "entry_id": my_entry_id,
            "entered": entered,
            "joined": joined,
            "prize": mine.prize if mine and mine.forfeited_at is None else None,
            "claim_deadline": mine.claim_deadline if mine else None,
            "claimed_at": mine.claimed_at if mine else None,
            "forfeited": bool(mine and mine.forfeited_at is not None),
        },
    }


def draw_publication(*, draw: Draw) -> dict[str, Any]:
    """The document anyone recomputes the draw from (``games.verify.verify_publication``,
    ``manage.py draw_verify``): the procedure, the frozen list and its hash, the prizes, and
    every round with its commitment, and once drawn its seed, slots, exclusions, winners and
    forfeited prizes. Before the draw: the prizes and round 1's commitment only."""
    prizes = Prize.objects.filter(community_id=draw.community_id, draw=draw).order_by("position")
    winners = list(
        Winner.objects.filter(community_id=draw.community_id, draw=draw)
        .select_related("entry")
        .order_by("rank")
    )
    rounds = []
    for round_ in DrawRound.objects.filter(community_id=draw.community_id, draw=draw):
        drawn = round_.drawn_at is not None
        own = [w for w in winners if w.round_id == round_.pk]
        rounds.append(
            {
                "number": round_.number,
                "commitment": round_.commitment,
                "committed_at": round_.committed_at,
                "seed": round_.seed if drawn else None,
                "drawn_at": round_.drawn_at,
                "slots": round_.slots if drawn else [],
                "excluded": round_.excluded if drawn else [],
                "winners": [{"prize_id": w.prize_id, "entry_id": w.entry.entry_id} for w in own],
                "forfeited": [
                    {"prize_id": w.prize_id, "entry_id": w.entry.entry_id}
                    for w in own
                    if w.forfeited_at is not None
                ],
            }
        )
    entries = []
    if draw.drawn_at is not None:
        entries = list(
            Entry.objects.filter(community_id=draw.community_id, draw=draw)
            .order_by("entry_id")
            .values_list("entry_id", flat=True)
        )
    return {
        "procedure": PROCEDURE,
        "draw_id": draw.pk,
        "title": draw.title,
        "entries": entries,
        "entries_hash": draw.entries_hash or None,
        "prizes": [
            {"id": p.pk, "name": p.name, "quantity": p.quantity, "position": p.position}
            for p in prizes
        ],
        "rounds": rounds,
    }


def entry_list(*, viewer: Membership, draw: Draw) -> QuerySet[Entry]:
    """The frozen list with who is who and what they won (the organizer, the admin tiers, the
    manage-events role; 409 ``draw_not_drawn`` before the list is frozen). One query a page."""
    ensure(viewer, Action.MANAGE_DRAW, obj=draw)
    if draw.drawn_at is None:
        raise Conflict(_("The entry list is frozen when the draw is drawn."), code="draw_not_drawn")
    won = Winner.objects.filter(draw=draw, entry=OuterRef("pk"))
    member = Membership.objects.filter(community_id=draw.community_id, user_id=OuterRef("user_id"))
    return (
        Entry.objects.filter(community_id=draw.community_id, draw=draw)
        .select_related("user")
        .annotate(
            member_id=Subquery(member.values("pk")[:1]),
            prize_name=Subquery(won.values("prize__name")[:1]),
            won_round=Subquery(won.values("round__number")[:1]),
            claimed_at=Subquery(won.values("claimed_at")[:1]),
            forfeited_at=Subquery(won.values("forfeited_at")[:1]),
        )
    )


def entry_status(entry: Entry) -> str | None:
    if entry.prize_name is None:
        return None
    if entry.forfeited_at is not None:
        return "forfeited"
    return "claimed" if entry.claimed_at is not None else "unclaimed"


def entries_csv(*, viewer: Membership, draw: Draw) -> str:
    """The named entry list as CSV (entry id, member, nickname, prize, round, status)."""
    rows = entry_list(viewer=viewer, draw=draw).order_by("entry_id")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [_("entry id"), _("member id"), _("nickname"), _("prize"), _("round"), _("status")]
    )
    for entry in rows.iterator(chunk_size=500):
        writer.writerow(
            [
                entry.entry_id,
                entry.member_id or "",
                safe_text(entry.user.nickname),
                safe_text(entry.prize_name or ""),
                entry.won_round or "",
                entry_status(entry) or "",
            ]
        )
    return out.getvalue()


__all__ = [
    "DrawStatus",
    "draw_detail",
    "draw_list",
    "draw_publication",
    "entries_csv",
    "entry_list",
]
