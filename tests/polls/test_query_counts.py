"""Pinned query counts of the hot endpoints, independent of the data size."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.polls.conftest import mix_box, option_ids, vote

pytestmark = pytest.mark.django_db

# auth token, poll + membership (one join; the poll carries its option ids), INSERT ballot, poll guard + tally upsert (one statement)
# (+2 in these tests: SAVEPOINT and RELEASE, as the test itself runs in a transaction)
# (+1 on SQLite, where the guard and the tally upsert are two statements)
_SPLIT = 0 if connection.vendor == "postgresql" else 1
VOTE_QUERIES = 4 + 2 + _SPLIT
# replacing: the same (one upsert statement returns the old choices; SQLite: INSERT, SELECT, UPDATE)
REVOTE_QUERIES = 4 + 2 + 3 * _SPLIT
# Secret polls. A first vote: auth token, poll + membership, INSERT participation, then guard +
# sealed entry + box count (one statement). Was 6: the entry, the count and the guard were three.
# (SQLite: guard, UPDATE or INSERT of the entry and the count are separate: +3)
SECRET_VOTE_QUERIES = 4 + 2 + 3 * _SPLIT
# A change with the receipt: auth token, poll + membership, the ballot's state (its mixed
# choices, its own waiting entry by tag, the participation share-locked: one statement), then
# guard + entry + count. Was 8 (lock, mixed ballot, the whole box read and opened, INSERT,
# count, guard). (SQLite: +2 with a waiting entry to replace, +3 when it was mixed)
SECRET_CHANGE_QUERIES = 4 + 2 + 2 * _SPLIT
SECRET_CHANGE_MIXED_QUERIES = 4 + 2 + 3 * _SPLIT
# auth token, poll + membership (one join), options, tallies (+ voter_count, one UNION statement)
RESULTS_QUERIES = 4
# auth token, membership, one page of polls with "did I vote" annotated
LIST_QUERIES = 3


def test_vote_query_count(make_poll, member, django_assert_num_queries):
    poll = make_poll("multiple", labels=("A", "B", "C"))
    a, b, c = option_ids(poll)
    _, client = member
    with django_assert_num_queries(VOTE_QUERIES):
        vote(client, poll, {"option_ids": [a, b]})
    with django_assert_num_queries(REVOTE_QUERIES):
        vote(client, poll, {"option_ids": [c]})


def test_secret_vote_query_count(make_poll, member, django_assert_num_queries):
    poll = make_poll("single", secret=True, min_ballots_to_show=1)
    a, b, c = option_ids(poll)
    _, client = member
    with django_assert_num_queries(SECRET_VOTE_QUERIES):
        receipt = vote(client, poll, {"option_ids": [a]})["receipt"]
    with django_assert_num_queries(SECRET_CHANGE_QUERIES):
        vote(client, poll, {"option_ids": [b], "receipt": receipt})  # replaces its waiting entry
    assert mix_box(poll) == 1
    with django_assert_num_queries(SECRET_CHANGE_MIXED_QUERIES):
        vote(client, poll, {"option_ids": [c], "receipt": receipt})  # over its mixed ballot


@pytest.mark.parametrize("ballots", [1, 20])
def test_results_query_count(make_poll, make_member, django_assert_num_queries, ballots):
    poll = make_poll("ranked", labels=("A", "B", "C"))
    ids = option_ids(poll)
    for i in range(ballots):
        vote(make_member()[1], poll, {"ranking": ids[i % 3 :] + ids[: i % 3]})
    _, client = make_member()
    with django_assert_num_queries(RESULTS_QUERIES):
        assert client.get(f"/api/v1/polls/{poll.pk}/results").status_code == 200


@pytest.mark.parametrize("polls", [1, 10])
def test_list_query_count(make_poll, member, community, django_assert_num_queries, polls):
    _, client = member
    for i in range(polls):
        poll = make_poll("single", secret=bool(i % 2))
        if i % 3 == 0:
            vote(client, poll, {"option_ids": option_ids(poll)[:1]})
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(f"/api/v1/communities/{community.pk}/polls")
    assert len(response.json()["results"]) == polls
