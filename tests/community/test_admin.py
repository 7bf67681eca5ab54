"""The Django admin: moderators see only their communities; writes go through services."""

from __future__ import annotations

import pytest
from django.test import Client

from community.models import Membership
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_communities():
    return CommunityFactory(name="徒步群"), CommunityFactory(name="读书会")


def test_moderator_sees_only_their_communities(two_communities):
    hiking, books = two_communities
    staff = UserFactory(is_staff=True)
    MembershipFactory(community=hiking, user=staff, tier="moderator")
    MembershipFactory(community=books, user=staff, tier="member")
    MembershipFactory(community=hiking, user__nickname="徒步的人")
    MembershipFactory(community=books, user__nickname="读书的人")
    client = staff_client(staff)

    page = client.get("/admin/community/community/")
    assert page.status_code == 200
    assert "徒步群" in page.content.decode()
    assert "读书会" not in page.content.decode()

    members = client.get("/admin/community/membership/").content.decode()
    assert "徒步的人" in members
    assert "读书的人" not in members
    other = Membership.objects.get(user__nickname="读书的人")
    assert client.get(f"/admin/community/membership/{other.pk}/change/").status_code == 302


def test_superuser_sees_all(two_communities):
    admin = UserFactory(is_staff=True, is_superuser=True)
    content = staff_client(admin).get("/admin/community/community/").content.decode()
    assert "徒步群" in content and "读书会" in content


def test_staff_without_moderator_tier_sees_nothing(two_communities):
    hiking, _books = two_communities
    staff = UserFactory(is_staff=True)
    MembershipFactory(community=hiking, user=staff, tier="member")
    client = staff_client(staff)
    assert client.get("/admin/community/community/").status_code == 403


def test_admin_is_chinese_by_default(two_communities):
    admin = UserFactory(is_staff=True, is_superuser=True)
    content = staff_client(admin).get("/admin/").content.decode()
    assert "社区" in content or "站点管理" in content


def test_ban_action_goes_through_the_service(two_communities):
    hiking, _ = two_communities
    staff = UserFactory(is_staff=True)
    MembershipFactory(community=hiking, user=staff, tier="moderator")
    target = MembershipFactory(community=hiking)
    peer = MembershipFactory(community=hiking, tier="admin")
    client = staff_client(staff)
    response = client.post(
        "/admin/community/membership/",
        {"action": "ban", "_selected_action": [target.pk, peer.pk]},
        follow=True,
    )
    assert response.status_code == 200
    target.refresh_from_db()
    peer.refresh_from_db()
    assert target.status == "banned"
    assert peer.status == "active"  # a moderator cannot ban an admin: the service refused


def test_session_key_is_not_in_the_admin(two_communities):
    from community.models import WeChatSession

    member = MembershipFactory(community=two_communities[0])
    WeChatSession.objects.create(user=member.user, session_key="c2VjcmV0LXNlc3Npb24ta2V5")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = staff_client(admin)
    page = client.get(f"/admin/community/user/{member.user.pk}/change/").content.decode()
    assert "c2VjcmV0LXNlc3Npb24ta2V5" not in page
    assert client.get("/admin/community/wechatsession/").status_code == 404
