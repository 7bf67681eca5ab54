"""Held content does not show: a held poll or event opened by its id answers 404 to every
member but its author and the moderators; held options, ballot reasons, sign-up notes and
roles are left out of every list and result that shows text; a held change keeps the old
text until a moderator restores it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Community
from moderation.models import Case, ContentHold
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

CHECK = "/wxa/msg_sec_check"
MARK = "加我微信领红包"


@pytest.fixture
def review_mark(wechat_server, settings):
    """WeChat asks for a review of texts containing MARK and passes the rest."""
    settings.WECHAT_CONTENT_CHECK = True

    def handler(request):
        suggest = "review" if MARK in request.get_data(as_text=True) else "pass"
        return wechat_json({"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest}})

    wechat_server.expect_request(CHECK, method="POST").respond_with_handler(handler)


@pytest.fixture
def people(make_member):
    return {
        "author": make_member(tier="admin"),
        "moderator": make_member(tier="moderator"),
        "member": make_member(),
    }


def restore(people, kind, target_id):
    case = Case.objects.get(target_kind=kind, target_id=target_id, status="open")
    response = people["moderator"][1].post(
        f"/api/v1/moderation-cases/{case.pk}/decision",
        {"decision": "restore", "reason": "没问题"},
        format="json",
    )
    assert response.status_code == 200, response.content


def closes():
    return (timezone.now() + timedelta(days=1)).isoformat()


def test_a_held_poll_by_its_id_shows_only_to_its_author_and_moderators(
    review_mark, community, people
):
    author = people["author"][1]
    response = author.post(
        f"/api/v1/communities/{community.pk}/polls",
        {
            "title": MARK,
            "kind": "single",
            "closes_at": closes(),
            "options": [{"label": "A"}, {"label": "B"}],
        },
        format="json",
    )
    poll_id = response.json()["id"]
    for path in ("", "/page", "/results"):
        assert people["member"][1].get(f"/api/v1/polls/{poll_id}{path}").status_code == 404
        assert author.get(f"/api/v1/polls/{poll_id}{path}").status_code == 200
        assert people["moderator"][1].get(f"/api/v1/polls/{poll_id}{path}").status_code == 200
    ballot = {"kind": "single", "option_ids": [response.json()["options"][0]["id"]]}
    voted = people["member"][1].put(f"/api/v1/polls/{poll_id}/ballot", ballot, format="json")
    assert voted.status_code == 404
    feed = people["member"][1].get("/api/v1/polls").json()["results"]
    assert poll_id not in [p["id"] for p in feed]
    restore(people, "poll", poll_id)  # control: released, it shows
    assert people["member"][1].get(f"/api/v1/polls/{poll_id}").status_code == 200
    feed = people["member"][1].get("/api/v1/polls").json()["results"]
    assert poll_id in [p["id"] for p in feed]


def test_a_held_event_by_its_id_shows_only_to_its_author_and_moderators(
    review_mark, community, people
):
    response = people["author"][1].post(
        f"/api/v1/communities/{community.pk}/events",
        {"title": MARK, "mode": "quick", "starts_at": closes()},
        format="json",
    )
    event_id = response.json()["id"]
    assert people["member"][1].get(f"/api/v1/events/{event_id}").status_code == 404
    signup = people["member"][1].put(f"/api/v1/events/{event_id}/registration", {}, format="json")
    assert signup.status_code == 404
    assert people["author"][1].get(f"/api/v1/events/{event_id}").status_code == 200
    assert people["moderator"][1].get(f"/api/v1/events/{event_id}").status_code == 200
    restore(people, "event", event_id)
    assert people["member"][1].get(f"/api/v1/events/{event_id}").status_code == 200


def test_a_held_option_is_in_no_list_nor_ballot_until_restored(review_mark, community, people):
    author = people["author"][1]
    poll = author.post(
        f"/api/v1/communities/{community.pk}/polls",
        {
            "title": "周末去哪",
            "kind": "single",
            "closes_at": closes(),
            "options": [{"label": "爬山"}, {"label": "看展"}],
            "allow_member_options": True,
            "results_visibility": "always",
        },
        format="json",
    ).json()
    member = people["member"][1]
    added = member.post(f"/api/v1/polls/{poll['id']}/options", {"label": MARK}, format="json")
    assert added.status_code == 201, added.content
    option_id = added.json()["id"]

    def labels(client, path=""):
        body = client.get(f"/api/v1/polls/{poll['id']}{path}").json()
        return [o["label"] for o in body["options"]]

    for client in (member, author):
        assert labels(client) == ["爬山", "看展"]
        assert labels(client, "/results") == ["爬山", "看展"]
    vote = member.put(
        f"/api/v1/polls/{poll['id']}/ballot",
        {"kind": "single", "option_ids": [option_id]},
        format="json",
    )
    assert vote.status_code == 400, vote.content
    restore(people, "poll_option", option_id)
    assert labels(member) == ["爬山", "看展", MARK]
    vote = member.put(
        f"/api/v1/polls/{poll['id']}/ballot",
        {"kind": "single", "option_ids": [option_id]},
        format="json",
    )
    assert vote.status_code in (200, 201), vote.content


def test_a_held_ballot_reason_is_hidden_and_the_ballot_counts(review_mark, community, people):
    poll = (
        people["author"][1]
        .post(
            f"/api/v1/communities/{community.pk}/polls",
            {
                "title": "换群名",
                "kind": "proposal",
                "closes_at": closes(),
                "voters_visible": True,
                "results_visibility": "always",
            },
            format="json",
        )
        .json()
    )
    member = people["member"][1]
    cast = member.put(
        f"/api/v1/polls/{poll['id']}/ballot",
        {"kind": "proposal", "position": "agree", "reason": MARK},
        format="json",
    )
    assert cast.status_code in (200, 201), cast.content
    voters = member.get(f"/api/v1/polls/{poll['id']}/voters").json()["results"]
    assert [v["reason"] for v in voters] == [""]
    results = member.get(f"/api/v1/polls/{poll['id']}/results").json()
    assert results["participant_count"] == 1
    hold = ContentHold.objects.get(target_kind="ballot_reason")
    restore(people, "ballot_reason", hold.target_id)
    voters = member.get(f"/api/v1/polls/{poll['id']}/voters").json()["results"]
    assert [v["reason"] for v in voters] == [MARK]


def test_a_held_note_is_hidden_on_the_list_and_the_sign_up_counts(review_mark, community, people):
    event = (
        people["author"][1]
        .post(
            f"/api/v1/communities/{community.pk}/events",
            {"title": "周六爬山", "mode": "quick", "starts_at": closes()},
            format="json",
        )
        .json()
    )
    member = people["member"][1]
    signed = member.put(f"/api/v1/events/{event['id']}/registration", {"note": MARK}, format="json")
    assert signed.status_code in (200, 201), signed.content
    rows = member.get(f"/api/v1/events/{event['id']}/registrations").json()["results"]
    assert [(r["note"], r["status"]) for r in rows] == [("", "confirmed")]
    signed = member.put(
        f"/api/v1/events/{event['id']}/registration", {"note": "带水"}, format="json"
    )
    assert signed.status_code == 200, signed.content
    rows = member.get(f"/api/v1/events/{event['id']}/registrations").json()["results"]
    assert [r["note"] for r in rows] == ["带水"]  # a new note that passed replaces the held one


def test_a_held_role_shows_to_its_admins_only(review_mark, community, people):
    created = people["author"][1].post(
        f"/api/v1/communities/{community.pk}/roles", {"name": MARK}, format="json"
    )
    assert created.status_code == 201, created.content
    role_id = created.json()["id"]

    def listed(client):
        roles = client.get(f"/api/v1/communities/{community.pk}/roles").json()["results"]
        return [r["id"] for r in roles]

    assert role_id not in listed(people["member"][1])
    assert people["member"][1].get(f"/api/v1/roles/{role_id}").status_code == 404
    assert role_id in listed(people["author"][1])
    restore(people, "role", role_id)
    assert role_id in listed(people["member"][1])


def test_a_held_change_keeps_the_old_text_until_restored(review_mark, community, people):
    author = people["author"][1]
    before = community.name
    changed = author.patch(
        f"/api/v1/communities/{community.pk}",
        {"name": MARK, "members_can_create_polls": True},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    community.refresh_from_db()
    assert (community.name, community.members_can_create_polls) == (before, True)
    restore(people, "community_texts", community.pk)
    assert Community.objects.get(pk=community.pk).name == MARK


def test_a_later_change_that_passes_is_not_undone_by_releasing_the_held_one(
    review_mark, community, people
):
    author = people["author"][1]
    author.patch(f"/api/v1/communities/{community.pk}", {"name": MARK}, format="json")
    author.patch(f"/api/v1/communities/{community.pk}", {"name": "徒步群"}, format="json")
    assert not ContentHold.objects.filter(target_kind="community_texts").exists()
    assert Community.objects.get(pk=community.pk).name == "徒步群"


def test_a_held_poll_reminds_nobody_until_released(review_mark, community, people):
    from polls.services.lifecycle import poll_remind

    response = people["author"][1].post(
        f"/api/v1/communities/{community.pk}/polls",
        {
            "title": MARK,
            "kind": "single",
            "closes_at": closes(),
            "options": [{"label": "A"}, {"label": "B"}],
        },
        format="json",
    )
    poll_id = response.json()["id"]
    assert poll_remind(poll_id=poll_id) == 0
    restore(people, "poll", poll_id)
    assert poll_remind(poll_id=poll_id) > 0  # control: released, non-voters are reminded


def test_a_released_rules_text_is_a_new_version_with_its_held_summary(
    review_mark, community, people
):
    from community.models import RulesVersion

    author = people["author"][1]
    before = Community.objects.get(pk=community.pk).rules_version
    changed = author.patch(
        f"/api/v1/communities/{community.pk}",
        {"rules_text": f"不发广告，例如：{MARK}", "rules_summary": "新增广告条款"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert Community.objects.get(pk=community.pk).rules_version == before
    restore(people, "community_texts", community.pk)
    community.refresh_from_db()
    assert community.rules_version == before + 1
    version = RulesVersion.objects.get(community=community, version=community.rules_version)
    assert (version.text, version.summary) == (community.rules_text, "新增广告条款")
    rules = people["member"][1].get(f"/api/v1/communities/{community.pk}/rules").json()
    assert rules["version"] == community.rules_version


def test_a_released_place_is_announced_to_the_registered(review_mark, community, people):
    from community.models import Notification

    author, member = people["author"][1], people["member"][1]
    event = author.post(
        f"/api/v1/communities/{community.pk}/events",
        {"title": "周六爬山", "mode": "quick", "starts_at": closes(), "location_name": "北门"},
        format="json",
    ).json()
    signed = member.put(f"/api/v1/events/{event['id']}/registration", {}, format="json")
    assert signed.status_code in (200, 201), signed.content
    changes = Notification.objects.filter(kind="event_changed", object_key__contains=event["id"])
    moved = author.patch(
        f"/api/v1/events/{event['id']}", {"location_name": f"{MARK}门口"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert member.get(f"/api/v1/events/{event['id']}").json()["location_name"] == "北门"
    assert not changes.exists()
    restore(people, "event_texts", event["id"])
    assert member.get(f"/api/v1/events/{event['id']}").json()["location_name"] == f"{MARK}门口"
    assert list(changes.values_list("recipient_id", flat=True)) == [people["member"][0].user_id]


def test_a_released_role_name_taken_meanwhile_is_refused_and_keeps_waiting(
    review_mark, community, people
):
    from roles.models import Role

    author = people["author"][1]
    roles = f"/api/v1/communities/{community.pk}/roles"
    role_id = author.post(roles, {"name": "摄影"}, format="json").json()["id"]
    renamed = author.patch(f"/api/v1/roles/{role_id}", {"name": f"{MARK}组"}, format="json")
    assert renamed.status_code == 200, renamed.content
    # While the new name waits, another role takes it.
    Role.objects.create(community=community, name=f"{MARK}组")
    case = Case.objects.get(target_kind="role_texts", target_id=role_id, status="open")
    refused = people["moderator"][1].post(
        f"/api/v1/moderation-cases/{case.pk}/decision",
        {"decision": "restore", "reason": "没问题"},
        format="json",
    )
    assert refused.status_code == 409, refused.content
    assert refused.json()["errors"][0]["code"] == "role_name_taken"
    assert Role.objects.get(pk=role_id).name == "摄影"
    assert ContentHold.objects.filter(target_kind="role_texts", target_id=role_id).exists()
    assert Case.objects.get(pk=case.pk).status == "open"
