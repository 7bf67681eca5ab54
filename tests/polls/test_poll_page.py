"""One call for the poll page, and one feed of open polls across my communities."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.contract.conformance import assert_conforms
from tests.factories import MembershipFactory
from tests.polls.conftest import option_ids, vote

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("secret", [False, True], ids=["named", "secret"])
@pytest.mark.parametrize("voted", [False, True], ids=["not-voted", "voted"])
def test_the_page_is_detail_ballot_and_results_in_one_answer(make_poll, member, secret, voted):
    poll = make_poll(
        "ranked", secret=secret, min_ballots_to_show=1, results_visibility="after_vote"
    )
    _m, client = member
    if voted:
        vote(client, poll, {"ranking": option_ids(poll)})
    base = f"/api/v1/polls/{poll.pk}"
    page = assert_conforms(client.get(f"{base}/page"), "getPollPage")
    assert page == {
        "poll": client.get(base).json(),
        "my_ballot": client.get(f"{base}/ballot").json(),
        "results": client.get(f"{base}/results").json(),
    }
    if not secret:  # results after voting: the page shows them once I voted
        assert page["results"]["visible"] is voted


def test_the_page_query_count_is_fixed(make_poll, member, make_member, django_assert_num_queries):
    poll = make_poll("single")
    _m, client = member
    vote(client, poll, {"option_ids": option_ids(poll)[:1]})
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(f"/api/v1/polls/{poll.pk}/page")
    for _ in range(10):
        vote(make_member()[1], poll, {"option_ids": option_ids(poll)[1:2]})
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(f"/api/v1/polls/{poll.pk}/page")


# auth token, poll + membership, options, permissions (voted), my ballot, options + tallies of
# the results (the ballot and the results each read what their own endpoint reads)
PAGE_QUERIES = 8


def test_the_page_of_another_community_is_404(make_poll, outsider):
    poll = make_poll("single")
    _user, client = outsider
    assert client.get(f"/api/v1/polls/{poll.pk}/page").status_code == 404


def test_the_feed_lists_open_polls_of_my_communities(
    make_poll, member, community, django_assert_num_queries
):
    membership, client = member
    mine = make_poll("single")
    other = MembershipFactory(user=membership.user)  # my second community
    from polls import services
    from tests.factories import MembershipFactory as MF

    moderator = MF(community=other.community, tier="moderator")
    theirs = services.poll_create(
        actor=moderator,
        title="另一个群",
        kind="proposal",
        options=[],
        closes_at=timezone.now() + timedelta(days=1),
    )
    make_poll("single", opens_at=timezone.now() + timedelta(days=1))  # upcoming
    closed = make_poll("single")
    services.poll_close(actor=closed.author.memberships.get(community=community), poll_id=closed.pk)
    make_poll("single", actor=MF(tier="moderator"))  # a community I am not in
    body = assert_conforms(client.get("/api/v1/polls"), "listMyOpenPolls")
    cards = {card["id"]: card for card in body["results"]}
    assert set(cards) == {mine.pk, theirs.pk}
    assert cards[theirs.pk]["community_id"] == other.community_id
    assert cards[theirs.pk]["community_name"] == other.community.name

    vote(client, mine, {"option_ids": option_ids(mine)[:1]})
    not_voted = client.get("/api/v1/polls", {"not_voted": "true"}).json()["results"]
    assert [card["id"] for card in not_voted] == [theirs.pk]

    # token, one page of polls with their communities and "did I vote"
    with django_assert_num_queries(2):
        client.get("/api/v1/polls")
    for _ in range(5):
        make_poll("multiple")
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/polls").json()["results"]) == 7
