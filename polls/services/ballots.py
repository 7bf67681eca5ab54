"""Casting, replacing and withdrawing ballots."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, DomainError
from community.locking import lock_rows
from community.models import Membership
from community.queue_once import delay_once
from community.selectors import active_member_count
from community.services.content import (
    SCENE_COMMENT,
    content_hold_drop,
    content_hold_for_review,
    content_screen,
)
from insights.recording import activity_record
from polls.ballots import ballot_keys, validate_ballot
from polls.box_publication import public_tag
from polls.box_store import CAST, CHANGE, WITHDRAW, BallotState, ballot_state, box_put
from polls.models import (
    Ballot,
    Participation,
    Poll,
    PollStatus,
)
from polls.services.common import (
    RECEIPT_MIN_LENGTH,
    hash_receipt,
)
from polls.services.mixing import box_mix_pending_key
from polls.tally_store import insert_once, tally_record, upsert_named_pg, upsert_named_portable

logger = logging.getLogger(__name__)


def poll_ensure_eligible(*, poll: Poll, now: datetime | None = None) -> Poll:
    """Record the electorate (active members) of a poll that has opened, once.

    Runs in its own statement, outside any ballot transaction (it writes the poll row)."""
    now = now or timezone.now()
    if poll.eligible_count is None and now >= poll.opens_at:
        eligible = active_member_count(community_id=poll.community_id)
        Poll.objects.filter(pk=poll.pk, eligible_count__isnull=True).update(eligible_count=eligible)
        poll.eligible_count = eligible
    return poll


def check_open(poll: Poll, now: datetime) -> None:
    status = poll.status_at(now)
    if status == PollStatus.UPCOMING:
        raise Conflict(
            _("This poll is not open yet; voting starts at its opening time."),
            code="poll_not_open",
        )
    if status == PollStatus.CLOSED:
        raise Conflict(_("This poll has closed; votes are no longer accepted."), code="poll_closed")


def check_participant(membership: Membership) -> None:
    ensure(membership, Action.PARTICIPATE)


# --- ballots -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CastResult:
    """What a cast returns: the stored choices, and for a secret ballot its receipt."""

    choices: dict[str, Any]
    reason: str
    created: bool
    receipt: str | None = None
    #: Named ballots: when it was stored (what a read of the ballot shows as ``updated_at``).
    updated_at: datetime | None = None


def ballot_cast(
    *,
    membership: Membership,
    poll: Poll,
    body: dict[str, Any],
    receipt: str | None = None,
) -> CastResult:
    """Cast or replace ``membership``'s ballot in ``poll`` (idempotent: the same body twice
    leaves one ballot with those choices).

    Named polls: one :class:`Ballot` per member (the database constraint decides between two
    concurrent first votes; the loser replaces). Secret polls: the first vote records a
    :class:`Participation` and seals the ballot into the poll's box (``polls.box_store``; the
    mixing step turns it into an anonymous :class:`SecretBallot`) and returns a receipt; to
    replace it the member sends that receipt (or, for a safely retryable first vote, a random
    receipt of >= 32 characters they generated). Without the receipt a second vote is refused
    with 409 ``receipt_required``: nothing links the member to their ballot.

    Named tallies move in the same transaction (secret ones when the batch is mixed) and the
    poll's ``voter_count`` update, taken last, guards against voting after close."""
    check_participant(membership)
    now = timezone.now()
    check_open(poll, now)
    poll_ensure_eligible(poll=poll, now=now)
    choices = validate_ballot(poll, poll.option_order, body)
    if receipt is not None and not poll.secret:
        raise DomainError(
            _("Only secret ballots use a receipt."), code="receipt_not_allowed", field="receipt"
        )
    # A proposal's reason is shown to others (voters list): screened before the transaction;
    # one WeChat did not pass is stored hidden (the ballot counts) and waits for moderation.
    verdict = (
        content_screen(texts={"reason": choices.reason}, user=membership.user, scene=SCENE_COMMENT)
        if choices.reason
        else None
    )
    with transaction.atomic():
        activity_record(community_id=poll.community_id, user_id=membership.user_id, kind="vote")
        if not poll.secret:
            result = _cast_named(membership, poll, choices, now)
            if verdict is not None:
                _screened_reason(membership, poll, verdict)
            return result
        return _cast_secret(membership, poll, choices, now, receipt)


