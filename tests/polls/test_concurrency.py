"""Parallel requests on PostgreSQL: real threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from community.errors import Conflict
from polls import services
from polls.ballots import validate_ballot
from polls.models import Ballot, BoxEntry, Participation, Poll, SecretBallot, Tally
from polls.tally_store import insert_once
from tests.conftest import client_for
from tests.polls.conftest import mix_box, option_ids, tallies

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
    assert mix_box(poll, everything=True) == 1  # one sealed entry (k = 3: not mixed yet)
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
    assert mix_box(poll, everything=True) == 1  # one sealed entry (k = 3: not mixed yet)
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


def test_secret_votes_at_once_with_mixes_running_lose_and_double_no_ballot(make_poll, make_member):
    """60 members vote at once in a secret poll with k = 3 while 30 mixes run (what workers
    do with the tasks the votes queue), so mixes race each other and the votes. Each entry is
    applied exactly once: after the close mixes the rest, the counts are exact."""
    poll = make_poll("single", secret=True, min_ballots_to_show=3)
    a, b, c = option_ids(poll)
    clients = [make_member()[1] for _ in range(60)]

    def work(i):
        if i % 3 == 2:
            return services.poll_box_mix(poll_id=poll.pk, skip_locked=i % 2 == 0) >= 0
        body = {"option_ids": [(a, b, c)[i % 3]]}
        response = clients[i // 3 * 2 + i % 3].put(
            f"/api/v1/polls/{poll.pk}/ballot", body, format="json"
        )
        return response.status_code == 200

    assert _in_threads(90, work) == [True] * 90
    assert (
        SecretBallot.objects.filter(poll=poll).count() + BoxEntry.objects.filter(poll=poll).count()
        == 60
    )
    Poll.objects.filter(pk=poll.pk).update(closed_at=timezone.now())
    assert services.poll_finalize(poll_id=poll.pk) is True
    assert not BoxEntry.objects.filter(poll=poll).exists()
    assert SecretBallot.objects.filter(poll=poll).count() == 60
    assert tallies(poll) == {a: 30, b: 30}
    assert Poll.objects.get(pk=poll.pk).final_results["voters"] == 60


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


# --- the ballot guards: the poll's shape, "still open", one first vote ----------------------
def _unguarded_first_vote(poll, user, choices):
    """What a first vote did before its guards, run here as the control: store the ballot
    (skipping a duplicate), count a voter and move the tallies, checking only that the poll
    row exists — not its shape, not whether it is still open, not whether the insert
    happened."""
    with transaction.atomic():
        insert_once(
            Ballot,
            ("community", "poll", "voter"),
            community=poll.community_id,
            poll=poll.pk,
            voter=user.pk,
            choices=choices.data,
            reason="",
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE polls_poll SET voter_count = voter_count + 1 WHERE id = %s", [poll.pk]
            )
            assert cursor.rowcount == 1
        for key in choices.keys:
            tally, _created = Tally.objects.get_or_create(
                community_id=poll.community_id, poll_id=poll.pk, key=key
            )
            Tally.objects.filter(pk=tally.pk).update(count=F("count") + 1)


def test_a_vote_validated_before_a_kind_change_is_refused(make_poll, member, moderator):
    """The view validates against a copy read without a lock; the edit commits before the
    vote's guard runs. The guard sees another ``shape_version`` and refuses (409)."""
    poll = make_poll("single")
    a = option_ids(poll)[0]
    stale = Poll.objects.get(pk=poll.pk)
    services.poll_update(actor=moderator[0], poll_id=poll.pk, kind="score")
    with pytest.raises(Conflict) as refused:
        services.ballot_cast(membership=member[0], poll=stale, body={"option_ids": [a]})
    assert refused.value.code == "poll_changed"
    poll.refresh_from_db()
    assert (poll.shape_version, poll.voter_count) == (stale.shape_version + 1, 0)
    assert not Ballot.objects.filter(poll=poll).exists() and tallies(poll) == {}


def test_a_vote_validated_before_its_option_was_removed_is_refused(make_poll, member, moderator):
    poll = make_poll("multiple", labels=("A", "B", "C"))
    a, b, _c = option_ids(poll)
    stale = Poll.objects.get(pk=poll.pk)
    services.option_delete(actor=moderator[0], option_id=a)
    with pytest.raises(Conflict) as refused:
        services.ballot_cast(membership=member[0], poll=stale, body={"option_ids": [a, b]})
    assert refused.value.code == "poll_changed"
    assert not Ballot.objects.filter(poll=poll).exists() and tallies(poll) == {}
    # adding, moving or renaming an option leaves ballots valid: no refusal
    stale = Poll.objects.get(pk=poll.pk)
    services.option_add(actor=moderator[0], poll_id=poll.pk, label="D")
    services.ballot_cast(membership=member[0], poll=stale, body={"option_ids": [b]})
    assert tallies(poll) == {b: 1}


