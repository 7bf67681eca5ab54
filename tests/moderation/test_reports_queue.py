"""Reports merge into cases; moderators decide over HTTP; reporters learn the outcome once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Membership, MembershipStatus, Notification
from moderation.models import Case, ContentHold, Report
from polls.services import poll_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(make_member):
    return make_member(tier="moderator")


@pytest.fixture
def poll(author):
    return poll_create(
        actor=author[0],
        title="Lunch?",
        kind="single",
        closes_at=timezone.now() + timedelta(days=1),
        options=[{"label": "Yes"}, {"label": "No"}],
    )


def report(client, community, body, status=201):
    response = client.post(f"/api/v1/communities/{community.pk}/reports", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def decide(client, case_id, body, status=200):
    response = client.post(f"/api/v1/moderation-cases/{case_id}/decision", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def test_reports_of_the_same_content_merge_into_one_case(community, make_member, poll):
    (_, alice), (_, bob) = make_member(), make_member()
    body = {"target_kind": "poll", "target_id": poll.pk, "reason": "ad", "note": "spam link"}
    first = report(alice, community, body)
    second = report(bob, community, {**body, "reason": "spam"})
    again = report(alice, community, body)
    assert first["case_id"] == second["case_id"] == again["case_id"]
    assert again["id"] == first["id"]
    assert Case.objects.count() == 1
    assert Report.objects.count() == 2


def test_unknown_target_and_self_report_are_refused(community, author, poll):
    membership, client = author
    r = report(
        client, community, {"target_kind": "poll", "target_id": poll.pk, "reason": "ad"}, 400
    )
    assert r["errors"][0]["code"] == "self_report"
    r = report(
        client, community, {"target_kind": "event", "target_id": "nope", "reason": "ad"}, 404
    )
    assert r["errors"][0]["code"] == "target_not_found"


def test_the_queue_is_for_moderators_only(community, make_member, poll):
    _, plain = make_member()
    assert plain.get(f"/api/v1/communities/{community.pk}/moderation-cases").status_code == 403
    _, mod = make_member(tier="moderator")
    response = mod.get(f"/api/v1/communities/{community.pk}/moderation-cases")
    assert response.status_code == 200


def test_hide_then_restore_content_and_reporters_learn_once(community, make_member, poll):
    (alice_m, alice), (bob_m, bob) = make_member(), make_member()
    body = {"target_kind": "poll", "target_id": poll.pk, "reason": "off_topic"}
    case_id = report(alice, community, body)["case_id"]
    report(bob, community, body)
    mod_m, mod = make_member(tier="admin")
    queue = mod.get(f"/api/v1/communities/{community.pk}/moderation-cases?status=open").json()
    assert [(c["id"], c["report_count"]) for c in queue["results"]] == [(case_id, 2)]

    decided = decide(mod, case_id, {"decision": "hide", "reason": "Not about the group"})
    assert decided["status"] == "decided"
    assert ContentHold.objects.filter(target_id=poll.pk, why="hidden").exists()
    decide(mod, case_id, {"decision": "dismiss", "reason": "again"}, 409)

    outcomes = Notification.objects.filter(kind="report_outcome", object_key=case_id)
    assert sorted(outcomes.values_list("recipient_id", flat=True)) == sorted(
        [alice_m.user_id, bob_m.user_id]
    )
    for n in outcomes:
        assert mod_m.user.nickname not in str(n.data) and mod_m.user_id not in str(n.data)
    mine = alice.get(f"/api/v1/communities/{community.pk}/reports").json()["results"]
    assert mine[0]["decision"] == "hide" and "decided_by" not in mine[0]

    # a new report opens a new case; restoring shows the poll again
    new_case = report(bob, community, {**body, "reason": "other"})["case_id"]
    assert new_case != case_id
    decide(mod, new_case, {"decision": "restore", "reason": "It was fine"})
    assert not ContentHold.objects.filter(target_id=poll.pk).exists()


def test_mute_for_a_time_ends_by_itself(community, make_member):
    target_m, target = make_member()
    _, alice = make_member()
    case_id = report(
        alice,
        community,
        {"target_kind": "member", "target_id": target_m.pk, "reason": "harassment"},
    )["case_id"]
    _, mod = make_member(tier="moderator")
    r = decide(mod, case_id, {"decision": "mute", "reason": "Insults"}, 400)
    assert r["errors"][0]["code"] == "mute_days_required"
    r = decide(mod, case_id, {"decision": "hide", "reason": "x"}, 400)
    assert r["errors"][0]["code"] == "decision_not_applicable"
    decided = decide(mod, case_id, {"decision": "mute", "reason": "Insults", "mute_days": 7})
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.MUTED
    assert decided["mute_until"] is not None
    assert abs(target_m.muted_until - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)

    from community.authz import Action, can

    assert not can(target_m, Action.PARTICIPATE)
    Membership.objects.filter(pk=target_m.pk).update(
        muted_until=timezone.now() - timedelta(seconds=1)
    )
    target_m.refresh_from_db()
    assert can(target_m, Action.PARTICIPATE)


def test_ban_needs_the_tier_over_the_member(community, make_member):
    target_m, _ = make_member(tier="admin")
    _, alice = make_member()
    case_id = report(
        alice, community, {"target_kind": "member", "target_id": target_m.pk, "reason": "spam"}
    )["case_id"]
    _, mod = make_member(tier="moderator")
    decide(mod, case_id, {"decision": "ban", "reason": "Spam"}, 403)
    _, owner = make_member(tier="owner")
    decide(owner, case_id, {"decision": "ban", "reason": "Spam"})
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.BANNED