def _screened_reason(membership: Membership, poll: Poll, verdict: str) -> None:
    """Hold the stored reason when WeChat did not pass it; a reason that passed replaces a
    held one, whose hold goes."""
    ballot_id = (
        Ballot.objects.filter(
            community_id=poll.community_id, poll_id=poll.pk, voter_id=membership.user_id
        )
        .values_list("pk", flat=True)
        .first()
    )
    where = {
        "community_id": poll.community_id,
        "target_kind": "ballot_reason",
        "target_id": str(ballot_id),
    }
    if not content_hold_for_review(verdict=verdict, author_id=membership.user_id, **where):
        content_hold_drop(**where)


def _no_change(poll: Poll) -> None:
    if not poll.allow_vote_change:
        raise Conflict(
            _("This poll does not allow changing a vote once cast."), code="vote_change_not_allowed"
        )


def _cast_named(membership: Membership, poll: Poll, choices, now: datetime) -> CastResult:
    if connection.vendor == "postgresql":
        created, old = upsert_named_pg(membership, poll, choices, now)
    else:
        created, old = upsert_named_portable(membership, poll, choices, now)
    if created:
        tally_record(poll, now=now, voters=1, added=choices.keys)
        return CastResult(choices=choices.data, reason=choices.reason, created=True, updated_at=now)
    if old["choices"] == choices.data and old["reason"] == choices.reason:
        return CastResult(
            choices=choices.data, reason=choices.reason, created=False, updated_at=now
        )
    _no_change(poll)  # raising rolls the replacement back
    tally_record(
        poll, now=now, voters=0, removed=ballot_keys(poll, old["choices"]), added=choices.keys
    )
    return CastResult(choices=choices.data, reason=choices.reason, created=False, updated_at=now)


def _receipt_required() -> Conflict:
    return Conflict(
        _(
            "You have already voted in this secret poll. To change or withdraw your vote, send "
            "the receipt you received when you voted; without it your vote stays as cast."
        ),
        code="receipt_required",
    )


def _after_commit_mix(poll: Poll, waiting: int) -> None:
    """Queue the mix after commit once this vote completed a batch (unless a mix of the poll is
    queued and not started: ``community.queue_once``); only queue it: the voter's request never
    mixes. Without a broker (Celery eager, development) nothing is queued, since
    "queueing" would run the mix right here in the request; the first read of the poll's
    detail or results (``poll_finalize_on_read``) and the polls sweep (every minute) mix a
    complete batch then, as they do when a queued task is lost."""
    from polls.tasks import poll_box_mix_task

    if waiting < poll.min_ballots_to_show or poll_box_mix_task.app.conf.task_always_eager:
        return
    poll_id = poll.pk
    transaction.on_commit(
        lambda: delay_once(poll_box_mix_task, poll_id, key=box_mix_pending_key(poll_id)),
        robust=True,
    )


def _lock_own_participation(poll: Poll, membership: Membership, *, for_delete: bool = False):
    """The member's participation, locked (``FOR UPDATE`` to withdraw): a change of their
    ballot share-locks it (``ballot_state``), so a withdrawal and a change never interleave."""
    return lock_rows(
        Participation.objects.filter(
            community_id=poll.community_id, poll_id=poll.pk, user_id=membership.user_id
        ),
        for_delete=for_delete,
    ).first()


def _own_ballot(poll: Poll, membership: Membership, digest: str) -> BallotState:
    """The ballot named by ``digest`` with the member's participation share-locked. When the
    receipt names a live ballot but the member seems not to have taken part, the lock may have
    waited for their withdrawal while the statement's other reads saw the data before it:
    read once more (a fresh snapshot) before answering ``receipt_not_yours``."""
    found = ballot_state(poll, digest, user_id=membership.user_id)
    if found.current is not None and not found.participated:
        found = ballot_state(poll, digest, user_id=membership.user_id)
    return found


