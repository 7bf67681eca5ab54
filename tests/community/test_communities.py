"""Joining (share ticket, invite code), leaving, rules, detail and editing, over HTTP."""

from __future__ import annotations

import base64

import pytest

from community.models import Community, Membership, WeChatSession
from community.wechat.crypto import encrypt_data
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.roles.factories import hold

pytestmark = pytest.mark.django_db

SESSION_KEY = base64.b64encode(b"0123456789abcdef").decode()
IV = base64.b64encode(b"fedcba9876543210").decode()


def share_ticket(open_gid: str, appid: str = "wx-test-appid") -> dict:
    payload = {"openGId": open_gid, "watermark": {"appid": appid, "timestamp": 1764000000}}
    return {
        "encrypted_data": encrypt_data(session_key=SESSION_KEY, payload=payload, iv=IV),
        "iv": IV,
    }


@pytest.fixture
def wx_user(db):
    user = UserFactory()
    WeChatSession.objects.create(user=user, session_key=SESSION_KEY)
    return user, client_for(user)


def test_first_member_from_a_group_creates_the_community_as_owner(wx_user):
    user, client = wx_user
    response = client.post(
        "/api/v1/communities/join/share-ticket", share_ticket("G-1"), format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["membership"]["tier"] == "owner"
    assert body["membership"]["status"] == "active"
    community = Community.objects.get(open_gid="G-1")
    assert body["community"]["id"] == community.pk


def test_share_ticket_joins_the_existing_community_of_that_group(wx_user):
    community = CommunityFactory(open_gid="G-2")
    user, client = wx_user
    response = client.post(
        "/api/v1/communities/join/share-ticket", share_ticket("G-2"), format="json"
    )
    assert response.status_code == 200
    assert response.json()["community"]["id"] == community.pk
    assert response.json()["membership"]["tier"] == "member"
    # Joining again is idempotent.
    client.post("/api/v1/communities/join/share-ticket", share_ticket("G-2"), format="json")
    assert Membership.objects.filter(community=community, user=user).count() == 1


def test_share_ticket_with_another_appid_is_refused_and_creates_nothing(wx_user):
    _user, client = wx_user
    response = client.post(
        "/api/v1/communities/join/share-ticket",
        share_ticket("G-3", appid="wx-someone-else"),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "wrong_appid"
    assert not Community.objects.exists()


def test_share_ticket_tampered_data_is_refused(wx_user):
    _user, client = wx_user
    data = share_ticket("G-4")
    data["encrypted_data"] = data["encrypted_data"][:-8] + "AAAAAAA="
    response = client.post("/api/v1/communities/join/share-ticket", data, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_encrypted_data"
    assert not Community.objects.exists()


def test_share_ticket_needs_fields(wx_user):
    _user, client = wx_user
    response = client.post("/api/v1/communities/join/share-ticket", {"iv": ["x"]}, format="json")
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {"encrypted_data", "iv"}


def test_invite_only_community_refuses_share_ticket(wx_user):
    CommunityFactory(open_gid="G-5", join_policy="invite")
    _user, client = wx_user
    response = client.post(
        "/api/v1/communities/join/share-ticket", share_ticket("G-5"), format="json"
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "invite_only"
    assert not Membership.objects.exists()


def test_approval_community_makes_pending_members_who_see_nothing(outsider):
    community = CommunityFactory(join_policy="approval")
    user, client = outsider
    response = client.post(
        "/api/v1/communities/join/invite", {"invite_code": community.invite_code}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["membership"]["status"] == "pending"
    assert client.get(f"/api/v1/communities/{community.pk}").status_code == 404
    mine = client.get("/api/v1/communities").json()["results"]
    assert [m["membership"]["status"] for m in mine] == ["pending"]


def test_join_by_invite_code(outsider, community):
    user, client = outsider
    response = client.post(
        "/api/v1/communities/join/invite", {"invite_code": community.invite_code}, format="json"
    )
    assert response.status_code == 200
    assert client.get(f"/api/v1/communities/{community.pk}").status_code == 200


def test_wrong_invite_code(outsider):
    _user, client = outsider
    response = client.post(
        "/api/v1/communities/join/invite", {"invite_code": "nope"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "invalid_invite_code"


def test_banned_member_cannot_rejoin(make_member, community):
    membership, client = make_member(status="banned")
    response = client.post(
        "/api/v1/communities/join/invite", {"invite_code": community.invite_code}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "banned"
    membership.refresh_from_db()
    assert membership.status == "banned"


def test_leave_and_rejoin(make_member, community):
    membership, client = make_member(tier="moderator")
    assert client.post(f"/api/v1/communities/{community.pk}/leave").status_code == 204
    membership.refresh_from_db()
    assert (membership.status, membership.tier) == ("left", "member")
    assert client.get(f"/api/v1/communities/{community.pk}").status_code == 404
    client.post(
        "/api/v1/communities/join/invite", {"invite_code": community.invite_code}, format="json"
    )
    membership.refresh_from_db()
    assert (membership.status, membership.tier) == ("active", "member")


def test_owner_cannot_leave(make_member, community):
    _membership, client = make_member(tier="owner")
    response = client.post(f"/api/v1/communities/{community.pk}/leave")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "owner_cannot_leave"


def test_accept_rules(make_member):
    community = CommunityFactory(rules_text="友善", rules_version=2)
    membership, client = make_member(community=community, rules_accepted_version=1)
    url = f"/api/v1/communities/{community.pk}/rules/accept"
    stale = client.post(url, {"version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["code"] == "rules_version_changed"
    response = client.post(url, {"version": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["rules_accepted"] is True
    assert client.post(url, {"version": "two"}, format="json").status_code == 400


def test_editing_rules_bumps_the_version(make_member, community, settings):
    settings.WECHAT_CONTENT_CHECK = False
    admin, client = make_member(tier="admin")
    member, _ = make_member()
    response = client.patch(
        f"/api/v1/communities/{community.pk}", {"rules_text": "新群规"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["rules_version"] == 1
    assert response.json()["membership"]["rules_accepted"] is True
    member.refresh_from_db()
    assert member.rules_accepted_version == 0


def test_my_communities_lists_only_mine(make_member, community):
    membership, client = make_member()
    MembershipFactory()  # someone else's community
    left = MembershipFactory(user=membership.user, status="left")
    body = client.get("/api/v1/communities").json()["results"]
    assert [item["community"]["id"] for item in body] == [community.pk]
    assert left.community_id not in str(body)


def test_detail_hides_invite_code_from_members(make_member, community):
    _m, member_client = make_member()
    _a, admin_client = make_member(tier="admin")
    url = f"/api/v1/communities/{community.pk}"
    assert member_client.get(url).json()["invite_code"] is None
    assert admin_client.get(url).json()["invite_code"] == community.invite_code
    assert admin_client.get(url).json()["member_count"] == 2


def test_regenerate_invite_code(make_member, community):
    _a, client = make_member(tier="admin")
    old = community.invite_code
    response = client.post(f"/api/v1/communities/{community.pk}/invite-code/regenerate")
    assert response.status_code == 200
    assert response.json()["invite_code"] != old
    outsider = client_for(UserFactory())
    join = outsider.post("/api/v1/communities/join/invite", {"invite_code": old}, format="json")
    assert join.status_code == 404


def test_share_code_image(make_member, community, wechat_server):
    _a, client = make_member(tier="admin")
    wechat_server.expect_request("/wxa/getwxacodeunlimit").respond_with_data(
        b"\xff\xd8jpeg-bytes", content_type="image/jpeg"
    )
    response = client.get(f"/api/v1/communities/{community.pk}/share-code")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8")


def test_my_communities_query_count_is_fixed(make_member, django_assert_num_queries):
    membership, client = make_member()
    for _ in range(5):
        hold(MembershipFactory(user=membership.user), "create_polls")
    hold(membership, "manage_events")
    # token + memberships with their communities + the roles each holds
    with django_assert_num_queries(3):
        body = client.get("/api/v1/communities").json()["results"]
    assert len(body) == 6
    assert all(len(item["membership"]["roles"]) == 1 for item in body)


def test_detail_query_count(make_member, community, django_assert_num_queries):
    membership, client = make_member()
    hold(membership, "create_polls")
    hold(membership, "manage_events")
    # token, membership + community, member count, my roles, the warning rule (activity is
    # written at most every 5 min)
    with django_assert_num_queries(5):
        response = client.get(f"/api/v1/communities/{community.pk}")
    assert response.status_code == 200
    assert len(response.json()["membership"]["roles"]) == 2
    assert "7" in response.json()["warning_rule_text"]
