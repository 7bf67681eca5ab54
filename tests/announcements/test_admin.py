"""Announcements in the admin go through the same services: an admin-tier staff user
publishes (followers notified), a moderator is refused on the form, nothing stored."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from announcements.models import Announcement
from community.models import Notification
from community.timezones import localize
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff(community, tier):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=tier)
    client = Client()
    client.force_login(user)
    return client


def form(community, **extra):
    now = localize(timezone.now(), community)
    return {
        "community": community.pk,
        "title": "后台发布",
        "body": "<p>正文<script>x</script></p>",
        "cover_url": "",
        "publish_at_0": now.strftime("%Y-%m-%d"),
        "publish_at_1": now.strftime("%H:%M:%S"),
        "expires_at_0": "",
        "expires_at_1": "",
        **extra,
    }


def test_admin_publishes_through_the_service(community, make_member):
    member, _ = make_member()
    client = staff(community, "admin")
    response = client.post("/admin/announcements/announcement/add/", form(community))
    assert response.status_code == 302, response.content.decode()[:3000]
    announcement = Announcement.objects.get()
    assert announcement.body == "<p>正文</p>"
    assert Notification.objects.filter(
        kind="announcement_published", recipient_id=member.user_id
    ).exists()
    page = client.get("/admin/announcements/announcement/")
    assert page.status_code == 200 and "后台发布" in page.content.decode()


def test_moderator_and_bad_cover_are_refused_on_the_form(community):
    moderator = staff(community, "moderator")
    response = moderator.post("/admin/announcements/announcement/add/", form(community))
    assert response.status_code == 200
    admin = staff(community, "admin")
    response = admin.post(
        "/admin/announcements/announcement/add/", form(community, cover_url="http://x/a.png")
    )
    assert response.status_code == 200
    assert not Announcement.objects.exists()
