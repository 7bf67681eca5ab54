"""What the draw services share: loading a draw, entry ids, seeds sealed at rest, who enters."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from community import sealing
from community.errors import NotFound
from games.entrants import entrant_user_ids, entry_id_for  # noqa: F401  (re-exported)
from games.models import Draw, DrawRound
from games.verify import commitment_of

NOTIFY_WON = "draw_won"
SEED_BUCKET = 128


def draw_page(draw_id: str) -> str:
    return f"pages/draws/detail?id={draw_id}"


def draw_not_found() -> NotFound:
    return NotFound(_("Draw not found."), code="draw_not_found")


def draw_get(*, community_id: str, draw_id: str) -> Draw:
    """The draw of this community (404 ``draw_not_found`` otherwise)."""
    draw = Draw.objects.filter(community_id=community_id, pk=draw_id).first()
    if draw is None:
        raise draw_not_found()
    return draw


def _seed_box(round_: DrawRound) -> str:
    return f"draw-seed:{round_.draw_id}:{round_.number}"


def round_commit(*, draw: Draw, number: int, now: datetime) -> DrawRound:
    """Choose round ``number``'s seed at random and store its commitment, the seed sealed (a
    database reader cannot open it before the reveal). Call inside the draw's transaction."""
    seed = secrets.token_hex(32)
    round_ = DrawRound(community_id=draw.community_id, draw=draw, number=number, committed_at=now)
    round_.commitment = commitment_of(seed)
    round_.sealed_seed = sealing.seal(
        secret=settings.BALLOT_KEY, box=_seed_box(round_), payload=seed, bucket=SEED_BUCKET
    )
    round_.save(force_insert=True)
    return round_


def round_seed(round_: DrawRound) -> str:
    """The sealed seed of a round (for drawing it)."""
    return sealing.unseal(
        secret=settings.BALLOT_KEY, box=_seed_box(round_), sealed=round_.sealed_seed
    )
