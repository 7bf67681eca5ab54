"""The attacker with the database and without the application's secrets (a leaked dump, a
curious operator running SELECTs), against a secret poll.

30 members cast secret ranked ballots of known content in a known order: member ``i`` ranks
``RANKINGS[i % 5]``, so every batch of 5 consecutive voters holds each ranking once and the
published counts of a batch say nothing about which of its voters cast which ranking (chance:
one in five). After every vote the attacker reads the participation list, the live tallies and
the ballot box; at the end every row of the secret ballots and tallies with their ids,
physical place (``ctid``), transaction ids (``xmin``), timestamps and sizes. Each attack guesses
members' ballots; it must do no better than chance. The CONTROL stores the same ballots the way
secret ballots were stored before the ballot box (one transaction per vote writing the
participation, the plaintext ballot and the tallies) and runs the very same attacks: they name
every member.

The poll lets its author publish the box after close; the attacker reads the publication too
(its order, its tags, its transaction id) and tries to pair its tags with stored rows: the
publication adds no link. Each voter, holding only their receipt, finds their own ballot in it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from community.locking import lock_rows
from polls import services
from polls.box_store import CAST, box_put
from polls.models import Participation, Poll, SecretBallot, Tally
from polls.recount import find_ballot
from polls.tasks import poll_box_mix_task
from tests.polls.conftest import option_ids, vote

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="ctid and xmin are PostgreSQL's"),
]

VOTERS, K = 30, 5
#: Chance alone names about 6 of 30 (one per batch of 5); the control names all 30.
CHANCE_LIMIT = 18


def _rankings(poll: Poll) -> list[list[str]]:
    a, b, c, d, e = option_ids(poll)
    return [[a], [b, a], [c, b, a], [d, c, b, a], [e, d, c, b, a]]


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- what the attacker sees -------------------------------------------------------------------
def observe(poll_id: str) -> dict:
    """One look at the database (SQL only): participants in order with their transaction ids,
    the live tallies, and the rows (with xmin and size) of the ballot tables of the poll."""
    return {
        "participants": _rows(
            "SELECT user_id, xmin::text FROM polls_participation WHERE poll_id = %s "
            "ORDER BY voted_at, id",
            [poll_id],
        ),
        "tallies": dict(
            _rows("SELECT key, count FROM polls_tally WHERE poll_id = %s AND key <> '*'", [poll_id])
        ),
        "rows": _rows(
            "SELECT xmin::text, pg_column_size(choices) FROM polls_secretballot "
            "WHERE poll_id = %s UNION ALL "
            "SELECT xmin::text, pg_column_size(sealed) FROM polls_boxentry WHERE poll_id = %s",
            [poll_id, poll_id],
        ),
    }


def _ballots_in(order: str, poll_id: str) -> list[str]:
    rows = _rows(
        f"SELECT choices FROM polls_secretballot WHERE poll_id = %s ORDER BY {order}",  # noqa: S608
        [poll_id],
    )
    return [_key(choices) for (choices,) in rows]


def _key(choices) -> str:
    if isinstance(choices, str):  # Django has psycopg hand JSON over as text
        choices = json.loads(choices)
    return ">".join(choices["ranking"])


# --- the attacks: each returns {member: guessed ranking key} -----------------------------------
def attack_row_order(order: str) -> Callable:
    def attack(poll_id: str, watched: list[dict]) -> dict[str, str]:
        members = [user for user, _xmin in watched[-1]["participants"]]
        return dict(zip(members, _ballots_in(order, poll_id), strict=False))

    attack.__name__ = f"row order by {order}"
    return attack


def attack_same_transaction(poll_id: str, watched: list[dict]) -> dict[str, str]:
    """A ballot written by the voter's own transaction carries its transaction id."""
    rows = _rows(
        "SELECT p.user_id, b.choices FROM polls_participation p "
        "JOIN polls_secretballot b ON b.xmin = p.xmin AND b.poll_id = p.poll_id "
        "WHERE p.poll_id = %s",
        [poll_id],
    )
    return {user: _key(choices) for user, choices in rows}


def attack_tally_ids(poll_id: str, watched: list[dict]) -> dict[str, str]:
    """Tally rows created in vote order: the n-th row is the first ballot of its shape."""
    keys = [
        k
        for (k,) in _rows(
            "SELECT key FROM polls_tally WHERE poll_id = %s AND key <> '*' ORDER BY id", [poll_id]
        )
    ]
    members = [user for user, _xmin in watched[-1]["participants"]]
    return dict(zip(members, keys, strict=False))


def attack_live_results(poll_id: str, watched: list[dict]) -> dict[str, str]:
    """Live counts read after every vote next to the participation list: a step that added one
    participant and one ballot names them."""
    guesses = {}
    for before, after in zip(watched, watched[1:], strict=False):
        new = {u for u, _x in after["participants"]} - {u for u, _x in before["participants"]}
        moved = {
            k: n - before["tallies"].get(k, 0)
            for k, n in after["tallies"].items()
            if n != before["tallies"].get(k, 0)
        }
        if len(new) == 1 and list(moved.values()) == [1]:
            guesses[new.pop()] = next(iter(moved))
    return guesses


