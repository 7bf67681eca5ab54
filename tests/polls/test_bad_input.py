"""Bad input answers 4xx in the one error shape and records nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Community, Tier
from polls.models import Poll
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory
from tests.polls.conftest import option_ids, snapshot

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str | None = None, attr: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "errors"} and body["errors"], body
    if code:
        assert body["errors"][0]["code"] == code, body
    if attr:
        assert body["errors"][0]["attr"] == attr, body


@pytest.fixture
def polls(make_poll):
    """One open poll of each kind."""
    return {
        "single": make_poll("single"),
        "multiple": make_poll(
            "multiple", labels=("A", "B", "C", "D"), min_selections=2, max_selections=3
        ),
        "ranked": make_poll("ranked"),
        "score": make_poll("score", min_score=1, max_score=5),
        "proposal": make_poll("proposal"),
        "time": make_poll("time"),
    }


def _other_poll_option(make_poll):
    return option_ids(make_poll("single", labels=("X", "Y")))[0]


BAD_BALLOTS = [
    # (kind, body builder(ids, foreign), status, code)
    ("single", lambda ids, f: {"option_ids": [f]}, 400, "unknown_option"),
    ("single", lambda ids, f: {"option_ids": ids[:2]}, 400, "too_many_choices"),
    ("single", lambda ids, f: {"option_ids": []}, 400, "too_few_choices"),
    ("single", lambda ids, f: {"option_ids": "abc"}, 400, "not_a_list"),
    ("single", lambda ids, f: {"option_ids": [ids[0], ids[0]]}, 400, "duplicate_option"),
    ("single", lambda ids, f: {"ranking": ids[:1]}, 400, "wrong_ballot_shape"),
    ("single", lambda ids, f: {}, 400, "required"),
    ("multiple", lambda ids, f: {"option_ids": ids[:1]}, 400, "too_few_choices"),
    ("multiple", lambda ids, f: {"option_ids": ids}, 400, "too_many_choices"),
    ("multiple", lambda ids, f: {"option_ids": [ids[0], f]}, 400, "unknown_option"),
    ("ranked", lambda ids, f: {"ranking": [ids[0], ids[1], ids[0]]}, 400, "duplicate_rank"),
    ("ranked", lambda ids, f: {"ranking": [ids[0], f]}, 400, "unknown_option"),
    ("ranked", lambda ids, f: {"ranking": {"a": 1}}, 400, "not_a_list"),
    ("score", lambda ids, f: {"scores": {ids[0]: 6}}, 400, "score_out_of_range"),
    ("score", lambda ids, f: {"scores": {ids[0]: 0}}, 400, "score_out_of_range"),
    ("score", lambda ids, f: {"scores": {ids[0]: "high"}}, 400, "invalid"),
    ("score", lambda ids, f: {"scores": {f: 3}}, 400, "unknown_option"),
    ("score", lambda ids, f: {"scores": [3]}, 400, "not_a_dict"),
    ("proposal", lambda ids, f: {"position": "maybe"}, 400, "invalid_choice"),
    ("proposal", lambda ids, f: {"position": 1}, 400, "invalid_choice"),
    ("time", lambda ids, f: {"answers": {ids[0]: "perhaps"}}, 400, "invalid_choice"),
    ("time", lambda ids, f: {"answers": {f: "yes"}}, 400, "unknown_option"),
    ("time", lambda ids, f: {"answers": {}}, 400, "too_few_choices"),
]


@pytest.mark.parametrize(("kind", "build", "status", "code"), BAD_BALLOTS)
def test_bad_ballot_is_refused_and_records_nothing(
    polls, make_poll, member, kind, build, status, code
):
    poll = polls[kind]
    foreign = _other_poll_option(make_poll)
    _, client = member
    before = snapshot(poll)
    response = client.put(
        f"/api/v1/polls/{poll.pk}/ballot", build(option_ids(poll), foreign), format="json"
    )
    assert_error(response, status, code)
    assert snapshot(poll) == before


def test_malformed_json_is_refused(polls, member):
    poll = polls["single"]
    _, client = member
    before = snapshot(poll)
    response = client.put(
        f"/api/v1/polls/{poll.pk}/ballot", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")
    assert snapshot(poll) == before


def test_voting_before_open_and_after_close(make_poll, member):
    _, client = member
    upcoming = make_poll("single", opens_at=timezone.now() + timedelta(hours=1))
    before = snapshot(upcoming)
    response = client.put(
        f"/api/v1/polls/{upcoming.pk}/ballot",
        {"option_ids": option_ids(upcoming)[:1]},
        format="json",
    )
    assert_error(response, 409, "poll_not_open")
    assert snapshot(upcoming) == before
    closed = make_poll("single")
    Poll.objects.filter(pk=closed.pk).update(closed_at=timezone.now())
    before = snapshot(closed)
    response = client.put(
        f"/api/v1/polls/{closed.pk}/ballot", {"option_ids": option_ids(closed)[:1]}, format="json"
    )
    assert_error(response, 409, "poll_closed")
    assert snapshot(closed) == before


@pytest.mark.parametrize("status", ["banned", "pending", "left"])
def test_non_visible_members_get_404(make_poll, make_member, status):
    poll = make_poll("single")
    _, client = make_member(status=status)
    before = snapshot(poll)
    body = {"option_ids": option_ids(poll)[:1]}
    assert_error(client.put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json"), 404)
    assert_error(client.get(f"/api/v1/polls/{poll.pk}"), 404)
    assert_error(client.get(f"/api/v1/polls/{poll.pk}/results"), 404)
    assert snapshot(poll) == before


def test_outsider_and_other_community_get_404(make_poll, outsider):
    poll = make_poll("single")
    _, client = outsider
    before = snapshot(poll)
    body = {"option_ids": option_ids(poll)[:1]}
    assert_error(client.put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json"), 404)
    # A member of another community, with that community's poll id.
    elsewhere = MembershipFactory(community=CommunityFactory())
    other = client_for(elsewhere.user)
    assert_error(other.put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json"), 404)
    assert_error(other.get(f"/api/v1/communities/{poll.community_id}/polls"), 404)
    assert_error(other.get("/api/v1/polls/doesnotexist/results"), 404)
    assert snapshot(poll) == before


def test_muted_member_gets_403(make_poll, make_member):
    poll = make_poll("single")
    _, client = make_member(status="muted")
    before = snapshot(poll)
    body = {"option_ids": option_ids(poll)[:1]}
    assert_error(client.put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json"), 403, "muted")
    assert client.get(f"/api/v1/polls/{poll.pk}").status_code == 200  # may still read
    assert snapshot(poll) == before


def test_rules_not_accepted_gets_403(make_poll, make_member, community):
    poll = make_poll("single")
    _, client = make_member()
    Community.objects.filter(pk=community.pk).update(rules_version=2)
    before = snapshot(poll)
    body = {"option_ids": option_ids(poll)[:1]}
    response = client.put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json")
    assert_error(response, 403, "rules_not_accepted")
    assert snapshot(poll) == before


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"closes_at": "past"}, "closes_at"),
        ({"options": [{"label": "only one"}]}, "options"),
        ({"options": [{"label": "same"}, {"label": "same"}]}, "options"),
        ({"kind": "multiple", "min_selections": 3, "max_selections": 2}, "min_selections"),
        ({"kind": "score", "min_score": 5, "max_score": 5}, "max_score"),
        ({"secret": True, "voters_visible": True}, "voters_visible"),
        ({"kind": "proposal"}, "options"),
        ({"kind": "time"}, "options"),
        ({"kind": "nonsense"}, "kind"),
        ({"quorum_percent": 101}, "quorum_percent"),
        ({"title": ""}, "title"),
        ({"options": "A,B"}, "options.non_field_errors"),
    ],
)
def test_bad_poll_creation_is_refused_and_creates_nothing(moderator, changes, attr):
    membership, client = moderator
    data = {
        "title": "t",
        "kind": "single",
        "options": [{"label": "a"}, {"label": "b"}],
        "closes_at": (timezone.now() + timedelta(days=1)).isoformat(),
        **changes,
    }
    if data["closes_at"] == "past":
        data["closes_at"] = (timezone.now() - timedelta(hours=1)).isoformat()
    response = client.post(
        f"/api/v1/communities/{membership.community_id}/polls", data, format="json"
    )
    assert_error(response, 400, attr=attr)
    assert not Poll.objects.exists()


def test_member_tier_cannot_manage_others_polls(make_poll, make_member):
    poll = make_poll("single")
    _, client = make_member(tier=Tier.MEMBER)
    before = snapshot(poll)
    assert_error(client.post(f"/api/v1/polls/{poll.pk}/close"), 403, "cannot_manage")
    assert_error(client.get(f"/api/v1/polls/{poll.pk}/non-voters"), 403)
    assert snapshot(poll) == before
