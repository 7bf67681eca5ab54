"""Parallel requests on PostgreSQL: real threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections

from polls.models import Ballot, Participation, Poll, SecretBallot
from tests.conftest import client_for
from tests.polls.conftest import option_ids, tallies

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL (SQLite serialises every write)",
    ),
]


#: Parallel threads (each holds its own PostgreSQL connection; the server allows 100 and
#: other test runs share it). 200 requests run 48 at a time, all released by one gate.
MAX_PARALLEL = 48


def _in_threads(count: int, work):
    """Run ``work(i)`` for ``count`` requests in up to MAX_PARALLEL threads released together
    (each thread closes its connection after each request); return the results in order."""
    gate = threading.Event()

    def run(i):
        try:
            gate.wait(timeout=30)
            return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=min(count, MAX_PARALLEL)) as pool:
        futures = [pool.submit(run, i) for i in range(count)]
        gate.set()
        return [future.result() for future in futures]


def test_same_member_voting_twice_at_once_keeps_one_ballot(make_poll, member):
    poll = make_poll("single")
    a, b, _ = option_ids(poll)
    membership, _client = member
    clients = [client_for(membership.user) for _ in range(8)]

    def work(i):
        body = {"option_ids": [a if i % 2 else b]}
        return clients[i].put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json").status_code

    assert _in_threads(8, work) == [200] * 8
    assert Ballot.objects.filter(poll=poll).count() == 1
    ballot = Ballot.objects.get(poll=poll)
    poll.refresh_from_db()
    assert poll.voter_count == 1
    assert tallies(poll) == {ballot.choices["option_ids"][0]: 1}


def test_same_member_secret_first_vote_twice_at_once(make_poll, member):
    poll = make_poll("single", secret=True)
    a = option_ids(poll)[0]
    membership, _client = member
    clients = [client_for(membership.user) for _ in range(6)]

    def work(i):
        return (
            clients[i]
            .put(f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": [a]}, format="json")
            .status_code
        )

    codes = Counter(_in_threads(6, work))
    assert codes == {200: 1, 409: 5}  # the others are told to use the receipt
    assert SecretBallot.objects.filter(poll=poll).count() == 1
    assert tallies(poll) == {a: 1}


def test_secret_first_vote_retried_in_parallel_with_its_receipt_answers_200(make_poll, member):
    """20 parallel first votes of one member with the same self-chosen receipt (a client
    retrying): the losers' participation insert waits for the winner and finds its row; they
    then find the winner's ballot by the receipt and answer as its replay, never 409."""
    poll = make_poll("single", secret=True)
    a = option_ids(poll)[0]
    membership, _client = member
    clients = [client_for(membership.user) for _ in range(20)]
    receipt = "r" * 8 + "0123456789abcdefghijklmnopqrstuv"  # 40 characters, chosen by the client

    def work(i):
        response = clients[i].put(
            f"/api/v1/polls/{poll.pk}/ballot",
            {"option_ids": [a], "receipt": receipt},
            format="json",
        )
        return response.status_code, response.json()

    answers = _in_threads(20, work)
    assert [code for code, _body in answers] == [200] * 20, answers
    assert {(body["receipt"], tuple(body["option_ids"])) for _code, body in answers} == {
        (receipt, (a,))
    }
    assert SecretBallot.objects.filter(poll=poll).count() == 1
    assert Participation.objects.filter(poll=poll).count() == 1
    assert tallies(poll) == {a: 1}
    assert Poll.objects.get(pk=poll.pk).voter_count == 1
    # The replay path is only for the same receipt: another receipt is still refused.
    other = clients[0].put(
        f"/api/v1/polls/{poll.pk}/ballot",
        {"option_ids": [a], "receipt": "x" * 40},
        format="json",
    )
    assert other.status_code == 409 and other.json()["errors"][0]["code"] == "receipt_required"


def test_200_members_voting_at_once_give_exact_tallies(make_poll, make_member):
    poll = make_poll("multiple", labels=("A", "B", "C"), min_selections=1, max_selections=2)
    a, b, c = option_ids(poll)
    clients = [make_member()[1] for _ in range(200)]
    choices = [[a], [a, b], [b, c], [c]]

    def work(i):
        body = {"option_ids": choices[i % 4]}
        return clients[i].put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json").status_code

    assert _in_threads(200, work) == [200] * 200
    poll.refresh_from_db()
    assert poll.voter_count == 200 == Ballot.objects.filter(poll=poll).count()
    assert tallies(poll) == {a: 100, b: 100, c: 100}


def test_200_members_changing_votes_at_once_keep_tallies_exact(make_poll, make_member):
    """Swaps in opposite directions at once (A→B and B→A) must neither deadlock nor drift."""
    poll = make_poll("single", labels=("A", "B"))
    a, b = option_ids(poll)
    clients = [make_member()[1] for _ in range(200)]
    for i, client in enumerate(clients):
        client.put(
            f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": [a if i % 2 else b]}, format="json"
        )

    def work(i):
        body = {"option_ids": [b if i % 2 else a]}
        return clients[i].put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json").status_code

    assert _in_threads(200, work) == [200] * 200
    assert tallies(poll) == {a: 100, b: 100}
    assert Poll.objects.get(pk=poll.pk).voter_count == 200


def test_control_check_then_insert_races_and_the_constraint_stops_it(make_poll, member):
    """Control: without the constraint a "check, then insert" would store two ballots — both
    threads pass the check; only the unique constraint turns the second insert into an error."""
    poll = make_poll("single")
    user = member[0].user
    seen_empty = []
    barrier = threading.Barrier(2)

    def naive(_i):
        try:
            exists = Ballot.objects.filter(poll=poll, voter=user).exists()
            barrier.wait(timeout=10)
            seen_empty.append(not exists)
            Ballot.objects.create(community=poll.community, poll=poll, voter=user, choices={})
            return "inserted"
        except IntegrityError:
            return "refused by the constraint"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(naive, range(2)))
    assert seen_empty == [True, True]  # the race is real: both checks passed
    assert outcomes == ["inserted", "refused by the constraint"]
    assert Ballot.objects.filter(poll=poll).count() == 1
