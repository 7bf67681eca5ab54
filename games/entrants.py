"""Who is in a draw and under which pseudonymous id: reads shared by the services (the freeze)
and the selectors (a member's "am I in?" before the freeze)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from community import sealing
from community.authz import VISIBLE_STATUSES
from community.models import Membership
from games.models import Draw, Winner
from games.sources import SOURCES


def entry_id_for(*, draw_id: str, user_id: str) -> str:
    """The member's pseudonymous entry id in a draw: a keyed hash (HMAC-SHA256, a key derived
    from ``BALLOT_KEY`` and the draw) of their user id, 16 hex characters. The list reveals
    nobody without the key; the member's own id is shown to them as "my entry id"."""
    return sealing.tag(secret=settings.BALLOT_KEY, box=f"draw-entry:{draw_id}", value=str(user_id))[
        :16
    ]


def entrant_user_ids(*, draw: Draw, now: datetime) -> set[str]:
    """Who enters the draw now: the source's members who are still members (active or muted),
    minus the organizer (when excluded), the chosen members and the winners of the last N
    days in this community (prizes forfeited do not count)."""
    ids = set(SOURCES[draw.source].entrants(draw))
    ids &= set(
        Membership.objects.filter(
            community_id=draw.community_id, status__in=[str(s) for s in VISIBLE_STATUSES]
        ).values_list("user_id", flat=True)
    )
    if draw.exclude_organizer and draw.organizer_id is not None:
        ids.discard(draw.organizer_id)
    ids -= set(draw.excluded_user_ids or ())
    if draw.exclude_recent_winners_days:
        since = now - timedelta(days=draw.exclude_recent_winners_days)
        ids -= set(
            Winner.objects.filter(
                community_id=draw.community_id, created_at__gte=since, forfeited_at__isnull=True
            )
            .exclude(draw_id=draw.pk)
            .values_list("user_id", flat=True)
        )
    return ids
