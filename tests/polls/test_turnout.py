"""Turnout never passes 100%: members who joined after the poll opened may vote, and then
count among those who may take part."""

from __future__ import annotations

import pytest

from tests.polls.conftest import option_ids, vote

pytestmark = pytest.mark.django_db


def test_late_members_who_vote_keep_turnout_at_most_100_percent(make_poll, member, make_member):
    poll = make_poll("single", quorum_percent=100)  # opens now: moderator + member eligible
    _m, client = member
    a = option_ids(poll)[0]
    vote(client, poll, {"option_ids": [a]})
    assert poll.__class__.objects.get(pk=poll.pk).eligible_count == 2
    first = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert (first["participant_count"], first["eligible_count"]) == (1, 2)
    assert first["turnout_percent"] == 50.0 and first["quorum_met"] is False
    for _ in range(3):  # joined after the poll opened
        vote(make_member()[1], poll, {"option_ids": [a]})
    results = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert (results["participant_count"], results["eligible_count"]) == (4, 4)
    assert results["turnout_percent"] == 100.0
    assert results["quorum_met"] is True
    card = client.get(f"/api/v1/communities/{poll.community_id}/polls").json()["results"][0]
    assert (card["participant_count"], card["eligible_count"], card["turnout_percent"]) == (
        4,
        4,
        100.0,
    )
