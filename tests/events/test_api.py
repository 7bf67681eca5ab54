"""Both modes end to end over HTTP: create, sign up, my status, the 接龙 list, cancel,
approval, permissions and 404s, times in the community's zone, pinned query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Community, Tier
from events.models import Registration
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _create(client, community, **body):
    body.setdefault("title", "周六爬山")
    body.setdefault("starts_at", (timezone.now() + timedelta(days=2)).isoformat())
    return client.post(f"/api/v1/communities/{community.pk}/events", body, format="json")


def _put(client, event_id, **body):
    return client.put(f"/api/v1/events/{event_id}/registration", body, format="json")


def test_quick_list_end_to_end(community, moderator, make_member):
    _, mod_client = moderator
    created = _create(mod_client, community, capacity=2, max_guests=1, location_name="香山")
    assert created.status_code == 201, created.json()
    event = created.json()
    assert event["mode"] == "quick" and event["status"] == "open"
    assert event["seats_left"] == 2 and event["attendees_visible"] is True
    assert event["starts_at"].endswith("+08:00")  # the community's zone
    a, a_client = make_member()
    b, b_client = make_member()
    c, c_client = make_member()
    mine = _put(a_client, event["id"], guests=1, note="带娃").json()
    assert mine["state"] == "confirmed" and mine["seats"] == 2
    b_state = _put(b_client, event["id"]).json()
    assert b_state["state"] == "waitlisted" and b_state["waitlist_position"] == 1
    assert _put(c_client, event["id"]).json()["waitlist_position"] == 2
    # The 接龙 list is visible to members, numbered, with +N and notes.
    listed = b_client.get(f"/api/v1/events/{event['id']}/registrations").json()
    assert [
        (r["number"], r["user"]["nickname"], r["guests"], r["note"]) for r in listed["results"]
    ] == [(1, a.user.nickname, 1, "带娃")]
    assert "answers" not in listed["results"][0]  # members do not see form answers
    waiting = b_client.get(f"/api/v1/events/{event['id']}/registrations?group=waitlisted").json()
    assert [r["number"] for r in waiting["results"]] == [1, 2]
    d, d_client = make_member()
    assert _put(d_client, event["id"]).json()["waitlist_position"] == 3
    # a cancels, freeing two seats: b and c move up automatically, d is next.
    assert a_client.delete(f"/api/v1/events/{event['id']}/registration").json()["state"] == (
        "cancelled"
    )
    assert b_client.get(f"/api/v1/events/{event['id']}/registration").json()["state"] == (
        "confirmed"
    )
    detail = d_client.get(f"/api/v1/events/{event['id']}").json()
    assert detail["my"]["waitlist_position"] == 1 and detail["seats_left"] == 0
    assert detail["my_status"] == "waitlisted" and detail["waitlist_count"] == 1


def test_full_event_with_form_approval_and_attendees_for_organizers_only(
    community, moderator, make_member
):
    _, mod_client = moderator
    form = {
        "questions": [
            {
                "id": "diet",
                "type": "single_choice",
                "title": "饮食",
                "required": True,
                "choices": [{"id": "any", "label": "都可以"}, {"id": "veg", "label": "素食"}],
            },
            {
                "id": "why",
                "type": "short_text",
                "title": "为什么素食?",
                "condition": {
                    "match": "all",
                    "rules": [{"question_id": "diet", "operator": "equals", "value": "veg"}],
                },
            },
        ]
    }
    created = _create(
        mod_client, community, mode="full", capacity=5, requires_approval=True, form=form
    )
    assert created.status_code == 201, created.json()
    event_id = created.json()["id"]
    a, a_client = make_member()
    missing = _put(a_client, event_id)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["attr"] == "answers.diet"
    hidden = _put(a_client, event_id, answers={"diet": {"choice": "any"}, "why": "x"})
    assert hidden.status_code == 400  # display logic: "why" is hidden for "any"
    ok = _put(a_client, event_id, answers={"diet": {"choice": "veg"}, "why": "习惯"})
    assert ok.status_code == 200 and ok.json()["state"] == "pending"
    assert ok.json()["answers"] == {"diet": {"choice": "veg"}, "why": "习惯"}
    # Attendees: organizers only for a full event that does not show them.
    assert a_client.get(f"/api/v1/events/{event_id}/registrations?group=pending").status_code == 403
    rows = mod_client.get(f"/api/v1/events/{event_id}/registrations?group=pending").json()
    reg_id = rows["results"][0]["id"]
    assert rows["results"][0]["answers"]["diet"] == {"choice": "veg"}
    approved = mod_client.post(f"/api/v1/events/{event_id}/registrations/{reg_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "confirmed"
    assert (
        a_client.post(f"/api/v1/events/{event_id}/registrations/{reg_id}/approve").status_code
        == 403
    )


def test_invalid_form_definitions_are_refused(community, moderator):
    _, mod_client = moderator
    bad = {"questions": [{"id": "q", "type": "single_choice", "title": "?", "choices": []}]}
    response = _create(mod_client, community, mode="full", form=bad)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_form"


def test_members_of_other_communities_get_404_and_muted_members_cannot_sign_up(
    community, moderator, make_member, outsider
):
    _, mod_client = moderator
    event_id = _create(mod_client, community, capacity=3).json()["id"]
    _, outsider_client = outsider
    assert outsider_client.get(f"/api/v1/events/{event_id}").status_code == 404
    assert _put(outsider_client, event_id).status_code == 404
    other = MembershipFactory(community=CommunityFactory(), tier=Tier.OWNER)
    assert _put(client_for(other.user), event_id).status_code == 404
    _, muted_client = make_member(status="muted")
    assert muted_client.get(f"/api/v1/events/{event_id}").status_code == 200
    response = _put(muted_client, event_id)
    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "muted"


def test_a_member_cannot_create_events_unless_the_community_allows(community, member):
    _, client = member
    assert _create(client, community).status_code == 403
    Community.objects.filter(pk=community.pk).update(members_can_create_events=True)
    assert _create(client, community, capacity=8).status_code == 201
    assert _create(client, community, mode="full").status_code == 403


def test_changing_the_time_tells_everyone_registered_and_waitlisted(
    community, moderator, make_member
):
    from community.models import Notification

    _, mod_client = moderator
    event_id = _create(mod_client, community, capacity=1).json()["id"]
    a, a_client = make_member()
    b, b_client = make_member()
    _put(a_client, event_id)
    _put(b_client, event_id)
    new_start = (timezone.now() + timedelta(days=3)).isoformat()
    response = mod_client.patch(
        f"/api/v1/events/{event_id}", {"starts_at": new_start}, format="json"
    )
    assert response.status_code == 200
    changed = Notification.objects.filter(kind="event_changed")
    assert set(changed.values_list("recipient_id", flat=True)) == {a.user_id, b.user_id}
    mod_client.patch(f"/api/v1/events/{event_id}", {"title": "新标题"}, format="json")
    assert Notification.objects.filter(kind="event_changed").count() == 2  # title: no message
    mod_client.post(f"/api/v1/events/{event_id}/cancel", {"reason": "下雨"}, format="json")
    mod_client.post(f"/api/v1/events/{event_id}/cancel", {}, format="json")
    cancelled = Notification.objects.filter(kind="event_cancelled")
    assert sorted(cancelled.values_list("recipient_id", flat=True)) == sorted(
        [a.user_id, b.user_id]
    )


def test_event_list_cards_carry_my_status(community, moderator, make_member):
    _, mod_client = moderator
    first = _create(mod_client, community, capacity=3).json()["id"]
    _create(mod_client, community, title="桌游", capacity=3)
    _, client = make_member()
    _put(client, first)
    cards = client.get(f"/api/v1/communities/{community.pk}/events").json()["results"]
    assert {c["id"]: c["my_status"] for c in cards}[first] == "confirmed"
    assert sorted(c["my_status"] for c in cards) == ["confirmed", "none"]
    mine = client.get(f"/api/v1/communities/{community.pk}/events?mine=true").json()["results"]
    assert [c["id"] for c in mine] == [first]


# --- pinned query counts ---------------------------------------------------------------------
_TX = 2  # SAVEPOINT and RELEASE: the test itself runs in a transaction
# auth token, event + membership (one join), my registration (none), INSERT ... ON CONFLICT,
# guarded seat UPDATE, outbox INSERT (confirmation); the answer is built from the new row
SIGNUP_QUERIES = 6 + _TX
# auth token, membership, one page of events with my status annotated
LIST_QUERIES = 3
# auth token, event + membership, one page of rows (number, name and check-in annotated), and
# for a plain member the roles they hold (a "manage events" role would show the form answers)
REGISTRATIONS_QUERIES = 4


def test_sign_up_query_count(make_event, member, django_assert_num_queries):
    event = make_event(capacity=10)
    _, client = member
    with django_assert_num_queries(SIGNUP_QUERIES):
        assert _put(client, event.pk).json()["state"] == "confirmed"
    with django_assert_num_queries(4):  # the same body again: nothing written
        assert _put(client, event.pk).status_code == 200


@pytest.mark.parametrize("events", [1, 8])
def test_event_list_query_count(make_event, member, community, django_assert_num_queries, events):
    _, client = member
    for i in range(events):
        make_event(capacity=5, title=f"活动{i}")
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(f"/api/v1/communities/{community.pk}/events")
    assert len(response.json()["results"]) == events


@pytest.mark.parametrize("people", [1, 12])
def test_registration_list_query_count(make_event, make_member, django_assert_num_queries, people):
    event = make_event(capacity=50)
    for _ in range(people):
        _put(make_member()[1], event.pk)
    _, client = make_member()
    with django_assert_num_queries(REGISTRATIONS_QUERIES):
        response = client.get(f"/api/v1/events/{event.pk}/registrations")
    assert [r["number"] for r in response.json()["results"]] == list(range(1, people + 1))
    assert Registration.objects.filter(event=event).count() == people


def test_organizers_are_added_and_removed_by_user_id_over_http(community, moderator, make_member):
    """User ids are opaque strings: adding and removing an organizer works with them, and the
    added organizer runs the event (sees attendees) until removed."""
    _, mod_client = moderator
    event = _create(mod_client, community, capacity=5, mode="full").json()
    helper, helper_client = make_member()
    attendees = f"/api/v1/events/{event['id']}/registrations"
    assert helper_client.get(attendees).status_code == 403
    added = mod_client.post(
        f"/api/v1/events/{event['id']}/organizers", {"user_id": helper.user_id}, format="json"
    )
    assert added.status_code == 201, added.json()
    assert helper_client.get(attendees).status_code == 200
    removed = mod_client.delete(f"/api/v1/events/{event['id']}/organizers/{helper.user_id}")
    assert removed.status_code == 204
    assert helper_client.get(attendees).status_code == 403
    unknown = mod_client.delete(f"/api/v1/events/{event['id']}/organizers/nobody")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "not_found"
