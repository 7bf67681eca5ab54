"""The ballot box of secret polls: sealing entries, reading them back, and the SQL of a mix.

An entry is the waiting new state of the ballot named by ``receipt_hash``: a cast, a change or
a withdrawal. A ballot has at most one waiting entry: a later change before the mix replaces it
in place (``INSERT ... ON CONFLICT (community, poll, tag) DO UPDATE``), so the entries need no
order among themselves and a batch of k entries is k different ballots. ``tag`` is a keyed hash
of the receipt's hash (``community.sealing.tag``): the voter's request finds its own waiting
entry by it without opening the others, and without ``BALLOT_KEY`` nobody can compute it from a
mixed ballot's ``receipt_hash``. The bytes are sealed by ``community.sealing`` (AES-GCM, a key
derived from the ``BALLOT_KEY`` setting and the poll id), padded to a multiple of :data:`PAD`
bytes so the size of an entry tells nothing about the choice. Nothing else is stored: no time,
no sequence, no plaintext hash (see :class:`~polls.models.BoxEntry`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Subquery

from community import sealing
from community.db.prepared import prepared_cursor
from community.ids import new_public_id
from community.locking import Strength, lock_sql
from polls.models import BoxEntry, Participation, Poll, SecretBallot, Tally
from polls.tally_store import guard_refusal, guard_sql, tally_record

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
    choices: dict[str, Any] | None
    public_tag: str | None = None  # the tag published with the ballot (``polls.box_publication``)


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


def box_tag(poll_id: str, receipt_hash: str) -> str:
    """The look-up tag of the ballot named by ``receipt_hash`` in the box of ``poll_id``."""
    return sealing.tag(secret=settings.BALLOT_KEY, box=f"poll:{poll_id}", value=receipt_hash)


def _open(poll_id: str, entry_id: str, sealed: bytes) -> Entry:
    data = unseal(poll_id, sealed)
    return Entry(entry_id, data["o"], data["r"], data["c"], data.get("t"))


_PUT_SQL = """
WITH guard AS ({head}), ins AS (
    INSERT INTO {box} (id, community_id, poll_id, tag, sealed)
    SELECT %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM guard)
    ON CONFLICT (community_id, poll_id, tag) DO UPDATE SET sealed = excluded.sealed
    RETURNING (xmax = 0) AS fresh
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM ins WHERE fresh),
    (SELECT count(*) FROM {box} WHERE community_id = %s AND poll_id = %s)