def attack_sizes(poll_id: str, watched: list[dict], rankings: list[str]) -> dict[str, str]:
    """The row a voter's transaction wrote (same xmin) has the size of their ballot: the
    attacker ranks the sizes seen and maps them to the known ballot lengths."""
    sizes = {}
    for look in watched:
        by_xmin = {}
        for xmin, size in look["rows"]:
            by_xmin.setdefault(xmin, set()).add(size)
        for user, xmin in look["participants"]:
            if len(by_xmin.get(xmin, ())) == 1:
                sizes[user] = next(iter(by_xmin[xmin]))
    distinct = sorted(set(sizes.values()))
    if len(distinct) < 2:
        return {}  # every row has the same size: nothing to map
    by_length = sorted(rankings, key=len)
    return {
        user: by_length[min(distinct.index(size), len(by_length) - 1)]
        for user, size in sizes.items()
    }


ATTACKS = [
    attack_row_order("ctid"),
    attack_row_order("xmin::text::bigint, ctid"),
    attack_row_order("id"),
    attack_same_transaction,
    attack_tally_ids,
    attack_live_results,
]


def run_attacks(poll: Poll, watched: list[dict], truth: dict[str, str]) -> dict[str, int]:
    """How many members each attack names correctly."""
    keys = [">".join(r) for r in _rankings(poll)]
    named = {}
    for attack in ATTACKS:
        guesses = attack(poll.pk, watched)
        named[attack.__name__] = sum(truth.get(user) == key for user, key in guesses.items())
    guesses = attack_sizes(poll.pk, watched, keys)
    named["sizes"] = sum(truth.get(user) == key for user, key in guesses.items())
    return named


# --- the tests ---------------------------------------------------------------------------------
@pytest.fixture
def ranked_poll(make_poll):
    return make_poll(
        "ranked",
        labels=("A", "B", "C", "D", "E"),
        secret=True,
        min_ballots_to_show=K,
        publish_ballot_box=True,
    )


