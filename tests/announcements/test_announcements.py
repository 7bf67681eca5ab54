"""Announcements over HTTP: who may publish, the safe body, the members' list (pinned first,
followed categories), scheduled publishing notified exactly once, read confirmation and the
one reminder, the content calendar by ISO week in the community's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from announcements.models import Announcement, AnnouncementRead
from announcements.services import announcement_create, announcements_publish_due
from community.models import Notification
from roles.models import Role, RoleAssignment

pytestmark = pytest.mark.django_db


def post(client, community, body, status=201):
    response = client.post(f"/api/v1/communities/{community.pk}/announcements", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def listed(client, community, **params):
    response = client.get(f"/api/v1/communities/{community.pk}/announcements", params)
    assert response.status_code == 200, response.content
    return [a["title"] for a in response.json()["results"]]


def test_members_cannot_publish_but_the_content_role_can(community, make_member, categories):
    member, client = make_member()
    r = post(client, community, {"title": "广告"}, 403)
    assert r["errors"][0]["code"] == "tier_too_low"
    role = Role.objects.create(
        community=community, name="内容整理", capabilities=["publish_content"]
    )
    RoleAssignment.objects.create(community=community, role=role, membership=member)
    post(client, community, {"title": "本周资讯"})
    assert Announcement.objects.filter(title="本周资讯").exists()


def test_body_is_reduced_to_the_safe_subset(community, admin):
    _, client = admin
    body = (
        '<p onclick="x()">hi <script>alert(1)</script><a href="javascript:x">bad</a>'
        '<a href="https://ok.example">ok</a><img src="http://plain.example/a.png">'
        '<img src="https://ok.example/a.png"><span style="color:red">s</span></p><h2>t</h2>'
    )
    created = post(client, community, {"title": "格式", "body": body})
    stored = Announcement.objects.get(pk=created["id"]).body
    assert "script" not in stored and "onclick" not in stored and "javascript" not in stored
    assert "http://plain" not in stored and "style" not in stored and "<span" not in stored
    assert '<a href="https://ok.example"' in stored
    assert '<img src="https://ok.example/a.png">' in stored
    assert "<h2>t</h2>" in stored


def test_cover_must_be_https_and_expiry_after_publish(community, admin):
    _, client = admin
    r = post(client, community, {"title": "x", "cover_url": "http://a/b.png"}, 400)
    assert r["errors"][0]["code"] == "cover_not_https"
    now = timezone.now()
    r = post(
        client,
        community,
        {
            "title": "x",
            "publish_at": now.isoformat(),
            "expires_at": (now - timedelta(1)).isoformat(),
        },
        400,
    )
    assert r["errors"][0]["code"] == "expires_before_publish"
    assert not Announcement.objects.exists()


def test_list_is_pinned_first_unexpired_published_and_respects_follows(
    community, admin, make_member, categories
):
    actor = admin[0]
    now = timezone.now()
    news, events = categories["行业资讯"], categories["活动通知"]
    announcement_create(
        actor=actor, title="old", category_id=news.pk, publish_at=now - timedelta(2)
    )
    announcement_create(actor=actor, title="new", category_id=events.pk)
    announcement_create(actor=actor, title="pinned", pinned=True, publish_at=now - timedelta(3))
    announcement_create(actor=actor, title="later", publish_at=now + timedelta(1))
    announcement_create(
        actor=actor, title="gone", publish_at=now - timedelta(3), expires_at=now - timedelta(1)
    )
    _, client = make_member()
    assert listed(client, community) == ["pinned", "new", "old"]
    assert listed(client, community, page_size=1)  # the cursor works on this order
    page = client.get(f"/api/v1/communities/{community.pk}/announcements", {"page_size": 2})
    nxt = client.get(page.json()["next"])
    assert [a["title"] for a in nxt.json()["results"]] == ["old"]

    r = client.delete(f"/api/v1/announcement-categories/{news.pk}/follow")
    assert r.status_code == 200 and r.json()["following"] is False
    r = client.delete(f"/api/v1/announcement-categories/{news.pk}/follow")  # idempotent
    assert r.status_code == 200
    assert listed(client, community) == ["pinned", "new"]
    cats = client.get(f"/api/v1/communities/{community.pk}/announcement-categories").json()
    cats = cats["results"]
    assert {c["name"]: c["following"] for c in cats}["行业资讯"] is False
    client.put(f"/api/v1/announcement-categories/{news.pk}/follow")
    assert listed(client, community) == ["pinned", "new", "old"]


def test_list_query_count_does_not_grow(
    community, admin, make_member, categories, django_assert_num_queries
):
    for index in range(3):
        announcement_create(
            actor=admin[0], title=f"a{index}", category_id=categories["知识分享"].pk
        )
    _, client = make_member()
    url = f"/api/v1/communities/{community.pk}/announcements"
    client.get(url)
    with django_assert_num_queries(3) as few:
        client.get(url)
    for index in range(5):
        announcement_create(actor=admin[0], title=f"b{index}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)


def test_scheduled_announcement_notifies_followers_once_when_due(
    community, admin, make_member, categories
):
    news = categories["行业资讯"]
    follower, _ = make_member()
    unfollower, client = make_member()
    client.delete(f"/api/v1/announcement-categories/{news.pk}/follow")
    now = timezone.now()
    announcement = announcement_create(
        actor=admin[0], title="明天发布", category_id=news.pk, publish_at=now + timedelta(days=1)
    )
    assert announcements_publish_due(now=now) == 0
    later = now + timedelta(days=1, minutes=1)
    announcements_publish_due(now=later)
    announcements_publish_due(now=later)  # the job runs twice: still once
    sent = Notification.objects.filter(kind="announcement_published")
    recipients = set(sent.values_list("recipient_id", flat=True))
    assert follower.user_id in recipients and unfollower.user_id not in recipients
    assert sent.filter(recipient_id=follower.user_id).count() == 1
    announcement.refresh_from_db()
    assert announcement.notified_at is not None


def test_published_now_notifies_at_once_and_never_again(community, admin, make_member):
    member, _ = make_member()
    announcement_create(actor=admin[0], title="现在")
    announcements_publish_due(now=timezone.now() + timedelta(hours=1))
    assert (
        Notification.objects.filter(
            kind="announcement_published", recipient_id=member.user_id
        ).count()
        == 1
    )


def test_read_confirmation_readers_and_one_reminder(community, admin, make_member):
    author_membership, author = admin
    (alice_m, alice), (bob_m, bob) = make_member(), make_member()
    created = post(author, community, {"title": "请确认", "requires_confirmation": True})
    url = f"/api/v1/announcements/{created['id']}"
    assert alice.get(url).json()["read"] is True
    first = alice.put(f"{url}/confirmation")
    again = alice.put(f"{url}/confirmation")
    assert first.status_code == again.status_code == 200
    assert first.json()["confirmed_at"] == again.json()["confirmed_at"]
    assert AnnouncementRead.objects.filter(membership=alice_m).count() == 1

    assert bob.get(f"{url}/readers").status_code == 403
    readers = author.get(f"{url}/readers").json()
    assert readers["confirmed_count"] == 1
    assert [r["membership_id"] for r in readers["confirmed"]] == [alice_m.pk]
    assert bob_m.pk in [r["membership_id"] for r in readers["not_confirmed"]]

    r = author.post(f"{url}/reminder")
    assert r.status_code == 200, r.content
    reminded = set(
        Notification.objects.filter(kind="announcement_reminder").values_list(
            "recipient_id", flat=True
        )
    )
    assert bob_m.user_id in reminded and alice_m.user_id not in reminded
    second = author.post(f"{url}/reminder")
    assert second.status_code == 409 and second.json()["errors"][0]["code"] == "already_reminded"
    assert Notification.objects.filter(kind="announcement_reminder").count() == len(reminded)


def test_confirming_what_does_not_ask_is_409_and_hidden_ones_are_404(
    community, admin, make_member, outsider
):
    _, author = admin
    plain = post(author, community, {"title": "普通"})
    scheduled = post(
        author,
        community,
        {"title": "以后", "publish_at": (timezone.now() + timedelta(days=1)).isoformat()},
    )
    _, member = make_member()
    r = member.put(f"/api/v1/announcements/{plain['id']}/confirmation")
    assert r.status_code == 409
    assert member.get(f"/api/v1/announcements/{scheduled['id']}").status_code == 404
    assert outsider[1].get(f"/api/v1/announcements/{plain['id']}").status_code == 404


def test_content_calendar_groups_by_iso_week_in_the_community_zone(community, admin, make_member):
    community.time_zone = "Asia/Shanghai"
    community.save()
    actor = admin[0]
    zone = ZoneInfo("Asia/Shanghai")
    # Monday 00:30 in Shanghai is still Sunday in UTC: it belongs to the Monday's week.
    monday = datetime(2026, 11, 30, 0, 30, tzinfo=zone)
    a = announcement_create(actor=actor, title="周一", publish_at=monday)
    announcement_create(actor=actor, title="上周日", publish_at=monday - timedelta(hours=1))
    announcement_create(actor=actor, title="计划", publish_at=monday + timedelta(days=8))
    member, client = make_member()
    AnnouncementRead.objects.create(community=community, announcement=a, membership=member)
    assert client.get(f"/api/v1/communities/{community.pk}/content-calendar").status_code == 403
    _, mod = make_member(tier="moderator")
    r = mod.get(
        f"/api/v1/communities/{community.pk}/content-calendar", {"week": "2026-W48", "weeks": 3}
    )
    assert r.status_code == 200, r.content
    weeks = {w["week"]: [p["title"] for p in w["posts"]] for w in r.json()["weeks"]}
    assert weeks == {"2026-W48": ["上周日"], "2026-W49": ["周一"], "2026-W50": ["计划"]}
    post_ = r.json()["weeks"][1]["posts"][0]
    assert post_["read_count"] == 1 and 0 < post_["read_rate"] <= 1


def test_categories_are_managed_by_admins(community, admin, make_member, categories):
    _, client = admin
    r = client.post(
        f"/api/v1/communities/{community.pk}/announcement-categories",
        {"name": "行业资讯"},
        format="json",
    )
    assert r.status_code == 409
    r = client.post(
        f"/api/v1/communities/{community.pk}/announcement-categories",
        {"name": "读书"},
        format="json",
    )
    assert r.status_code == 201
    _, member = make_member()
    r = member.patch(
        f"/api/v1/announcement-categories/{r.json()['id']}", {"name": "x"}, format="json"
    )
    assert r.status_code == 403


def test_writes_answer_what_a_read_right_after_answers(community, admin, categories):
    _, client = admin
    created = client.post(
        f"/api/v1/communities/{community.pk}/announcements",
        {
            "title": "写后读",
            "category_id": categories["热点话题"].pk,
            "requires_confirmation": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/announcements/{created.json()['id']}"
    assert client.get(url).json() == created.json()
    edited = client.patch(url, {"pinned": True}, format="json")
    assert edited.status_code == 200 and edited.json()["pinned"] is True
    assert client.get(url).json() == edited.json()
