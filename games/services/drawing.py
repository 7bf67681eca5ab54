"""Drawing: freezing the entry list and drawing round 1, redrawing forfeited prizes, claims.

Every draw of a round happens under the draw row's lock (``community.locking``), in one
transaction that re-reads what it decides on, so two organizers pressing "draw now", the sweep
and a request at once make one result. Winners are told through the outbox (one message per
winner row: its dedupe key), queued in the same transaction and sent after commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict
from community.locking import lock_rows
from community.models import Membership
from community.services.notifications import notification_enqueue_many
from community.timezones import localize
from games.models import Draw, DrawRound, Entry, Prize, Winner
from games.services.common import (
    NOTIFY_WON,
    draw_get,
    draw_not_found,
    draw_page,
    entrant_user_ids,
    entry_id_for,
    round_commit,
    round_seed,
)
from games.verify import assign, entries_hash

#: How many due draws (and draws with expired claims) one sweep run takes on.
SWEEP_BATCH = 100


def _draw_round(
    *,
    draw: Draw,
    round_: DrawRound,
    slots: list[tuple[str, int]],
    excluded: list[str],
    now: datetime,
) -> list[Winner]:
    """Draw ``round_`` by the procedure (``games.verify.assign``) over the frozen list,
    reveal its seed, commit the next round's seed when someone won (a prize may be forfeited
    and redrawn) and queue each winner's message. Call holding the draw's lock."""
    entries = {
        e.entry_id: e for e in Entry.objects.filter(community_id=draw.community_id, draw=draw)
    }
    seed = round_seed(round_)
    pairs = assign(seed, sorted(entries), slots, excluded)
    deadline = now + timedelta(hours=draw.claim_hours)
    winners = [
        Winner(
            community_id=draw.community_id,
            draw=draw,
            round=round_,
            prize_id=prize_id,
            entry=entries[entry_id],
            user_id=entries[entry_id].user_id,
            rank=rank,
            claim_deadline=deadline,
            created_at=now,
        )
        for rank, (prize_id, entry_id) in enumerate(pairs, start=1)
    ]
    Winner.objects.bulk_create(winners)
    round_.seed = seed
    round_.slots = [{"prize_id": prize_id, "count": count} for prize_id, count in slots]
    round_.excluded = sorted(excluded)
    round_.drawn_at = now
    round_.save(update_fields=["seed", "slots", "excluded", "drawn_at"])
    if winners:
        round_commit(draw=draw, number=round_.number + 1, now=now)
    _notify(draw, winners)
    return winners


def _notify(draw: Draw, winners: list[Winner]) -> None:
    """Queue "you won" to each winner, once per winner row (a redraw's winner is a new row)."""
    names = dict(
        Prize.objects.filter(community_id=draw.community_id, draw=draw).values_list("pk", "name")
    )
    for winner in winners:
        deadline = localize(winner.claim_deadline, draw.community)
        notification_enqueue_many(
            community_id=draw.community_id,
            recipient_ids=[winner.user_id],
            kind=NOTIFY_WON,
            object_key=f"draw_winner:{winner.pk}",
            data={
                "thing1": draw.title[:20],
                "thing2": names[winner.prize_id][:20],
                "time3": deadline.strftime("%Y-%m-%d %H:%M"),
            },
            page=draw_page(draw.pk),
        )


def draw_perform(
    *, actor: Membership | None, draw_id: str, now: datetime | None = None
) -> Draw | None:
    """Close entries, freeze the entry list and draw round 1. ``actor`` is the organizer
    pressing "draw now" (the draw's organizer, the admin tiers, the manage-events role; entries
    close at that moment; 409 ``draw_already_drawn``, ``draw_no_entries``); None is the sweep,
    which draws only past ``closes_at``, skips a draw another transaction holds and returns
    a drawn one as it is. The list: the source's members minus the exclusions, as pseudonymous
    entry ids in ascending order, with its hash."""
    now = now or timezone.now()
    filters = {"pk": draw_id}
    if actor is not None:
        ensure(
            actor,
            Action.MANAGE_DRAW,
            obj=draw_get(community_id=actor.community_id, draw_id=draw_id),
        )
        filters["community_id"] = actor.community_id
    with transaction.atomic():
        draw = (
            lock_rows(Draw.objects.filter(**filters), skip_locked=actor is None)
            .select_related("community")
            .first()
        )
        if draw is None:
            if actor is not None:
                raise draw_not_found()
            return Draw.objects.filter(pk=draw_id).first()  # another run holds it
        if draw.drawn_at is not None:
            if actor is not None:
                raise Conflict(_("This draw has been drawn already."), code="draw_already_drawn")
            return draw
        if actor is None and draw.closes_at > now:
            return draw
        users = entrant_user_ids(draw=draw, now=now)
        if actor is not None and not users:
            raise Conflict(_("Nobody has entered this draw yet."), code="draw_no_entries")
        by_entry = {entry_id_for(draw_id=draw.pk, user_id=u): u for u in users}
        ordered = sorted(by_entry)
        Entry.objects.bulk_create(
            Entry(community_id=draw.community_id, draw=draw, entry_id=e, user_id=by_entry[e])
            for e in ordered
        )
        draw.entries_hash = entries_hash(ordered)
        draw.entry_count = len(ordered)
        draw.drawn_at = now
        draw.closes_at = min(draw.closes_at, now)
        draw.save(update_fields=["entries_hash", "entry_count", "drawn_at", "closes_at"])
        round_ = DrawRound.objects.get(community_id=draw.community_id, draw=draw, number=1)
        slots = [
            (p.pk, p.quantity)
            for p in Prize.objects.filter(community_id=draw.community_id, draw=draw).order_by(
                "position"
            )
        ]
        _draw_round(draw=draw, round_=round_, slots=slots, excluded=[], now=now)
    return draw


def draw_redraw_expired(*, draw_id: str, now: datetime | None = None) -> int:
    """Forfeit the prizes of a draw's winners who did not claim them by their deadline and
    redraw them in the next round (its seed was committed when the previous round was drawn),
    skipping every earlier winner. Idempotent; a draw another transaction holds is skipped
    (the next run takes it). Returns how many winners were forfeited."""
    now = now or timezone.now()
    with transaction.atomic():
        draw = (
            lock_rows(Draw.objects.filter(pk=draw_id), skip_locked=True)
            .select_related("community")
            .first()
        )
        if draw is None:
            return 0
        expired = list(
            lock_rows(
                Winner.objects.filter(
                    community_id=draw.community_id,
                    draw=draw,
                    claimed_at__isnull=True,
                    forfeited_at__isnull=True,
                    claim_deadline__lte=now,
                )
            ).select_related("prize")
        )
        if not expired:
            return 0
        Winner.objects.filter(pk__in=[w.pk for w in expired]).update(forfeited_at=now)
        round_ = (
            DrawRound.objects.filter(
                community_id=draw.community_id, draw=draw, drawn_at__isnull=True
            )
            .order_by("number")
            .first()
        )
        counts: dict[str, int] = {}
        positions: dict[str, int] = {}
        for winner in expired:
            counts[winner.prize_id] = counts.get(winner.prize_id, 0) + 1
            positions[winner.prize_id] = winner.prize.position
        slots = sorted(counts.items(), key=lambda item: positions[item[0]])
        excluded = list(
            Winner.objects.filter(community_id=draw.community_id, draw=draw).values_list(
                "entry__entry_id", flat=True
            )
        )
        _draw_round(draw=draw, round_=round_, slots=slots, excluded=excluded, now=now)
    return len(expired)


def winner_claim(*, actor: Membership, draw_id: str, now: datetime | None = None) -> Winner:
    """Claim my prize before its deadline (idempotent). 409 ``no_prize_to_claim`` when I won
    nothing (or my prize was forfeited and redrawn), ``claim_window_passed`` after the
    deadline, even before the sweep has redrawn it. The guarded update and the sweep's
    forfeit never both succeed (a check constraint backs it)."""
    now = now or timezone.now()
    draw = draw_get(community_id=actor.community_id, draw_id=draw_id)
    winner = (
        Winner.objects.filter(community_id=draw.community_id, draw=draw, user_id=actor.user_id)
        .select_related("prize", "entry")
        .first()
    )
    if winner is None or winner.forfeited_at is not None:
        raise Conflict(_("You have no prize to claim in this draw."), code="no_prize_to_claim")
    if winner.claimed_at is not None:
        return winner
    claimed = Winner.objects.filter(
        pk=winner.pk, claimed_at__isnull=True, forfeited_at__isnull=True, claim_deadline__gt=now
    ).update(claimed_at=now)
    if not claimed:
        raise Conflict(_("The time to claim this prize has passed."), code="claim_window_passed")
    winner.claimed_at = now
    return winner


def draws_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic: draw the draws past their closing time that nobody has drawn, and redraw the
    prizes whose claim window passed. Safe to run twice at once (locks, skip-locked)."""
    now = now or timezone.now()
    due = list(
        Draw.objects.filter(drawn_at__isnull=True, closes_at__lte=now)
        .order_by("closes_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    drawn = 0
    for draw_id in due:
        result = draw_perform(actor=None, draw_id=draw_id, now=now)
        if result is not None and result.drawn_at == now:
            drawn += 1
    expired = list(
        Winner.objects.filter(
            claimed_at__isnull=True, forfeited_at__isnull=True, claim_deadline__lte=now
        )
        .order_by("draw_id")
        .values_list("draw_id", flat=True)
        .distinct()[:SWEEP_BATCH]
    )
    forfeited = sum(draw_redraw_expired(draw_id=draw_id, now=now) for draw_id in expired)
    return {"drawn": drawn, "forfeited": forfeited}
