"""Polls over HTTP: every ballot type end to end, list, detail, results, voters, options,
close and reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Community, Tier
from polls.counting import TIE_BREAK_RULE
from polls.models import Ballot, Option, Poll
from tests.polls.conftest import option_ids, tallies, vote

pytestmark = pytest.mark.django_db


def test_create_single_choice_poll_over_http(moderator, make_member):
    membership, client = moderator
    make_member()  # a second active member: eligible = 2
    closes = (timezone.now() + timedelta(days=1)).isoformat()
    response = client.post(
        f"/api/v1/communities/{membership.community_id}/polls",
        {
            "title": "周六活动去哪里？",
            "kind": "single",
            "options": [{"label": "爬山"}, {"label": "桌游"}],
            "closes_at": closes,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open"
    assert body["eligible_count"] == 2
    assert [o["label"] for o in body["options"]] == ["爬山", "桌游"]
    assert body["my"]["can_manage"] is True
    assert body["closes_at"].endswith("+08:00")  # the community's time zone
    poll = Poll.objects.get(pk=body["id"])
    assert poll.author_id == membership.user_id


def test_ordinary_member_creates_only_when_the_community_allows(member, community):
    membership, client = member
    data = {
        "title": "t",
        "kind": "single",
        "options": [{"label": "a"}, {"label": "b"}],
        "closes_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }
    url = f"/api/v1/communities/{community.pk}/polls"
    assert client.post(url, data, format="json").status_code == 403
    Community.objects.filter(pk=community.pk).update(members_can_create_polls=True)
    assert client.post(url, data, format="json").status_code == 201


def test_single_choice_vote_change_and_withdraw(make_poll, member):
    poll = make_poll("single")
    a, b, _c = option_ids(poll)
    _, client = member
    body = vote(client, poll, {"option_ids": [a]})
    assert body["voted"] is True and body["option_ids"] == [a]
    vote(client, poll, {"option_ids": [a]})  # idempotent
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert tallies(poll) == {a: 1}
    vote(client, poll, {"option_ids": [b]})
    assert tallies(poll) == {b: 1}
    assert client.get(f"/api/v1/polls/{poll.pk}/ballot").json()["option_ids"] == [b]
    assert client.delete(f"/api/v1/polls/{poll.pk}/ballot").status_code == 204
    assert client.delete(f"/api/v1/polls/{poll.pk}/ballot").status_code == 204  # idempotent
    assert tallies(poll) == {}
    poll.refresh_from_db()
    assert poll.voter_count == 0
    assert client.get(f"/api/v1/polls/{poll.pk}/ballot").json()["voted"] is False


def test_multiple_choice_results(make_poll, make_member):
    poll = make_poll("multiple", labels=("A", "B", "C", "D"), min_selections=1, max_selections=2)
    a, b, c, _d = option_ids(poll)
    for choice in ([a, b], [a], [c, a]):
        vote(make_member()[1], poll, {"option_ids": choice})
    _, client = make_member()
    results = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert results["participant_count"] == 3
    assert results["result"]["winners"] == [a]
    counts = {o["option"]: o["count"] for o in results["result"]["options"]}
    assert counts == {a: 3, b: 1, c: 1, _d: 0}


def test_ranked_choice_instant_runoff_rounds_and_borda(make_poll, make_member):
    poll = make_poll("ranked", labels=("A", "B", "C"))
    a, b, c = option_ids(poll)
    ballots = [[a, b, c]] * 2 + [[b, a]] * 2 + [[c, b]] * 1
    for ranking in ballots:
        vote(make_member()[1], poll, {"ranking": ranking})
    _, client = make_member()
    results = client.get(f"/api/v1/polls/{poll.pk}/results", HTTP_ACCEPT_LANGUAGE="en").json()
    irv = results["result"]
    assert results["ranked_method"] == "irv"
    assert irv["tie_break_rule"] == TIE_BREAK_RULE
    assert irv["rounds"][0]["eliminated"] == [c]
    assert irv["winner"] == b  # C's ballot transfers to B: 3 of 5
    assert results["alternative"]["options"][0]["option"] in (a, b)


def test_score_poll_mean_median_distribution(make_poll, make_member):
    poll = make_poll("score", labels=("A", "B"), min_score=1, max_score=5)
    a, b = option_ids(poll)
    for scores in ({a: 5, b: 1}, {a: 4, b: 2}, {a: 3}):
        vote(make_member()[1], poll, {"scores": scores})
    results = make_member()[1].get(f"/api/v1/polls/{poll.pk}/results").json()["result"]
    first = results["options"][0]
    assert first["option"] == a and first["mean"] == 4.0 and first["median"] == 4.0
    assert first["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}


def test_proposal_with_reasons_on_named_poll(make_poll, make_member, moderator):
    poll = make_poll("proposal")
    vote(make_member()[1], poll, {"position": "agree", "reason": "好主意"})
    vote(make_member()[1], poll, {"position": "agree"})
    vote(make_member()[1], poll, {"position": "block", "reason": "太贵"})
    results = make_member()[1].get(f"/api/v1/polls/{poll.pk}/results").json()["result"]
    assert results["outcome"] == "blocked"
    voters = moderator[1].get(f"/api/v1/polls/{poll.pk}/voters").json()["results"]
    assert sorted(v["reason"] for v in voters) == ["", "太贵", "好主意"]


def test_time_poll_ranks_best_slots(make_poll, make_member, community):
    poll = make_poll("time", labels=("", "", ""))
    s1, s2, s3 = option_ids(poll)
    labels = list(Option.objects.filter(poll=poll).values_list("label", flat=True))
    assert all(label for label in labels)  # generated from the slot
    for answers in (
        {s1: "yes", s2: "if_need_be", s3: "no"},
        {s1: "no", s2: "yes", s3: "no"},
        {s1: "yes", s2: "yes"},
    ):
        vote(make_member()[1], poll, {"answers": answers})
    results = make_member()[1].get(f"/api/v1/polls/{poll.pk}/results").json()["result"]
    assert results["best"] == [s2]
    assert results["slots"][0] == {"option": s2, "yes": 2, "if_need_be": 1, "no": 0, "available": 3}


def test_list_cards_filters_and_my_participation(make_poll, member, community):
    membership, client = member
    open_poll = make_poll("single")
    voted_poll = make_poll("single")
    closed_poll = make_poll("single")
    closed_poll.closed_at = timezone.now()
    closed_poll.save()
    upcoming = make_poll("single", opens_at=timezone.now() + timedelta(hours=1))
    vote(client, voted_poll, {"option_ids": [option_ids(voted_poll)[0]]})
    url = f"/api/v1/communities/{community.pk}/polls"
    cards = client.get(url).json()["results"]
    assert [c["id"] for c in cards] == [upcoming.pk, closed_poll.pk, voted_poll.pk, open_poll.pk]
    card = next(c for c in cards if c["id"] == voted_poll.pk)
    assert card["voted"] is True and card["participant_count"] == 1
    assert card["turnout_percent"] == 50.0  # 1 of 2 active members (moderator + member)
    assert {c["id"] for c in client.get(url, {"status": "open"}).json()["results"]} == {
        open_poll.pk,
        voted_poll.pk,
    }
    assert [c["id"] for c in client.get(url, {"status": "closed"}).json()["results"]] == [
        closed_poll.pk
    ]
    assert [c["id"] for c in client.get(url, {"status": "upcoming"}).json()["results"]] == [
        upcoming.pk
    ]
    not_voted = client.get(url, {"status": "open", "not_voted": "true"}).json()["results"]
    assert [c["id"] for c in not_voted] == [open_poll.pk]
    assert client.get(url, {"status": "bogus"}).status_code == 400


def test_poll_closes_by_the_clock_without_any_worker(make_poll, member):
    poll = make_poll("single")
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() - timedelta(seconds=1)
    )
    _, client = member
    assert client.get(f"/api/v1/polls/{poll.pk}").json()["status"] == "closed"
    response = client.put(
        f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": [option_ids(poll)[0]]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "poll_closed"


def test_results_visibility_after_vote_and_after_close(
    make_poll, make_member, moderator, django_capture_on_commit_callbacks
):
    poll = make_poll("single", results_visibility="after_vote")
    a = option_ids(poll)[0]
    _, client = make_member()
    body = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert body["visible"] is False and body["hidden_reason"] == "after_vote"
    assert body["result"] is None
    vote(client, poll, {"option_ids": [a]})
    assert client.get(f"/api/v1/polls/{poll.pk}/results").json()["visible"] is True

    later = make_poll("single", results_visibility="after_close")
    vote(client, later, {"option_ids": [option_ids(later)[0]]})
    assert client.get(f"/api/v1/polls/{later.pk}/results").json()["hidden_reason"] == "after_close"
    # The author (moderator) sees results while open.
    assert moderator[1].get(f"/api/v1/polls/{later.pk}/results").json()["visible"] is True
    with django_capture_on_commit_callbacks(execute=True):
        moderator[1].post(f"/api/v1/polls/{later.pk}/close")
    body = client.get(f"/api/v1/polls/{later.pk}/results").json()
    assert body["visible"] is True and body["final"] is True and body["status"] == "closed"


def test_quorum_and_turnout(make_poll, make_member, moderator):
    members = [make_member() for _ in range(3)]  # 4 active members with the moderator
    poll = make_poll("single", quorum_percent=50)
    a = option_ids(poll)[0]
    vote(members[0][1], poll, {"option_ids": [a]})
    body = members[0][1].get(f"/api/v1/polls/{poll.pk}/results").json()
    assert (body["eligible_count"], body["turnout_percent"], body["quorum_met"]) == (4, 25.0, False)
    vote(members[1][1], poll, {"option_ids": [a]})
    body = members[0][1].get(f"/api/v1/polls/{poll.pk}/results").json()
    assert (body["turnout_percent"], body["quorum_met"]) == (50.0, True)


def test_eligible_count_recorded_when_an_upcoming_poll_opens(make_poll, make_member):
    poll = make_poll("single", opens_at=timezone.now() + timedelta(hours=1))
    assert poll.eligible_count is None
    make_member()
    Poll.objects.filter(pk=poll.pk).update(opens_at=timezone.now() - timedelta(minutes=1))
    poll.refresh_from_db()
    vote(make_member()[1], poll, {"option_ids": [option_ids(poll)[0]]})
    poll.refresh_from_db()
    assert poll.eligible_count == 3 and poll.voter_count == 1


def test_voters_list_rules(make_poll, make_member, moderator):
    poll = make_poll("single")
    a = option_ids(poll)[0]
    _, client = make_member()
    vote(client, poll, {"option_ids": [a]})
    response = client.get(f"/api/v1/polls/{poll.pk}/voters")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "voters_not_visible"
    voters = moderator[1].get(f"/api/v1/polls/{poll.pk}/voters").json()["results"]
    assert voters[0]["choices"] == {"option_ids": [a]}
    visible = make_poll("single", voters_visible=True)
    assert client.get(f"/api/v1/polls/{visible.pk}/voters").status_code == 200


def test_non_voters_for_moderators_also_on_secret_polls(make_poll, make_member, moderator):
    poll = make_poll("single", secret=True)
    voter, voter_client = make_member()
    idle, _ = make_member()
    vote(voter_client, poll, {"option_ids": [option_ids(poll)[0]]})
    body = moderator[1].get(f"/api/v1/polls/{poll.pk}/non-voters").json()
    ids = {row["membership_id"] for row in body["results"]}
    assert ids == {idle.pk, moderator[0].pk}
    assert voter_client.get(f"/api/v1/polls/{poll.pk}/non-voters").status_code == 403


def test_members_add_options_when_allowed(make_poll, member, moderator):
    _, client = member
    closed = make_poll("single")
    response = client.post(f"/api/v1/polls/{closed.pk}/options", {"label": "X"}, format="json")
    assert response.status_code == 403
    poll = make_poll("ranked", allow_member_options=True)
    a = option_ids(poll)[0]
    vote(client, poll, {"ranking": [a]})
    response = client.post(f"/api/v1/polls/{poll.pk}/options", {"label": "D"}, format="json")
    assert response.status_code == 201, response.content
    new = response.json()["id"]
    assert response.json()["position"] == 3
    dup = client.post(f"/api/v1/polls/{poll.pk}/options", {"label": "D"}, format="json")
    assert dup.status_code == 400 and dup.json()["errors"][0]["code"] == "duplicate_option"
    vote(client, poll, {"ranking": [new, a]})
    results = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert results["result"]["winner"] == new


def test_close_and_reopen_by_author_or_moderator(
    make_poll, make_member, moderator, django_capture_on_commit_callbacks
):
    author, author_client = make_member()
    Community.objects.filter(pk=author.community_id).update(members_can_create_polls=True)
    author.community.refresh_from_db()
    poll = make_poll("single", actor=author)
    _, other = make_member()
    assert other.post(f"/api/v1/polls/{poll.pk}/close").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(f"/api/v1/polls/{poll.pk}/close")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert author_client.post(f"/api/v1/polls/{poll.pk}/close").status_code == 409
    poll.refresh_from_db()
    assert poll.finalized_at is not None  # eager Celery: finalize ran on commit
    response = moderator[1].post(f"/api/v1/polls/{poll.pk}/reopen", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "open"
    poll.refresh_from_db()
    assert poll.final_results is None and poll.closed_at is None


def test_reopen_after_deadline_needs_a_new_closing_time(make_poll, moderator):
    poll = make_poll("single")
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=timezone.now() - timedelta(days=3), closes_at=timezone.now() - timedelta(days=1)
    )
    _, client = moderator
    response = client.post(f"/api/v1/polls/{poll.pk}/reopen", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "closes_at"
    new = (timezone.now() + timedelta(days=1)).isoformat()
    response = client.post(f"/api/v1/polls/{poll.pk}/reopen", {"closes_at": new}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "open"


def test_vote_change_can_be_disallowed(make_poll, member):
    poll = make_poll("single", allow_vote_change=False)
    a, b, _ = option_ids(poll)
    _, client = member
    vote(client, poll, {"option_ids": [a]})
    vote(client, poll, {"option_ids": [a]})  # the same ballot again is fine (idempotent)
    body = vote(client, poll, {"option_ids": [b]}, status=409)
    assert body["errors"][0]["code"] == "vote_change_not_allowed"
    assert client.delete(f"/api/v1/polls/{poll.pk}/ballot").status_code == 409


def test_moderator_tier_names(moderator):
    assert moderator[0].tier == Tier.MODERATOR