"""


def box_put(
    poll: Poll,
    *,
    op: str,
    receipt_hash: str,
    choices: dict[str, Any] | None,
    now: datetime,
    voters: int,
    public_tag: str | None = None,
) -> int:
    """The last statement of a secret ballot's transaction: the "still open" guard of the poll
    (``voters``: +1 a new voter, -1 a withdrawal, 0 a change; see
    ``polls.tally_store.guard_sql``), the sealed entry put into the box (replacing the ballot's
    waiting entry, if any) and the count of waiting entries, in one statement. Raises 409 (the
    transaction rolls back) when the poll closed or changed shape meanwhile. Returns how many
    entries wait (committed ones plus this one; a little more after waiting for a mix, whose
    deletions the statement's snapshot does not see), so the caller knows whether a batch is
    complete. ``public_tag`` (polls that may publish their box, ``polls.box_publication``)
    travels sealed to the mixed ballot."""
    payload: dict[str, Any] = {"o": op, "r": receipt_hash, "c": choices}
    if public_tag:
        payload["t"] = public_tag
    sealed = seal(poll.pk, payload)
    tag = box_tag(poll.pk, receipt_hash)
    if connection.vendor != "postgresql":
        tally_record(poll, now=now, voters=voters)  # the portable guard; raises when closed
        scope = BoxEntry.objects.filter(community_id=poll.community_id, poll_id=poll.pk)
        if not scope.filter(tag=tag).update(sealed=sealed):
            BoxEntry.objects.create(
                community_id=poll.community_id, poll_id=poll.pk, tag=tag, sealed=sealed
            )
        return scope.count()
    head, head_params = guard_sql(poll, now=now, voters=voters)
    sql = _PUT_SQL.format(head=head, box=connection.ops.quote_name(BoxEntry._meta.db_table))
    params = [
        *head_params,
        new_public_id(),
        poll.community_id,
        poll.pk,
        tag,
        sealed,
        poll.community_id,
        poll.pk,
    ]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        written, fresh, committed = cursor.fetchone()
    if not written:
        raise guard_refusal(poll)
    poll.voter_count += voters
    return committed + fresh


def box_pending(poll: Poll, *, opened: Opened | None = None) -> list[Entry]:
    """Every committed entry waiting in the box of ``poll``, opened. ``opened`` (from
    :func:`box_open`, read earlier) saves decrypting again an entry whose bytes have not
    changed since: an entry is only ever reused for exactly the bytes it was opened from."""
    rows = BoxEntry.objects.filter(community_id=poll.community_id, poll_id=poll.pk).values_list(
        "id", "sealed"
    )
    opened = opened or {}
    return [
        opened.get((entry_id, bytes(sealed))) or _open(poll.pk, entry_id, sealed)
        for entry_id, sealed in rows
    ]


#: Entries opened ahead of a mix: (entry id, sealed bytes) -> the opened entry.
Opened = dict[tuple[str, bytes], Entry]


def box_open(poll_id: str) -> Opened:
    """Read and decrypt the entries waiting in the box of ``poll_id`` without any lock, so
    that a mix spends its locked time on the writes, not on decrypting (see
    ``polls.services.mixing.poll_box_mix``)."""
    community = Poll.objects.filter(pk=poll_id).values("community_id")[:1]
    rows = BoxEntry.objects.filter(community_id=Subquery(community), poll_id=poll_id).values_list(
        "id", "sealed"
    )  # one statement, on the (community, poll, tag) index
    return {
        (entry_id, bytes(sealed)): _open(poll_id, entry_id, sealed) for entry_id, sealed in rows
    }


def ballots_update(changed: list[tuple[str, dict[str, Any]]]) -> None:
    """Set the choices of mixed ballots (row id, choices) in one statement, whatever their
    number (the ORM wrote one ``UPDATE`` per ballot while the mix held the poll row)."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        for row_id, state in changed:
            SecretBallot.objects.filter(pk=row_id).update(choices=state)
        return
    table = connection.ops.quote_name(SecretBallot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS b SET choices = u.choices "  # noqa: S608
            "FROM unnest(%s::varchar[], %s::jsonb[]) AS u(id, choices) WHERE b.id = u.id",
            [[row_id for row_id, _ in changed], [json.dumps(state) for _, state in changed]],
        )


def box_waiting(poll_ids: Iterable[str] | None = None) -> dict[str, int]:
    """How many entries wait in each box (polls with none are left out)."""
    from django.db.models import Count

    rows = BoxEntry.objects.all()
    if poll_ids is not None:
        rows = rows.filter(poll_id__in=list(poll_ids))
    return dict(rows.values("poll_id").annotate(n=Count("id")).values_list("poll_id", "n"))


def replay(base: dict[str, Any] | None, entries: Sequence[Entry]) -> dict | None:
    """The state of one ballot after its waiting entry (``entries`` holds at most one) is
    applied to ``base`` (its mixed choices, or None): its choices, None when withdrawn."""
    state = base
    for entry in entries:
        state = None if entry.op == WITHDRAW else entry.choices
    return state


@dataclass(frozen=True)
class BallotState:
    """Where the ballot named by a receipt stands, mixed and waiting together."""

    mixed: dict[str, Any] | None  # its mixed choices (None: not mixed, or withdrawn)
    pending: Entry | None  # its waiting entry
    participated: bool | None  # the member took part (None: not asked)

    @property
    def known(self) -> bool:
        """The receipt names a ballot of the poll (mixed or waiting)."""
        return self.mixed is not None or self.pending is not None

    @property
    def current(self) -> dict[str, Any] | None:
        """Its choices now (None: no such ballot, or withdrawn)."""
        return replay(self.mixed, [self.pending] if self.pending else [])


def ballot_state(poll: Poll, receipt_hash: str, *, user_id: str | None = None) -> BallotState:
    """The ballot named by ``receipt_hash`` in one statement: its mixed choices, its waiting
    entry (found by its tag: one entry opened, never the rest of the box) and, with
    ``user_id``, whether that member took part, their participation share-locked (``FOR
    SHARE``, inside the caller's transaction) so that a withdrawal cannot commit between this
    read and the caller's write. If the lock had to wait, the rest of the statement still
    read the data as it was before: callers look again when the answers disagree."""
    quote = connection.ops.quote_name
    scope = "community_id = %s AND poll_id = %s"
    part = "NULL"
    params: list[Any] = []
    if user_id is not None:
        part = (
            f"(SELECT 1 FROM {quote(Participation._meta.db_table)} "  # noqa: S608
            f"WHERE {scope} AND user_id = %s{lock_sql(Strength.SHARE)})"
        )
        params += [poll.community_id, poll.pk, user_id]
    sql = (
        f"SELECT {part}, "  # noqa: S608 - identifiers from model meta
        f"(SELECT choices FROM {quote(SecretBallot._meta.db_table)} "
        f"WHERE {scope} AND receipt_hash = %s), "
        f"(SELECT id FROM {quote(BoxEntry._meta.db_table)} WHERE {scope} AND tag = %s), "
        f"(SELECT sealed FROM {quote(BoxEntry._meta.db_table)} WHERE {scope} AND tag = %s)"
    )
    tag = box_tag(poll.pk, receipt_hash)
    params += [poll.community_id, poll.pk, receipt_hash]
    params += [poll.community_id, poll.pk, tag, poll.community_id, poll.pk, tag]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        participated, mixed, entry_id, sealed = cursor.fetchone()
    if mixed is not None and not isinstance(mixed, dict):
        mixed = SecretBallot._meta.get_field("choices").from_db_value(mixed, None, connection)
    return BallotState(
        mixed=mixed,
        pending=_open(poll.pk, entry_id, sealed) if sealed is not None else None,
        participated=None if user_id is None else participated is not None,
    )


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
        if downs and connection.vendor == "postgresql":
            # One statement for every decrease (only mixes move a secret poll's tallies, under
            # its row lock, so the order the rows are locked in does not matter here).
            cursor.execute(
                f"UPDATE {table} AS t SET {count} = t.{count} + d.n "  # noqa: S608
                f"FROM unnest(%s::varchar[], %s::integer[]) AS d(k, n) "
                f"WHERE t.community_id = %s AND t.poll_id = %s AND t.{key} = d.k",
                [[k for k, _ in downs], [n for _, n in downs], poll.community_id, poll.pk],
            )
            if cursor.rowcount != len(downs):
                raise ValueError(f"a decreased tally of poll {poll.pk} is missing")
            downs = []
        for k, n in downs:
            cursor.execute(
                f"UPDATE {table} SET {count} = {count} + %s "  # noqa: S608
                f"WHERE community_id = %s AND poll_id = %s AND {key} = %s",
                [n, poll.community_id, poll.pk, k],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"tally {k!r} of poll {poll.pk} is missing")


#: One new mixed ballot: (choices, receipt hash, sealed public tag or None).
NewBallot = tuple[dict[str, Any], str, bytes | None]


def mix_write(
    poll: Poll,
    *,
    new: Sequence[NewBallot],
    changed: Sequence[tuple[str, dict[str, Any]]],
    gone: Sequence[str],
    delta: dict[str, int],
    entry_ids: Sequence[str],
) -> None:
    """Write out one mix of ``poll`` (whose row the caller holds locked): insert the ``new``
    ballots in the given (shuffled) order with fresh random ids, set the choices of the
    ``changed`` ones, delete the ``gone`` ones, move the tallies by ``delta`` and empty the
    mixed entries out of the box.

    On PostgreSQL this is ONE statement whatever the batch size (data-modifying ``WITH``; the
    parts touch disjoint rows: a ballot is new, changed or gone, a tally key only goes up or
    down), so the poll row is held for milliseconds. The ORM's ``bulk_create`` and collecting
    deletes took five statements and most of a mix's locked time (1.4 s for 100 at load 35).
    The new rows are inserted in the order of ``new`` (``WITH ORDINALITY``)."""
    ids = [new_public_id() for _ in new]
    if connection.vendor != "postgresql":
        SecretBallot.objects.bulk_create(
            SecretBallot(
                id=pk,
                community_id=poll.community_id,
                poll_id=poll.pk,
                choices=choices,
                receipt_hash=digest,
                sealed_tag=tag,
            )
            for pk, (choices, digest, tag) in zip(ids, new, strict=True)
        )
        ballots_update(list(changed))
        SecretBallot.objects.filter(
            community_id=poll.community_id, poll_id=poll.pk, pk__in=list(gone)
        ).delete()
        tally_apply(poll, delta)
        box_remove(poll, entry_ids)
        return
    ups = sorted((k, n) for k, n in delta.items() if n > 0)
    downs = sorted((k, n) for k, n in delta.items() if n < 0)
    scope = [poll.community_id, poll.pk]
    params: list[Any] = [
        *scope,
        ids,
        [json.dumps(choices) for choices, _, _ in new],
        [digest for _, digest, _ in new],
        [tag for _, _, tag in new],
        [row_id for row_id, _ in changed],
        [json.dumps(state) for _, state in changed],
        *scope,
        *scope,
        list(gone),
        *scope,
        list(entry_ids),
        *scope,
        [k for k, _ in ups],
        [n for _, n in ups],
        [k for k, _ in downs],
        [n for _, n in downs],
        *scope,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_MIX_WRITE_SQL, params)
        (decreased,) = cursor.fetchone()
    if decreased != len(downs):
        raise ValueError(f"a decreased tally of poll {poll.pk} is missing")


_MIX_WRITE_SQL = (
    f"WITH new AS (INSERT INTO {SecretBallot._meta.db_table} "  # noqa: S608 (model meta only)
    "(community_id, poll_id, id, choices, receipt_hash, sealed_tag) "
    "SELECT %s, %s, u.id, u.choices, u.receipt_hash, u.sealed_tag FROM unnest("
    "%s::varchar[], %s::jsonb[], %s::varchar[], %s::bytea[]) WITH ORDINALITY "
    "AS u(id, choices, receipt_hash, sealed_tag, n) ORDER BY u.n), "
    f"changed AS (UPDATE {SecretBallot._meta.db_table} AS b SET choices = u.choices "
    "FROM unnest(%s::varchar[], %s::jsonb[]) AS u(id, choices) "
    "WHERE b.community_id = %s AND b.poll_id = %s AND b.id = u.id), "
    f"gone AS (DELETE FROM {SecretBallot._meta.db_table} "
    "WHERE community_id = %s AND poll_id = %s AND id = ANY(%s::varchar[])), "
    f"box AS (DELETE FROM {BoxEntry._meta.db_table} "
    "WHERE community_id = %s AND poll_id = %s AND id = ANY(%s::varchar[])), "
    f'ups AS (INSERT INTO {Tally._meta.db_table} AS t (community_id, poll_id, "key", "count") '
    "SELECT %s, %s, u.k, u.n FROM unnest(%s::varchar[], %s::integer[]) AS u(k, n) ORDER BY u.k "
    'ON CONFLICT (community_id, poll_id, "key") DO UPDATE SET "count" = t."count" + '
    'excluded."count"), '
    f'downs AS (UPDATE {Tally._meta.db_table} AS t SET "count" = t."count" + d.n '
    "FROM unnest(%s::varchar[], %s::integer[]) AS d(k, n) "
    'WHERE t.community_id = %s AND t.poll_id = %s AND t."key" = d.k RETURNING 1) '
    "SELECT count(*) FROM downs"
)


def box_remove(poll: Poll, entry_ids: Iterable[str]) -> None:
    BoxEntry.objects.filter(
        community_id=poll.community_id, poll_id=poll.pk, pk__in=list(entry_ids)
    ).delete()
