"""The ballot box of secret polls: a vote only seals its ballot; mixing applies batches of at
least k; results move in those steps; close mixes the rest; changes go through the box."""

from __future__ import annotations

import importlib

import pytest
from cryptography.exceptions import InvalidTag
from django.apps import apps as django_apps
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from polls import box_store, services
from polls.box_store import box_pending, seal, unseal
from polls.models import BoxEntry, Participation, Poll, SecretBallot
from polls.tasks import poll_box_mix_task, polls_sweep
from tests.polls.conftest import mix_box, option_ids, tallies, vote

pytestmark = pytest.mark.django_db


def _results(client, poll):
    return client.get(f"/api/v1/polls/{poll.pk}/results").json()


def test_a_vote_seals_its_ballot_and_moves_no_tally(make_poll, member):
    poll = make_poll("single", secret=True, min_ballots_to_show=3)
    a = option_ids(poll)[0]
    vote(member[1], poll, {"option_ids": [a]})
    assert BoxEntry.objects.filter(poll=poll).count() == 1
    assert not SecretBallot.objects.filter(poll=poll).exists()
    assert tallies(poll) == {}
    assert Poll.objects.get(pk=poll.pk).voter_count == 1  # turnout is public, one by one
    sealed = bytes(BoxEntry.objects.get(poll=poll).sealed)
    assert a.encode() not in sealed and len(sealed) == 12 + 2048 + 16  # nonce, pad, tag
    # Control: the box opens with the key, and holds the ballot.
    (entry,) = box_pending(poll)
    assert entry.op == "cast" and entry.choices == {"option_ids": [a]}


def test_live_results_move_only_in_batches_of_k(make_poll, make_member, moderator):
    poll = make_poll("single", secret=True, min_ballots_to_show=3, results_visibility="always")
    a, b, _c = option_ids(poll)
    seen = []
    for i in range(7):
        vote(make_member()[1], poll, {"option_ids": [a if i % 2 else b]})
        body = _results(moderator[1], poll)  # a moderator, with the non-voter list beside
        seen.append(body["participant_count"] if body["visible"] else None)
    assert seen == [None, None, 3, 3, 3, 6, 6]
    assert BoxEntry.objects.filter(poll=poll).count() == 1


def test_secret_polls_show_only_turnout_until_close_by_default(make_poll, make_member):
    poll = make_poll("single", secret=True, min_ballots_to_show=1)
    assert poll.results_visibility == "after_close"
    _, client = make_member()
    vote(client, poll, {"option_ids": option_ids(poll)[:1]})
    body = _results(client, poll)
    assert body["visible"] is False and body["hidden_reason"] == "after_close"
    assert make_poll("single").results_visibility == "always"  # named polls: as before


def test_close_mixes_the_last_small_batch_before_freezing(make_poll, make_member, moderator):
    poll = make_poll("single", secret=True, min_ballots_to_show=3)
    a, b, _c = option_ids(poll)
    for choice in (a, a, b, b):
        vote(make_member()[1], poll, {"option_ids": [choice]})
    assert mix_box(poll) == 4  # a complete batch (>= k): all waiting entries go together
    vote(make_member()[1], poll, {"option_ids": [b]})
    assert mix_box(poll) == 0  # 1 < k waits
    Poll.objects.filter(pk=poll.pk).update(closed_at=timezone.now())  # as poll_close does
    body = _results(moderator[1], poll)
    assert body["final"] is True and body["participant_count"] == 5
    assert {o["option"]: o["count"] for o in body["result"]["options"]}[b] == 3
    assert not BoxEntry.objects.filter(poll=poll).exists()


def test_change_and_withdraw_go_through_the_box(make_poll, make_member):
    poll = make_poll("single", secret=True, min_ballots_to_show=2)
    a, b, c = option_ids(poll)
    _, first = make_member()
    _, second = make_member()
    r1 = vote(first, poll, {"option_ids": [a]})["receipt"]
    r2 = vote(second, poll, {"option_ids": [b]})["receipt"]
    mix_box(poll)
    assert tallies(poll) == {a: 1, b: 1}
    vote(first, poll, {"option_ids": [c], "receipt": r1})  # sealed change, nothing moves yet
    assert tallies(poll) == {a: 1, b: 1}
    response = second.delete(f"/api/v1/polls/{poll.pk}/ballot", {"receipt": r2}, format="json")
    assert response.status_code == 204
    assert Participation.objects.filter(poll=poll).count() == 1
    assert [e.op for e in sorted(box_pending(poll), key=lambda e: e.op)] == ["change", "withdraw"]
    assert mix_box(poll) == 2
    assert tallies(poll) == {c: 1}
    assert list(SecretBallot.objects.filter(poll=poll).values_list("choices", flat=True)) == [
        {"option_ids": [c]}
    ]
    # A withdrawn receipt no longer finds a ballot; a pending one does.
    gone = second.delete(f"/api/v1/polls/{poll.pk}/ballot", {"receipt": r2}, format="json")
    assert gone.status_code == 204  # no participation any more: idempotent no-op


