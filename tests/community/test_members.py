"""Member list and moderation: tiers, mute, ban, approve, restore."""

from __future__ import annotations

import pytest

from community.models import AuthToken, Membership
from tests.roles.factories import hold

pytestmark = pytest.mark.django_db


def url(community, membership=None, action=""):
    base = f"/api/v1/communities/{community.pk}/members"
    return f"{base}/{membership.pk}/{action}" if membership else base


def test_member_list_search_and_pagination(make_member, community):
    viewer, client = make_member()
    for nickname in ["阿强", "阿珍", "小明"]:
        make_member(user__nickname=nickname)
    body = client.get(url(community), {"search": "阿"}).json()
    assert body["count"] == 2
    assert {m["user"]["nickname"] for m in body["results"]} == {"阿强", "阿珍"}
    page = client.get(url(community), {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]


def test_member_list_hides_pending_and_banned_from_members(make_member, community):
    _viewer, client = make_member()
    _mod, mod_client = make_member(tier="moderator")
    make_member(status="banned")
    make_member(status="pending")
    statuses = {m["status"] for m in client.get(url(community)).json()["results"]}
    assert statuses == {"active"}
    pending = mod_client.get(url(community), {"status": "pending"}).json()
    assert [m["status"] for m in pending["results"]] == ["pending"]
    assert client.get(url(community), {"status": "nonsense"}).status_code == 400


def test_member_list_query_count_does_not_grow(make_member, community, django_assert_num_queries):
    _viewer, client = make_member()
    for _ in range(3):
        make_member()
    # auth token, membership, count, page, the roles of the page's members
    with django_assert_num_queries(5):
        assert client.get(url(community)).status_code == 200
    for _ in range(10):
        hold(make_member()[0], "create_polls")
    with django_assert_num_queries(5):
        body = client.get(url(community)).json()
    assert sum(len(m["roles"]) for m in body["results"]) == 10


def test_admin_promotes_member_to_moderator(make_member, community):
    _admin, client = make_member(tier="admin")
    target, _ = make_member()
    response = client.post(url(community, target, "tier"), {"tier": "moderator"}, format="json")
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.tier == "moderator"


def test_admin_cannot_make_admins_or_touch_peers(make_member, community):
    _admin, client = make_member(tier="admin")
    target, _ = make_member()
    peer, _ = make_member(tier="admin")
    assert (
        client.post(url(community, target, "tier"), {"tier": "admin"}, format="json").status_code
        == 403
    )
    assert (
        client.post(url(community, peer, "tier"), {"tier": "member"}, format="json").status_code
        == 403
    )
    target.refresh_from_db()
    peer.refresh_from_db()
    assert (target.tier, peer.tier) == ("member", "admin")


def test_owner_hands_over_ownership(make_member, community):
    owner, client = make_member(tier="owner")
    target, _ = make_member(tier="admin")
    response = client.post(url(community, target, "tier"), {"tier": "owner"}, format="json")
    assert response.status_code == 200
    owner.refresh_from_db()
    target.refresh_from_db()
    assert (owner.tier, target.tier) == ("admin", "owner")


def test_unknown_tier_is_a_validation_error(make_member, community):
    _owner, client = make_member(tier="owner")
    target, _ = make_member()
    response = client.post(url(community, target, "tier"), {"tier": "king"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "tier"


def test_moderator_mutes_and_restores(make_member, community):
    _mod, client = make_member(tier="moderator")
    target, target_client = make_member()
    assert client.post(url(community, target, "mute")).status_code == 200
    target.refresh_from_db()
    assert target.status == "muted"
    # Muted: can still read, cannot change things.
    assert target_client.get(f"/api/v1/communities/{community.pk}").status_code == 200
    assert client.post(url(community, target, "mute")).status_code == 409
    assert client.post(url(community, target, "restore")).status_code == 200
    target.refresh_from_db()
    assert target.status == "active"


def test_ban_revokes_tokens_and_hides_the_community(make_member, community):
    _mod, client = make_member(tier="moderator")
    target, target_client = make_member()
    assert client.post(url(community, target, "ban")).status_code == 200
    assert not AuthToken.objects.filter(user=target.user, revoked_at__isnull=True).exists()
    assert target_client.get(f"/api/v1/communities/{community.pk}").status_code == 401


def test_moderator_cannot_ban_a_moderator_or_themselves(make_member, community):
    mod, client = make_member(tier="moderator")
    other, _ = make_member(tier="moderator")
    assert client.post(url(community, other, "ban")).status_code == 403
    response = client.post(url(community, mod, "ban"))
    assert response.status_code == 403
    assert Membership.objects.filter(status="banned").count() == 0


def test_approve_pending(make_member, community):
    _mod, client = make_member(tier="moderator")
    pending, _ = make_member(status="pending")
    active, _ = make_member()
    assert client.post(url(community, pending, "approve")).status_code == 200
    assert client.post(url(community, active, "approve")).status_code == 409
    pending.refresh_from_db()
    assert pending.status == "active"


def test_member_of_another_community_is_404(make_member, community):
    from tests.factories import MembershipFactory

    _mod, client = make_member(tier="owner")
    stranger = MembershipFactory()
    response = client.post(url(community, stranger, "mute"))
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == "active"