def _cast_secret(
    membership: Membership, poll: Poll, choices, now: datetime, receipt: str | None
) -> CastResult:
    """A secret vote writes the participation and a sealed box entry, and moves only
    ``voter_count`` (the guard): no plaintext choice and no tally in this transaction.

    Queries: a first vote inserts the participation, then guard + entry + box count in one
    statement; a change reads its ballot (one statement: mixed choices, its own waiting entry
    by tag, the member's participation share-locked), then guard + entry + count."""
    chosen = receipt is not None
    found = None
    if receipt is not None:
        digest = hash_receipt(receipt)
        found = _own_ballot(poll, membership, digest)
        if not found.known and len(receipt) < RECEIPT_MIN_LENGTH:
            raise DomainError(
                _("A receipt you choose yourself must have at least %(n)d random characters.")
                % {"n": RECEIPT_MIN_LENGTH},
                code="receipt_too_short",
                field="receipt",
            )
    else:
        receipt = secrets.token_urlsafe(32)
        digest = hash_receipt(receipt)

    if found is None or found.current is None:
        participated = not insert_once(
            Participation,
            ("community", "poll", "user"),
            community=poll.community_id,
            poll=poll.pk,
            user=membership.user_id,
            voted_at=now,
        )
        if not participated:
            waiting = box_put(
                poll,
                op=CAST,
                receipt_hash=digest,
                choices=choices.data,
                now=now,
                voters=1,
                public_tag=public_tag(poll, receipt),
            )
            _after_commit_mix(poll, waiting)
            return CastResult(choices=choices.data, reason="", created=True, receipt=receipt)
        if not chosen:
            raise _receipt_required()
        # A first vote retried in parallel with a self-chosen receipt: the participation insert
        # waited for the other request's transaction and found its row, so by now (read
        # committed: a fresh snapshot) that request's entry is in the box under the same
        # receipt. Answer as a replay of it instead of ``receipt_required``. A receipt
        # generated for this request (none was sent) matches nothing.
        found = ballot_state(poll, digest, user_id=membership.user_id)
        if found.current is None:
            raise _receipt_required()

    # Replacing: the receipt finds the ballot; the member must have taken part themselves.
    if not found.participated:
        raise Conflict(
            _("This receipt does not belong to a vote of yours."), code="receipt_not_yours"
        )
    if found.current != choices.data:
        _no_change(poll)
        waiting = box_put(
            poll,
            op=CHANGE,
            receipt_hash=digest,
            choices=choices.data,
            now=now,
            voters=0,
            public_tag=public_tag(poll, receipt),
        )
        _after_commit_mix(poll, waiting)
    return CastResult(choices=choices.data, reason="", created=False, receipt=receipt)


def ballot_withdraw(*, membership: Membership, poll: Poll, receipt: str | None = None) -> None:
    """Withdraw ``membership``'s ballot (allowed while open and when votes may change).

    Secret polls need the receipt; the participation goes with the ballot, so the member may
    vote again. Withdrawing when there is no ballot is a no-op (DELETE is idempotent)."""

    check_participant(membership)
    now = timezone.now()
    check_open(poll, now)
    scope = {"community_id": poll.community_id, "poll_id": poll.pk}
    with transaction.atomic():
        if not poll.secret:
            ballot = (
                lock_rows(
                    Ballot.objects.filter(**scope, voter_id=membership.user_id), for_delete=True
                )
                .values("pk", "choices")
                .first()
            )
            if ballot is None:
                return
            _no_change(poll)
            Ballot.objects.filter(pk=ballot["pk"]).delete()
            tally_record(poll, now=now, voters=-1, removed=ballot_keys(poll, ballot["choices"]))
            return
        participation = _lock_own_participation(poll, membership, for_delete=True)
        if participation is None:
            return
        if not receipt:
            raise _receipt_required()
        digest = hash_receipt(receipt)
        if ballot_state(poll, digest).current is None:
            raise Conflict(
                _("This receipt does not match a ballot of this poll."),
                code="receipt_unknown",
            )
        _no_change(poll)
        participation.delete()
        waiting = box_put(poll, op=WITHDRAW, receipt_hash=digest, choices=None, now=now, voters=-1)
        _after_commit_mix(poll, waiting)
