"""Calendar files, the calendar feed address, the 接龙 text and the share-card round trip,
over HTTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from community.models import Community, Membership, MembershipStatus, Tier, WeChatSession
from community.wechat.crypto import encrypt_data
from events.models import EventMode, RegistrationStatus
from events.models_edges import CalendarFeedToken
from tests.conftest import client_for
from tests.events.edges import event_row, register
from tests.factories import CommunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def _vevents(response) -> list:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content).walk("VEVENT")


# --- .ics ------------------------------------------------------------------------------------
def test_event_ics_in_the_community_zone(community, member):
    start = datetime(2026, 12, 12, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    event = event_row(community, starts_at=start, signup_opens_at=start - timedelta(days=30))
    (vevent,) = _vevents(member[1].get(f"/api/v1/events/{event.pk}/calendar.ics"))
    assert vevent.decoded("dtstart").hour == 9
    assert vevent["dtstart"].params["TZID"] == "Asia/Shanghai"
    Community.objects.filter(pk=community.pk).update(time_zone="Europe/Berlin")
    (vevent,) = _vevents(member[1].get(f"/api/v1/events/{event.pk}/calendar.ics"))
    assert vevent.decoded("dtstart").hour == 2  # 02:00 CET, same instant
    assert vevent.decoded("dtstart").astimezone(UTC) == start


def test_ics_is_served_to_a_client_asking_for_text_calendar_only(community, member):
    event = event_row(community)
    response = member[1].get(f"/api/v1/events/{event.pk}/calendar.ics", HTTP_ACCEPT="text/calendar")
    assert len(_vevents(response)) == 1


def test_community_feed_lists_its_events_cancelled_marked_and_not_others(community, member):
    now = timezone.now()
    upcoming = event_row(community, title="桌游")
    cancelled = event_row(community, title="取消了", cancelled_at=now)
    event_row(
        community,
        title="long ago",
        starts_at=now - timedelta(days=60),
        signup_opens_at=now - timedelta(days=90),
    )
    event_row(CommunityFactory(), title="elsewhere")
    vevents = _vevents(member[1].get(f"/api/v1/communities/{community.pk}/events.ics"))
    by_title = {str(v["summary"]): v for v in vevents}
    assert set(by_title) == {"桌游", "取消了"}
    assert str(by_title["取消了"]["status"]) == "CANCELLED"
    assert str(by_title["桌游"]["uid"]).startswith(upcoming.pk)
    assert cancelled.pk in str(by_title["取消了"]["uid"])


def test_feed_address_works_without_login_and_is_revocable(community, member, api_client):
    event_row(community, title="桌游")
    created = member[1].post(f"/api/v1/communities/{community.pk}/calendar-feed")
    assert created.status_code == 201
    url = created.json()["url"]
    token = url.rstrip("/").split("/")[-2]
    assert not CalendarFeedToken.objects.filter(key_hash=token).exists()  # only the hash
    path = url.split("testserver", 1)[1]
    assert [str(v["summary"]) for v in _vevents(api_client.get(path))] == ["桌游"]
    again = member[1].post(f"/api/v1/communities/{community.pk}/calendar-feed").json()["url"]
    assert api_client.get(path).status_code == 404  # the old address stopped working
    new_path = again.split("testserver", 1)[1]
    assert api_client.get(new_path).status_code == 200
    assert member[1].delete(f"/api/v1/communities/{community.pk}/calendar-feed").status_code == 204
    assert api_client.get(new_path).status_code == 404


def test_feed_stops_when_the_member_leaves_or_is_banned(community, member, api_client):
    url = member[1].post(f"/api/v1/communities/{community.pk}/calendar-feed").json()["url"]
    path = url.split("testserver", 1)[1]
    assert api_client.get(path).status_code == 200
    Membership.objects.filter(pk=member[0].pk).update(status=MembershipStatus.BANNED)
    response = api_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_outsider_gets_no_calendar(community, outsider):
    event = event_row(community)
    assert outsider[1].get(f"/api/v1/events/{event.pk}/calendar.ics").status_code == 404
    assert outsider[1].get(f"/api/v1/communities/{community.pk}/events.ics").status_code == 404
    assert outsider[1].post(f"/api/v1/communities/{community.pk}/calendar-feed").status_code == 404


def test_feed_query_count_does_not_grow_with_events(community, member, django_assert_num_queries):
    for i in range(3):
        event_row(community, title=f"e{i}")
    url = f"/api/v1/communities/{community.pk}/events.ics"
    member[1].get(url)  # warm: per-process caches filled once
    with django_assert_num_queries(3):  # token, membership, events
        member[1].get(url)
    for i in range(10):
        event_row(community, title=f"f{i}")
    with django_assert_num_queries(3):
        member[1].get(url)


# --- 接龙 text --------------------------------------------------------------------------------
def test_jielong_text_of_a_quick_list_for_every_member(community, make_member):
    start = datetime(2026, 5, 12, 1, 0, tzinfo=UTC)
    event = event_row(
        community,
        mode=EventMode.QUICK,
        starts_at=start,
        capacity=3,
        signup_opens_at=start - timedelta(days=30),
        location_name="香山",
    )
    a, client = make_member(user=UserFactory(nickname="小张"))
    b, _ = make_member(user=UserFactory(nickname="小李"))
    c, _ = make_member(user=UserFactory(nickname="小王"))
    now = timezone.now()
    register(event, a.user, guests=1, signed_up_at=now)
    register(event, b.user, note="带水", signed_up_at=now + timedelta(seconds=1))
    register(event, c.user, status=RegistrationStatus.WAITLISTED, guests=2)
    response = client.get(f"/api/v1/events/{event.pk}/jielong")
    assert response.status_code == 200
    assert response.json()["text"] == (
        "周六爬山 5/12 09:00\n地点: 香山\n1. 小张 +1\n2. 小李 (带水)\n候补:\n1. 小王 +2\n已报 3/3"
    )


def test_jielong_of_a_full_event_is_for_organizers_unless_visible(community, member, make_member):
    event = event_row(community, mode=EventMode.FULL)
    assert member[1].get(f"/api/v1/events/{event.pk}/jielong").status_code == 403
    _mod, moderator = make_member(tier=Tier.MODERATOR)
    assert moderator.get(f"/api/v1/events/{event.pk}/jielong").status_code == 200
    event.attendees_visible = True
    event.save(update_fields=["attendees_visible"])
    assert member[1].get(f"/api/v1/events/{event.pk}/jielong").status_code == 200


def test_jielong_query_count_is_fixed(community, member, make_member, django_assert_num_queries):
    event = event_row(community, mode=EventMode.QUICK)
    for _i in range(3):
        register(event, make_member()[0].user)
    url = f"/api/v1/events/{event.pk}/jielong"
    member[1].get(url)  # warm: per-process caches filled once
    with django_assert_num_queries(4):  # token, event+membership, confirmed, waiting
        member[1].get(url)
    for _i in range(5):
        register(event, make_member()[0].user)
    with django_assert_num_queries(4):  # token, event+membership, confirmed, waiting
        member[1].get(url)


# --- share card round trip -------------------------------------------------------------------
SESSION_KEY = base64.b64encode(b"0123456789abcdef").decode()
IV = base64.b64encode(b"fedcba9876543210").decode()


def _share_ticket(open_gid: str) -> dict:
    payload = {"openGId": open_gid, "watermark": {"appid": "wx-test-appid", "timestamp": 1}}
    return {
        "encrypted_data": encrypt_data(session_key=SESSION_KEY, payload=payload, iv=IV),
        "iv": IV,
    }


@pytest.fixture
def newcomer(db):
    user = UserFactory()
    WeChatSession.objects.create(user=user, session_key=SESSION_KEY)
    return user, client_for(user)


def test_share_card_round_trip_newcomer_joins_and_lands_on_the_event(member, newcomer):
    community = member[0].community
    community.open_gid = "G-hike"
    community.save(update_fields=["open_gid"])
    event = event_row(community)
    share = member[1].get(f"/api/v1/events/{event.pk}/share").json()
    assert share["path"] == f"pages/events/detail?id={event.pk}"
    assert share["scene"] == f"e={event.pk}" and len(share["scene"]) <= 32
    _user, client = newcomer
    assert client.get(f"/api/v1/events/{event.pk}/ticket").status_code == 404  # not a member yet
    joined = client.post(f"/api/v1/events/{event.pk}/join", _share_ticket("G-hike"), format="json")
    assert joined.status_code == 200, joined.content
    assert joined.json() == {
        "community_id": community.pk,
        "membership_status": "active",
        "event_id": event.pk,
        "landing_path": share["path"],
    }
    assert client.get(f"/api/v1/events/{event.pk}/calendar.ics").status_code == 200


def test_share_card_in_an_approval_community_lands_nowhere_yet(member, newcomer):
    community = member[0].community
    community.open_gid = "G-closed"
    community.join_policy = "approval"
    community.save(update_fields=["open_gid", "join_policy"])
    event = event_row(community)
    response = newcomer[1].post(
        f"/api/v1/events/{event.pk}/join", _share_ticket("G-closed"), format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["membership_status"] == "pending"
    assert response.json()["landing_path"] is None


def test_card_forwarded_into_another_group_joins_nothing(member, newcomer):
    community = member[0].community
    community.open_gid = "G-hike"
    community.save(update_fields=["open_gid"])
    event = event_row(community)
    response = newcomer[1].post(
        f"/api/v1/events/{event.pk}/join", _share_ticket("G-other"), format="json"
    )
    assert response.status_code == 404
    assert not Community.objects.filter(open_gid="G-other").exists()
    assert not Membership.objects.filter(user=newcomer[0]).exists()


def test_banned_member_cannot_come_back_through_an_event_card(member, newcomer):
    community = member[0].community
    community.open_gid = "G-hike"
    community.save(update_fields=["open_gid"])
    Membership.objects.create(community=community, user=newcomer[0], status=MembershipStatus.BANNED)
    event = event_row(community)
    response = newcomer[1].post(
        f"/api/v1/events/{event.pk}/join", _share_ticket("G-hike"), format="json"
    )
    assert response.status_code == 403
