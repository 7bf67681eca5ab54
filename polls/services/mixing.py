"""Mixing the ballot box of a secret poll: the only step that writes plaintext secret ballots
and moves their tallies.

A vote only seals its ballot into the box (``polls.box_store``). Once at least ``k``
(``min_ballots_to_show``) entries wait, and for all of them when the poll closes, one
transaction with the poll row locked opens them, applies every ballot's entries (cast, change,
withdraw) in their order, writes the new plaintext :class:`~polls.models.SecretBallot` rows in an
order drawn by ``secrets.SystemRandom`` (one statement, one transaction id, no timestamps),
moves the tallies once for the whole batch and deletes the entries. So live results, tally
rows, ballot rows, their physical order and transaction ids only ever change by whole batches
of at least ``k`` ballots: whoever reads them after every vote, next to the participation list,
learns what the batch's counts tell and no more.

It runs after the commit of the vote that completes a batch (a task, inline when Celery is
eager), from the polls sweep (a lost task), and from :func:`freeze_results` at close.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter, defaultdict

from django.db import transaction

from community.locking import lock_rows
from polls.ballots import VOTERS_KEY, ballot_keys
from polls.box_publication import seal_tag
from polls.box_store import (
    Opened,
    box_open,
    box_pending,
    box_waiting,
    mix_write,
    mixed_ballots,
    replay,
)
from polls.models import Poll, PollStatus

logger = logging.getLogger(__name__)

_shuffle = secrets.SystemRandom().shuffle


def box_mix_pending_key(poll_id: str) -> str:
    """The pending mark of ``poll_id``'s mixing task (``community.queue_once``)."""
    return f"polls:mix:{poll_id}"


def box_mix_locked(poll: Poll, *, everything: bool = False, opened: Opened | None = None) -> int:
    """Mix the pending entries of ``poll``, whose row the caller holds locked (``FOR NO KEY
    UPDATE``, so no vote commits meanwhile and no other mix runs). Mixes nothing while fewer
    than ``min_ballots_to_show`` wait, unless ``everything`` (the poll closed). ``opened``:
    entries decrypted before the lock (``box_store.box_open``). Returns how many entries
    were mixed."""
    entries = box_pending(poll, opened=opened)
    if not entries or (len(entries) < poll.min_ballots_to_show and not everything):
        return 0
    by_ballot = defaultdict(list)
    for entry in entries:
        by_ballot[entry.receipt_hash].append(entry)
    mixed = mixed_ballots(poll, by_ballot)
    delta: Counter[str] = Counter()
    new_rows, changed, gone = [], [], []
    for digest, mine in by_ballot.items():
        row_id, base = mixed.get(digest, (None, None))
        state = replay(base, mine)
        if state == base:
            continue
        if base is not None:
            delta.subtract(ballot_keys(poll, base))
            delta[VOTERS_KEY] -= 1
        if state is not None:
            delta.update(ballot_keys(poll, state))
            delta[VOTERS_KEY] += 1
        if row_id is None:
            public_tag = next((e.public_tag for e in mine if e.public_tag), None)
            new_rows.append((state, digest, seal_tag(poll.pk, public_tag)))
        elif state is None:
            gone.append(row_id)
        else:
            changed.append((row_id, state))
    _shuffle(new_rows)
    _shuffle(changed)
    mix_write(
        poll,
        new=new_rows,
        changed=changed,
        gone=gone,
        delta={key: n for key, n in delta.items() if n},
        entry_ids=[entry.id for entry in entries],
    )
    return len(entries)


def poll_box_mix(*, poll_id: str, skip_locked: bool = False) -> int:
    """Mix the ballot box of a secret poll if a batch is complete (all of it once the poll
    closed). Safe to run any number of times and concurrently (the poll row is locked).
    ``skip_locked`` (after a vote) does nothing when the poll row is busy, instead of queueing
    behind voters and other mixes: every later vote that finds a complete batch tries again,
    and the read, the sweep and the close mix what is left. Returns how many were mixed."""
    # Decrypt the waiting entries before taking the poll row, which every secret vote's
    # guard needs too: voters then queue behind the mix's writes only. Safe because nothing
    # read here decides anything: under the lock the mix reads the box again, and reuses an
    # entry opened here only for the very bytes it was opened from (an entry a vote replaced
    # meanwhile is opened again; one that arrived meanwhile is opened then).
    opened = box_open(poll_id)
    if not opened:
        return 0  # as if this mix had run just before whatever commits now (which queues one)
    with transaction.atomic():
        poll = lock_rows(Poll.objects.filter(pk=poll_id), skip_locked=skip_locked).first()
        if poll is None or not poll.secret:
            return 0
        mixed = box_mix_locked(poll, everything=poll.status == PollStatus.CLOSED, opened=opened)
    if mixed:
        logger.info("mixed %d ballot box entries of poll %s", mixed, poll_id)
    return mixed


def polls_box_mix_due() -> int:
    """Sweep: mix every ballot box holding a complete batch (a lost after-commit task) or
    belonging to a closed poll. Returns how many entries were mixed."""
    waiting = box_waiting()
    if not waiting:
        return 0
    polls = Poll.objects.filter(pk__in=list(waiting)).values_list(
        "pk", "min_ballots_to_show", "closed_at", "closes_at"
    )
    total = 0
    for poll_id, k, closed_at, closes_at in polls:
        probe = Poll(closed_at=closed_at, closes_at=closes_at)
        if waiting[poll_id] >= k or probe.status == PollStatus.CLOSED:
            total += poll_box_mix(poll_id=poll_id)
    return total