def test_control_without_the_shape_guard_a_stale_ballot_breaks_withdraw(
    make_poll, member, moderator
):
    """Control: the same interleaving with the unguarded statements stores a ballot of the old
    shape (``option_ids`` in what is now a score poll), and withdrawing it then crashes (the
    score poll's tally keys cannot be derived from it)."""
    poll = make_poll("single")
    a = option_ids(poll)[0]
    stale = Poll.objects.get(pk=poll.pk)
    choices = validate_ballot(stale, stale.option_order, {"option_ids": [a]})
    services.poll_update(actor=moderator[0], poll_id=poll.pk, kind="score")
    _unguarded_first_vote(stale, member[0].user, choices)
    fresh = Poll.objects.get(pk=poll.pk)
    assert fresh.kind == "score" and Ballot.objects.get(poll=poll).choices == {"option_ids": [a]}
    with pytest.raises(ValueError, match="needs 'scores'"):
        services.ballot_withdraw(membership=member[0], poll=fresh)


def test_votes_racing_a_kind_change_leave_only_ballots_of_the_final_shape(
    make_poll, make_member, moderator
):
    """Parallel first votes and a kind change (single → score) released together, a few
    times: whichever wins, every stored ballot fits the poll as it is now, the counts match
    the ballots, every ballot can be withdrawn, and nothing answers 500."""
    for _round in range(3):
        poll = make_poll("single")
        a = option_ids(poll)[0]
        voters = [make_member() for _ in range(24)]

        def work(i, poll=poll, a=a, voters=voters):
            if i == 12:
                try:
                    services.poll_update(actor=moderator[0], poll_id=poll.pk, kind="score")
                    return "edited"
                except Conflict as exc:
                    return exc.code
            response = voters[i][1].put(
                f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": [a]}, format="json"
            )
            if response.status_code == 409:  # validated before the edit, guarded after it
                return response.json()["errors"][0]["code"]
            return response.status_code  # 400: validated after the edit (wrong shape)

        outcomes = Counter(_in_threads(len(voters), work))
        assert set(outcomes) <= {"edited", "poll_has_votes", "poll_changed", 200, 400}, outcomes
        poll.refresh_from_db()
        ballots = list(Ballot.objects.filter(poll=poll))
        for ballot in ballots:
            validate_ballot(poll, poll.option_order, ballot.choices)  # the final shape
        assert poll.voter_count == len(ballots) == outcomes[200]
        assert tallies(poll) == ({a: len(ballots)} if ballots else {})
        assert (outcomes["edited"] == 1) == (not ballots)
        for membership, _client in voters:
            services.ballot_withdraw(membership=membership, poll=poll)
        assert Ballot.objects.filter(poll=poll).count() == 0 == tallies(poll).get(a, 0)


def test_a_vote_validated_before_a_close_is_refused(make_poll, member, moderator):
    poll = make_poll("single")
    a = option_ids(poll)[0]
    stale = Poll.objects.get(pk=poll.pk)
    services.poll_close(actor=moderator[0], poll_id=poll.pk)
    with pytest.raises(Conflict) as refused:
        services.ballot_cast(membership=member[0], poll=stale, body={"option_ids": [a]})
    assert refused.value.code == "poll_closed"
    assert not Ballot.objects.filter(poll=poll).exists()


def test_control_without_the_open_guard_a_ballot_lands_after_the_close(
    make_poll, member, moderator
):
    """Control: validated while open, written after the close committed, the unguarded
    statements store the ballot and count it in a closed poll."""
    poll = make_poll("single")
    a = option_ids(poll)[0]
    stale = Poll.objects.get(pk=poll.pk)
    choices = validate_ballot(stale, stale.option_order, {"option_ids": [a]})
    services.poll_close(actor=moderator[0], poll_id=poll.pk)
    _unguarded_first_vote(stale, member[0].user, choices)
    poll.refresh_from_db()
    assert poll.closed_at is not None
    assert poll.voter_count == 1 and Ballot.objects.filter(poll=poll).count() == 1


def test_control_counting_a_first_vote_without_the_insert_result_counts_it_twice(make_poll, member):
    """Control: the same member's two first votes at once, each counting a voter whether or
    not its insert happened: one ballot, two voters, a tally of two. The service counts only
    the insert that happened (see the same race above: one voter)."""
    poll = make_poll("single")
    a = option_ids(poll)[0]
    user = member[0].user
    choices = validate_ballot(poll, poll.option_order, {"option_ids": [a]})
    barrier = threading.Barrier(2)

    def naive(_i):
        try:
            barrier.wait(timeout=10)
            _unguarded_first_vote(poll, user, choices)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(naive, range(2)))
    poll.refresh_from_db()
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert poll.voter_count == 2 and tallies(poll) == {a: 2}