@pytest.mark.parametrize("k", [3, 9])
def test_a_mix_writes_in_one_statement_whatever_the_batch(
    make_poll, make_member, django_assert_num_queries, k
):
    """New, changed and withdrawn ballots, their tallies and the emptied entries are one
    statement on PostgreSQL (the poll row is held for it only): lock the poll, read the box,
    read the mixed ballots it changes, write -- in the test's savepoint pair -- for a batch
    of 3 as for 9. The ORM's bulk create and collecting deletes took five statements more."""
    poll = make_poll("single", secret=True, min_ballots_to_show=k)
    a, b, c = option_ids(poll)
    voters = [make_member()[1] for _ in range(k)]
    receipts = [vote(client, poll, {"option_ids": [a]})["receipt"] for client in voters]
    assert mix_box(poll) == k
    assert tallies(poll) == {a: k}
    # One withdrawal, one change, and new ballots to complete the next batch.
    gone = voters[0].delete(
        f"/api/v1/polls/{poll.pk}/ballot", {"receipt": receipts[0]}, format="json"
    )
    assert gone.status_code == 204
    vote(voters[1], poll, {"option_ids": [b], "receipt": receipts[1]})
    for _ in range(k - 2):
        vote(make_member()[1], poll, {"option_ids": [c]})
    statements = 6 if connection.vendor == "postgresql" else None
    if statements is None:
        assert mix_box(poll) == k
    else:
        with django_assert_num_queries(statements):
            assert mix_box(poll) == k
    assert tallies(poll) == {a: k - 2, b: 1, c: k - 2}
    assert SecretBallot.objects.filter(poll=poll).count() == 2 * k - 3
    assert not BoxEntry.objects.filter(poll=poll).exists()


def test_a_ballot_waits_in_one_entry_however_often_it_changes(make_poll, make_member):
    poll = make_poll("single", secret=True, min_ballots_to_show=2)
    a, b, c = option_ids(poll)
    _, client = make_member()
    receipt = vote(client, poll, {"option_ids": [a]})["receipt"]
    for choice in (b, c, b):
        vote(client, poll, {"option_ids": [choice], "receipt": receipt})
    (entry,) = box_pending(poll)  # replaced in place: one ballot, one entry, its last state
    assert entry.op == "change" and entry.choices == {"option_ids": [b]}
    vote(make_member()[1], poll, {"option_ids": [c]})
    assert mix_box(poll) == 2  # a batch of k entries is k ballots
    assert tallies(poll) == {b: 1, c: 1}
    vote(client, poll, {"option_ids": [a], "receipt": receipt})  # over the mixed ballot
    assert [e.choices for e in box_pending(poll)] == [{"option_ids": [a]}]


def test_a_change_opens_only_its_own_waiting_entry(make_poll, make_member, monkeypatch):
    poll = make_poll("single", secret=True, min_ballots_to_show=50)
    a, b, _c = option_ids(poll)
    for _ in range(10):
        vote(make_member()[1], poll, {"option_ids": [a]})
    _, client = make_member()
    receipt = vote(client, poll, {"option_ids": [a]})["receipt"]
    opened = []
    real_unseal = box_store.unseal
    monkeypatch.setattr(box_store, "unseal", lambda *args: opened.append(1) or real_unseal(*args))
    vote(client, poll, {"option_ids": [b], "receipt": receipt})
    assert len(opened) == 1  # its own entry, found by its tag; not the 10 others
    assert len(box_pending(poll)) == 11


