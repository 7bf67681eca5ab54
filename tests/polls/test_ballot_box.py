"""The ballot box of secret polls: a vote only seals its ballot; mixing applies batches of at
least k; results move in those steps; close mixes the rest; changes go through the box."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from django.test import override_settings
from django.utils import timezone

from polls import services
from polls.box_store import box_pending, seal, unseal
from polls.models import BoxEntry, Participation, Poll, SecretBallot
from polls.tasks import polls_sweep
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
