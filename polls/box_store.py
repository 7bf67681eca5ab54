"""The ballot box of secret polls: sealing entries, reading them back, and the SQL of a mix.

An entry is a cast, a change or a withdrawal of the ballot named by ``receipt_hash``; ``seq``
orders the entries of one ballot (the member's participation row is locked while an entry is
added, so two entries of one ballot never share a ``seq``). The bytes are sealed by
``community.sealing`` (AES-GCM, a key derived from the ``BALLOT_KEY`` setting and
the poll id), padded to a multiple of :data:`PAD` bytes so the size of
an entry tells nothing about the choice. Nothing else is stored: no time, no sequence, no
plaintext hash (see :class:`~polls.models.BoxEntry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from community import sealing
from polls.models import BoxEntry, Poll, SecretBallot, Tally

#: Plaintexts are padded with spaces to a multiple of this many bytes (the largest ballot, a
#: time poll answering 50 slots, is about 1.4 kB), so every entry has the same size.
PAD = 2048
CAST, CHANGE, WITHDRAW = "cast", "change", "withdraw"


@dataclass(frozen=True)
class Entry:
    """An opened box entry."""

    id: str
    op: str
    receipt_hash: str
    seq: int
    choices: dict[str, Any] | None
    tag: str | None = None  # the public tag (polls that may publish their box)


def seal(poll_id: str, payload: dict[str, Any]) -> bytes:
    """Encrypt ``payload`` for the box of ``poll_id`` (``community.sealing``, padded to
    :data:`PAD` bytes)."""
    return sealing.seal(
        secret=settings.BALLOT_KEY, box=f"poll:{poll_id}", payload=payload, bucket=PAD
    )


def unseal(poll_id: str, sealed: bytes) -> dict[str, Any]:
    """Decrypt an entry sealed by :func:`seal` (raises ``InvalidTag`` if it was tampered with
    or moved to another poll)."""
    return sealing.unseal(secret=settings.BALLOT_KEY, box=f"poll:{poll_id}", sealed=sealed)


def box_put(
    poll: Poll,
    *,
    op: str,
    receipt_hash: str,
    seq: int,
    choices: dict[str, Any] | None,
    tag: str | None = None,
) -> int:
    """Add a sealed entry to the box of ``poll`` and return how many entries are waiting
    (committed ones plus this one), so the caller knows whether a batch is complete. ``tag``
    (``polls.box_publication``) travels sealed to the mixed ballot."""
    payload = {"o": op, "r": receipt_hash, "n": seq, "c": choices}
    if tag:
        payload["t"] = tag
    BoxEntry.objects.create(
        community_id=poll.community_id, poll_id=poll.pk, sealed=seal(poll.pk, payload)
    )
    return BoxEntry.objects.filter(community_id=poll.community_id, poll_id=poll.pk).count()


def box_pending(poll: Poll) -> list[Entry]:
    """Every committed entry waiting in the box of ``poll``, opened."""
    rows = BoxEntry.objects.filter(community_id=poll.community_id, poll_id=poll.pk).values_list(
        "id", "sealed"
    )
    entries = []
    for entry_id, sealed in rows:
        data = unseal(poll.pk, sealed)
        entries.append(Entry(entry_id, data["o"], data["r"], data["n"], data["c"], data.get("t")))
    return entries


def box_waiting(poll_ids: Iterable[str] | None = None) -> dict[str, int]:
    """How many entries wait in each box (polls with none are left out)."""
    from django.db.models import Count

    rows = BoxEntry.objects.all()
    if poll_ids is not None:
        rows = rows.filter(poll_id__in=list(poll_ids))
    return dict(rows.values("poll_id").annotate(n=Count("id")).values_list("poll_id", "n"))


def replay(base: dict[str, Any] | None, entries: Sequence[Entry]) -> tuple[dict | None, int]:
    """The state of one ballot after ``entries`` (all naming it) are applied to ``base`` (its
    mixed choices, or None): its choices (None when withdrawn) and the last ``seq``."""
    state, seq = base, 0
    for entry in sorted(entries, key=lambda e: e.seq):
        state = None if entry.op == WITHDRAW else entry.choices
        seq = entry.seq
    return state, seq


def ballot_state(poll: Poll, receipt_hash: str) -> tuple[bool, dict | None, int]:
    """Where the ballot named by ``receipt_hash`` stands, mixed and pending entries together:
    (known at all, its current choices or None if withdrawn, the last ``seq``)."""
    base = (
        SecretBallot.objects.filter(
            community_id=poll.community_id, poll_id=poll.pk, receipt_hash=receipt_hash
        )
        .values_list("choices", flat=True)
        .first()
    )
    mine = [e for e in box_pending(poll) if e.receipt_hash == receipt_hash]
    state, seq = replay(base, mine)
    return base is not None or bool(mine), state, seq


def mixed_ballots(poll: Poll, receipt_hashes: Iterable[str]) -> dict[str, tuple[str, dict]]:
    """The mixed ballots named by ``receipt_hashes``: hash -> (row id, choices)."""
    rows = SecretBallot.objects.filter(
        community_id=poll.community_id, poll_id=poll.pk, receipt_hash__in=list(receipt_hashes)
    ).values_list("receipt_hash", "id", "choices")
    return {digest: (pk, choices) for digest, pk, choices in rows}


def tally_apply(poll: Poll, delta: dict[str, int]) -> None:
    """Move the tallies of ``poll`` by ``delta`` (key -> signed change) in key order: one upsert
    for the increases, one update for the decreases (a decrease of a missing row is a bug and
    raises, as ``count >= 0`` would)."""
    quote = connection.ops.quote_name
    table, key, count = quote(Tally._meta.db_table), quote("key"), quote("count")
    ups = sorted((k, n) for k, n in delta.items() if n > 0)
    downs = sorted((k, n) for k, n in delta.items() if n < 0)
    with connection.cursor() as cursor:
        if ups:
            values = ", ".join(["(%s, %s, %s, %s)"] * len(ups))
            params: list[Any] = []
            for k, n in ups:
                params += [poll.community_id, poll.pk, k, n]
            cursor.execute(
                f"INSERT INTO {table} (community_id, poll_id, {key}, {count}) "  # noqa: S608
                f"VALUES {values} ON CONFLICT (community_id, poll_id, {key}) "
                f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}",
                params,
            )
        for k, n in downs:
            cursor.execute(
                f"UPDATE {table} SET {count} = {count} + %s "  # noqa: S608
                f"WHERE community_id = %s AND poll_id = %s AND {key} = %s",
                [n, poll.community_id, poll.pk, k],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"tally {k!r} of poll {poll.pk} is missing")


def box_remove(poll: Poll, entry_ids: Iterable[str]) -> None:
    BoxEntry.objects.filter(
        community_id=poll.community_id, poll_id=poll.pk, pk__in=list(entry_ids)
    ).delete()
