"""Secret ballots: nothing in the database links a member to their choices; receipts; k."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from community.models import User
from polls.models import Participation, SecretBallot
from polls.services import hash_receipt
from tests.polls.conftest import mix_box, option_ids, snapshot, tallies, vote

pytestmark = pytest.mark.django_db


def test_no_row_or_column_links_a_member_to_their_choices(make_poll, make_member):
    poll = make_poll("ranked", secret=True, min_ballots_to_show=1)
    a, b, c = option_ids(poll)
    voter, client = make_member()
    body = vote(client, poll, {"ranking": [c, a]})
    receipt = body["receipt"]
    assert receipt and len(receipt) >= 32
    assert mix_box(poll) == 1  # k = 1: the vote completed a batch

    # The schema: the anonymous ballot table has no user, no time, no sequence.
    columns = {
        col.name
        for col in connection.introspection.get_table_description(
            connection.cursor(), SecretBallot._meta.db_table
        )
    }
    assert columns == {"id", "community_id", "poll_id", "choices", "receipt_hash", "sealed_tag"}
    # a poll whose box will never be published keeps no tag, sealed or not
    assert SecretBallot.objects.get(poll=poll).sealed_tag is None
    fields = {f.get_internal_type() for f in SecretBallot._meta.concrete_fields}
    assert not {"DateTimeField", "DateField", "AutoField", "BigAutoField"} & fields
    assert not any(f.is_relation and f.related_model is User for f in SecretBallot._meta.fields)
    participation_columns = {
        col.name
        for col in connection.introspection.get_table_description(
            connection.cursor(), Participation._meta.db_table
        )
    }
    assert participation_columns == {"id", "community_id", "poll_id", "user_id", "voted_at"}

    # The data: search every table of the database for the voter's id next to the choice.
    identifiers = {voter.user_id, voter.pk, voter.user.username, voter.user.openid}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            for row in cursor.fetchall():
                text = json.dumps([str(v) for v in row], ensure_ascii=False)
                if c in text and f"{c}>{a}" in text:  # a row holding this ranking...
                    assert not any(i and i in text for i in identifiers), (table, row)
                if any(i and i in text for i in identifiers):  # ...and rows about the voter
                    assert f"{c}>{a}" not in text and "ranking" not in text, (table, row)
    # The ballot can only be found through the receipt, whose hash is all that is stored.
    stored = SecretBallot.objects.get(poll=poll)
    assert stored.receipt_hash == hash_receipt(receipt) and receipt not in stored.receipt_hash
    # The API does not tell the member's choice back either.
    mine = client.get(f"/api/v1/polls/{poll.pk}/ballot").json()
    assert mine["voted"] is True and mine["ranking"] is None


def test_changing_a_secret_vote_needs_the_receipt(make_poll, make_member):
    poll = make_poll("single", secret=True, min_ballots_to_show=1)
    a, b, _ = option_ids(poll)
    _, client = make_member()
    receipt = vote(client, poll, {"option_ids": [a]})["receipt"]
    before = snapshot(poll)
    body = vote(client, poll, {"option_ids": [b]}, status=409)
    assert body["errors"][0]["code"] == "receipt_required"
    assert "回执" in body["errors"][0]["detail"]  # zh-hans by default
    assert snapshot(poll) == before
    mix_box(poll)
    vote(client, poll, {"option_ids": [b], "receipt": receipt})
    mix_box(poll)
    assert tallies(poll) == {b: 1}
    vote(client, poll, {"option_ids": [b], "receipt": receipt})  # retried: idempotent
    assert mix_box(poll) == 0
    assert SecretBallot.objects.filter(poll=poll).count() == 1
    # Someone else holding a receipt cannot use it without having voted themselves.
    _, other = make_member()
    body = vote(other, poll, {"option_ids": [a], "receipt": receipt}, status=409)
    assert body["errors"][0]["code"] == "receipt_not_yours"
    # Withdraw with the receipt: participation and ballot go, the member may vote again.
    response = client.delete(f"/api/v1/polls/{poll.pk}/ballot", {"receipt": receipt}, format="json")
    assert response.status_code == 204
    mix_box(poll)
    assert tallies(poll) == {} and not Participation.objects.filter(poll=poll).exists()
    vote(client, poll, {"option_ids": [a]})


def test_withdraw_secret_without_receipt_is_refused(make_poll, member):
    poll = make_poll("single", secret=True)
    _, client = member
    vote(client, poll, {"option_ids": [option_ids(poll)[0]]})
    before = snapshot(poll)
    response = client.delete(f"/api/v1/polls/{poll.pk}/ballot")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "receipt_required"
    assert snapshot(poll) == before


def test_client_chosen_receipt_makes_the_first_vote_retryable(make_poll, member):
    poll = make_poll("single", secret=True)
    a = option_ids(poll)[0]
    _, client = member
    mine = "r" * 8 + "client-generated-random-0123456789"
    assert vote(client, poll, {"option_ids": [a], "receipt": mine})["receipt"] == mine
    vote(client, poll, {"option_ids": [a], "receipt": mine})  # retry after a lost answer
    assert mix_box(poll, everything=True) == 1
    assert SecretBallot.objects.filter(poll=poll).count() == 1
    # A short receipt of one's own is refused; the vote is otherwise valid (an option of *this*
    # poll), so the refusal can only come from the receipt check.
    other_poll = make_poll("single", secret=True)
    other_a = option_ids(other_poll)[0]
    before = snapshot(other_poll)
    short = vote(client, other_poll, {"option_ids": [other_a], "receipt": "x"}, 400)
    assert [(e["attr"], e["code"]) for e in short["errors"]] == [("receipt", "receipt_too_short")]
    assert snapshot(other_poll) == before
    vote(client, other_poll, {"option_ids": [other_a], "receipt": "y" * 32})  # long enough


def test_counts_hidden_until_k_ballots(make_poll, make_member, moderator):
    poll = make_poll("single", secret=True, min_ballots_to_show=3, results_visibility="always")
    a = option_ids(poll)[0]
    clients = [make_member()[1] for _ in range(3)]
    vote(clients[0], poll, {"option_ids": [a]})
    for viewer in (clients[0], moderator[1]):  # k applies to moderators too
        body = viewer.get(f"/api/v1/polls/{poll.pk}/results").json()
        assert body["visible"] is False and body["hidden_reason"] == "too_few_ballots"
        assert body["ballots_needed"] == 2 and body["result"] is None
    vote(clients[1], poll, {"option_ids": [a]})
    vote(clients[2], poll, {"option_ids": [a]})
    body = clients[0].get(f"/api/v1/polls/{poll.pk}/results").json()
    assert body["visible"] is True and body["ballots_needed"] == 0
    assert body["result"]["options"][0]["count"] == 3


def test_secret_poll_voter_list_is_refused(make_poll, moderator):
    poll = make_poll("single", secret=True)
    response = moderator[1].get(f"/api/v1/polls/{poll.pk}/voters")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "secret_poll"


def test_secret_proposal_refuses_reasons(make_poll, member):
    poll = make_poll("proposal", secret=True)
    _, client = member
    before = snapshot(poll)
    body = vote(client, poll, {"position": "agree", "reason": "mine"}, status=400)
    assert body["errors"][0]["code"] == "reason_not_allowed"
    assert snapshot(poll) == before