def test_the_vote_that_completes_a_batch_does_not_mix_in_its_request(
    make_poll, make_member, django_capture_on_commit_callbacks
):
    """Eager Celery (no worker): nothing is queued, the request only seals; the next read of
    the poll mixes the complete batch (and the polls sweep would)."""
    poll = make_poll("single", secret=True, min_ballots_to_show=2, results_visibility="always")
    a = option_ids(poll)[0]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(3):
            vote(make_member()[1], poll, {"option_ids": [a]})
    # Only the activity counter (insights) runs after each vote; no mix task is queued.
    assert [c for c in callbacks if "activity_record" not in c.__qualname__] == []
    assert BoxEntry.objects.filter(poll=poll).count() == 3
    _, reader = make_member()
    assert _results(reader, poll)["participant_count"] == 3  # the read mixed them
    assert not BoxEntry.objects.filter(poll=poll).exists()


def test_with_a_broker_the_vote_that_completes_a_batch_queues_the_mix(
    make_poll, make_member, django_capture_on_commit_callbacks, monkeypatch
):
    poll = make_poll("single", secret=True, min_ballots_to_show=2)
    a = option_ids(poll)[0]
    queued = []
    monkeypatch.setattr(
        poll_box_mix_task, "apply_async", lambda args, **options: queued.append(tuple(args))
    )
    conf = poll_box_mix_task.app.conf
    eager, conf.task_always_eager = conf.task_always_eager, False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            vote(make_member()[1], poll, {"option_ids": [a]})
            assert queued == []  # 1 < k: nothing to mix yet
            vote(make_member()[1], poll, {"option_ids": [a]})
    finally:
        conf.task_always_eager = eager
    assert queued == [(poll.pk,)]
    assert BoxEntry.objects.filter(poll=poll).count() == 2  # queued, not mixed


def test_the_sweep_mixes_a_complete_batch_whose_task_was_lost(make_poll, make_member):
    # In a test wrapped in a transaction no after-commit task runs: like a lost task.
    poll = make_poll("single", secret=True, min_ballots_to_show=2)
    for _ in range(2):
        vote(make_member()[1], poll, {"option_ids": option_ids(poll)[:1]})
    assert BoxEntry.objects.filter(poll=poll).count() == 2
    polls_sweep.delay()
    assert not BoxEntry.objects.filter(poll=poll).exists()
    assert tallies(poll) == {option_ids(poll)[0]: 2}


def test_entries_open_only_with_the_key_and_in_their_poll(make_poll):
    poll, other = make_poll("single", secret=True), make_poll("single", secret=True)
    sealed = seal(poll.pk, {"o": "cast"})
    assert unseal(poll.pk, sealed) == {"o": "cast"}
    with pytest.raises(InvalidTag):
        unseal(other.pk, sealed)  # moved to another poll's box
    with override_settings(BALLOT_KEY="another-key"), pytest.raises(InvalidTag):
        unseal(poll.pk, sealed)
    tampered = bytearray(sealed)
    tampered[20] ^= 1
    with pytest.raises(InvalidTag):
        unseal(poll.pk, bytes(tampered))
    assert services.poll_box_mix(poll_id=poll.pk) == 0  # an empty box: nothing to do


def test_the_migration_keeps_each_ballots_last_entry_and_tags_it(make_poll):
    """Boxes written before one entry per ballot held every change of a ballot, ordered by a
    ``seq`` inside the sealed part; the migration keeps the last one and gives it its tag."""
    migration = importlib.import_module("polls.migrations.0006_boxentry_one_entry_per_ballot")
    poll = make_poll("single", secret=True)
    a, b, c = option_ids(poll)
    old = [
        ("r1", 1, "cast", a),
        ("r1", 3, "change", c),
        ("r1", 2, "change", b),
        ("r2", 1, "cast", b),
    ]
    for i, (digest, seq, op, choice) in enumerate(old):
        payload = {"o": op, "r": digest, "n": seq, "c": {"option_ids": [choice]}}
        BoxEntry.objects.create(
            community_id=poll.community_id, poll=poll, tag=f"old-{i}", sealed=seal(poll.pk, payload)
        )
    migration.collapse_entries(django_apps, None)
    entries = {e.receipt_hash: e.choices for e in box_pending(poll)}
    assert entries == {"r1": {"option_ids": [c]}, "r2": {"option_ids": [b]}}
    tags = set(BoxEntry.objects.filter(poll=poll).values_list("tag", flat=True))
    assert tags == {box_store.box_tag(poll.pk, "r1"), box_store.box_tag(poll.pk, "r2")}
