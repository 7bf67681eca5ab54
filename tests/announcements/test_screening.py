"""Announcements are screened like every published text, against the fake WeChat server:
risky refuses, review or an unreachable WeChat hold it (not listed, nobody notified) until a
moderator restores it; then the job notifies its followers, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from announcements.models import Announcement
from announcements.services import announcements_publish_due
from community.models import Notification
from moderation.models import Case, ContentHold
from moderation.services import case_decide
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

CHECK = "/wxa/msg_sec_check"


def verdict(wechat_server, suggest: str | None) -> None:
    if suggest is None:
        wechat_server.expect_request(CHECK).respond_with_response(wechat_json({}, status=500))
    else:
        wechat_server.expect_request(CHECK).respond_with_json(
            {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": 100}}
        )


def publish(client, community):
    return client.post(
        f"/api/v1/communities/{community.pk}/announcements",
        {"title": "加微信领红包", "body": "<p>详情私聊</p>"},
        format="json",
    )


def listed(client, community):
    response = client.get(f"/api/v1/communities/{community.pk}/announcements")
    return [a["id"] for a in response.json()["results"]]


@pytest.mark.parametrize(
    "suggest,status,held",
    [
        ("pass", 201, None),
        ("risky", 400, None),
        ("review", 201, "review"),
        (None, 201, "unchecked"),
    ],
)
def test_announcements_are_screened(
    wechat_server, settings, community, make_member, suggest, status, held
):
    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, suggest)
    admin, admin_client = make_member(tier="admin")
    member, member_client = make_member()
    response = publish(admin_client, community)
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["errors"][0]["code"] == "content_risky"
        assert not Announcement.objects.exists()
        return
    announcement_id = response.json()["id"]
    notified = Notification.objects.filter(
        kind="announcement_published", recipient_id=member.user_id
    )
    if held is None:
        assert listed(member_client, community) == [announcement_id]
        assert notified.count() == 1
        return
    assert ContentHold.objects.get(target_id=announcement_id).why == held
    assert listed(member_client, community) == []
    assert member_client.get(f"/api/v1/announcements/{announcement_id}").status_code == 404
    later = timezone.now() + timedelta(minutes=5)
    announcements_publish_due(now=later)
    assert notified.count() == 0
    case = Case.objects.get(target_kind="announcement", target_id=announcement_id)
    case_decide(actor=admin, case_id=case.pk, decision="restore", reason="误判")
    assert listed(member_client, community) == [announcement_id]
    announcements_publish_due(now=later)
    announcements_publish_due(now=later)
    assert notified.count() == 1


@pytest.mark.parametrize("suggest", ["risky", "review", None])
def test_a_category_name_wechat_does_not_pass_is_refused_and_nothing_stored(
    wechat_server, settings, community, make_member, suggest
):
    """A category is a label members filter by: it cannot wait hidden in the queue, so anything
    but a pass refuses it (risky: ``content_risky``; review or WeChat down:
    ``content_not_checked``), and no category is added."""
    from announcements.models import Category

    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, suggest)
    _, admin_client = make_member(tier="admin")
    before = Category.objects.filter(community=community).count()
    response = admin_client.post(
        f"/api/v1/communities/{community.pk}/announcement-categories",
        {"name": "加微信领红包"},
        format="json",
    )
    assert response.status_code == 400, response.content
    code = response.json()["errors"][0]["code"]
    assert code == ("content_risky" if suggest == "risky" else "content_not_checked")
    assert Category.objects.filter(community=community).count() == before