def test_the_database_alone_links_no_member_to_a_ballot(ranked_poll, make_member, moderator):
    poll = ranked_poll
    rankings = _rankings(poll)
    truth, watched, receipts = {}, [observe(poll.pk)], {}
    box_bytes = []
    for i in range(VOTERS):
        membership, client = make_member()
        ranking = rankings[i % 5]
        receipts[membership.user_id] = vote(client, poll, {"ranking": ranking})["receipt"]
        poll_box_mix_task(poll.pk)  # what the worker does with the task the vote queues
        truth[membership.user_id] = ">".join(ranking)
        watched.append(observe(poll.pk))
        box_bytes += [bytes(b) for (b,) in _rows("SELECT sealed FROM polls_boxentry")]

    named = run_attacks(poll, watched, truth)
    print("members named per attack:", named)
    assert all(n < CHANCE_LIMIT for n in named.values()), named
    assert named["attack_live_results"] == 0 and named["attack_same_transaction"] == 0
    assert named["sizes"] == 0, named  # every sealed entry has the same size

    # Live tallies moved only in steps of K ballots, each step K new participants.
    steps = [
        len(after["participants"])
        for before, after in zip(watched, watched[1:], strict=False)
        if after["tallies"] != before["tallies"]
    ]
    assert steps == list(range(K, VOTERS + 1, K))
    # Every batch is one transaction: the ballots share its xmin, none a voter's.
    voters_xmins = {x for _u, x in watched[-1]["participants"]}
    ballot_xmins = _rows(
        "SELECT xmin::text, count(*) FROM polls_secretballot WHERE poll_id = %s GROUP BY 1",
        [poll.pk],
    )
    assert len(ballot_xmins) == VOTERS // K and {n for _x, n in ballot_xmins} == {K}
    assert not voters_xmins & {x for x, _n in ballot_xmins}
    # No timestamps next to ballots or tallies; the box is empty once mixed.
    timestamped = _rows(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_name IN ('polls_secretballot', 'polls_tally', 'polls_boxentry') "
        "AND data_type LIKE 'timestamp%%'"
    )
    assert timestamped == []
    assert _rows("SELECT count(*) FROM polls_boxentry") == [(0,)]
    # The sealed entries the attacker copied hold no option id and no receipt hash in clear.
    hashes = [h for (h,) in _rows("SELECT receipt_hash FROM polls_secretballot")]
    assert box_bytes
    for sealed in box_bytes:
        assert not any(o.encode() in sealed for o in option_ids(poll))
        assert not any(h.encode() in sealed for h in hashes)
    # The published counts are right: each ranking 6 times.
    assert watched[-1]["tallies"] == {">".join(r): VOTERS // 5 for r in rankings}

    # --- the author publishes the box after close: the attacker reads that too ---------------
    services.poll_close(actor=moderator[0], poll_id=poll.pk)
    services.poll_ballot_box_publish(actor=moderator[0], poll_id=poll.pk)
    ((ballots_json, publication_xmin),) = _rows(
        "SELECT ballots::text, xmin::text FROM polls_ballotboxpublication WHERE poll_id = %s",
        [poll.pk],
    )
    published = json.loads(ballots_json)
    assert len(published) == VOTERS
    named = run_attacks(poll, [*watched, observe(poll.pk)], truth)
    assert all(n < CHANCE_LIMIT for n in named.values()), named
    # Attack: the published order next to the participation order.
    members = [user for user, _xmin in watched[-1]["participants"]]
    in_order = sum(
        truth[user] == _key(ballot["choices"])
        for user, ballot in zip(members, published, strict=True)
    )
    print("members named by the published order:", in_order)
    assert in_order < CHANCE_LIMIT
    # Attack: pair a published tag with a stored row through the receipt hash it holds, or a
    # hash of it; look for the tags anywhere else in the database.
    tags = {ballot["tag"] for ballot in published}
    stored = [h for (h,) in _rows("SELECT receipt_hash FROM polls_secretballot")]
    derived = set(stored)
    for digest in stored:
        for text in (digest, f"wxc-poll-ballot-tag/v1\n{poll.pk}\n{digest}", poll.pk + digest):
            derived.add(hashlib.sha256(text.encode()).hexdigest())
    assert not tags & derived
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table == "polls_ballotboxpublication":
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            text = " ".join(
                str(bytes(v) if isinstance(v, memoryview) else v)
                for row in cursor.fetchall()
                for v in row
            )
            assert not any(tag in text for tag in tags), table
    # The publication is its own transaction, no voter's.
    assert publication_xmin not in voters_xmins
    # Each voter finds their own ballot with nothing but their receipt.
    found = sum(
        _key(find_ballot(published, poll_id=poll.pk, receipt=receipts[user])["choices"])
        == truth[user]
        for user in members
    )
    assert found == VOTERS


def _vote_the_old_way(poll: Poll, membership, ranking: list[str]) -> None:
    """How a secret vote was stored before the ballot box: participation, plaintext ballot and
    tally in the voter's transaction."""
    key = ">".join(ranking)
    with transaction.atomic():
        Participation.objects.create(
            community_id=poll.community_id, poll_id=poll.pk, user_id=membership.user_id
        )
        SecretBallot.objects.create(
            community_id=poll.community_id,
            poll_id=poll.pk,
            choices={"ranking": ranking},
            receipt_hash=f"{membership.user_id:0>64}"[-64:],
        )
        tally, _ = Tally.objects.get_or_create(
            community_id=poll.community_id, poll_id=poll.pk, key=key
        )
        Tally.objects.filter(pk=tally.pk).update(count=F("count") + 1)
        Poll.objects.filter(pk=poll.pk).update(voter_count=F("voter_count") + 1)


def test_control_the_same_attacks_name_every_member_of_the_old_storage(ranked_poll, make_member):
    poll = ranked_poll
    rankings = _rankings(poll)
    truth, watched = {}, [observe(poll.pk)]
    for i in range(VOTERS):
        membership, _client = make_member()
        _vote_the_old_way(poll, membership, rankings[i % 5])
        truth[membership.user_id] = ">".join(rankings[i % 5])
        watched.append(observe(poll.pk))

    named = run_attacks(poll, watched, truth)
    print("members named per attack:", named)
    assert named["row order by ctid"] == VOTERS, named
    assert named["row order by xmin::text::bigint, ctid"] == VOTERS, named
    assert named["attack_same_transaction"] == VOTERS, named
    assert named["attack_live_results"] == VOTERS, named
    assert named["attack_tally_ids"] == 5, named  # the first voter of each ranking
    assert named["sizes"] == VOTERS, named


def test_mixing_a_batch_of_100_ballots_takes_well_under_a_second(make_poll):
    poll = make_poll("ranked", labels=("A", "B", "C", "D", "E"), secret=True)
    rankings = _rankings(poll)
    now = timezone.now()
    for i in range(100):
        ranking = {"ranking": rankings[i % 5]}
        box_put(poll, op=CAST, receipt_hash=f"{i:064x}", choices=ranking, now=now, voters=0)
    started = time.perf_counter()
    with transaction.atomic():
        locked = lock_rows(Poll.objects.filter(pk=poll.pk)).get()
        assert services.box_mix_locked(locked) == 100
    elapsed = time.perf_counter() - started
    print(f"mixing 100 ballots: {elapsed * 1000:.0f} ms")
    assert elapsed < 0.5
    assert SecretBallot.objects.filter(poll=poll).count() == 100
