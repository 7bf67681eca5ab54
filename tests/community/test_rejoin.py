"""A sanction outlives leaving: muted members come back muted, banned members cannot come back.

Over HTTP, by invite code and by share card (the two ways back in). The symptom these tests
pin: a muted member left and re-joined with the invite code and could vote again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.errors import NotFound
from community.models import Membership, WeChatSession
from community.services.communities import community_leave
from polls import services as polls_services
from tests.community.test_communities import SESSION_KEY, share_ticket
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _mute(community, target: Membership) -> None:
    moderator = MembershipFactory(community=community, tier="moderator")
    response = client_for(moderator.user).post(
        f"/api/v1/communities/{community.pk}/members/{target.pk}/mute"
    )
    assert response.status_code == 200, response.content


def _open_poll(community):
    author = MembershipFactory(community=community, tier="moderator")
    return polls_services.poll_create(
        actor=author,
        title="周末去哪",
        kind="single",
        options=[{"label": "爬山"}, {"label": "桌游"}],
        closes_at=timezone.now() + timedelta(days=1),
    )


def _join_by_invite(client, community):
    return client.post(
        "/api/v1/communities/join/invite", {"invite_code": community.invite_code}, format="json"
    )


def _join_by_share_card(client, community):
    return client.post(
        "/api/v1/communities/join/share-ticket", share_ticket(community.open_gid), format="json"
    )


@pytest.mark.parametrize("join", [_join_by_invite, _join_by_share_card], ids=["invite", "share"])
def test_muted_member_who_leaves_and_rejoins_comes_back_muted(join, settings):
    settings.WECHAT_CONTENT_CHECK = False  # unreachable WeChat would hold the poll (404 by id)
    community = CommunityFactory(open_gid="G-rejoin")
    poll = _open_poll(community)
    membership = MembershipFactory(community=community)
    WeChatSession.objects.create(user=membership.user, session_key=SESSION_KEY)
    client = client_for(membership.user)
    _mute(community, membership)

    assert client.post(f"/api/v1/communities/{community.pk}/leave").status_code == 204
    membership.refresh_from_db()
    assert membership.status == "left"
    response = join(client, community)
    assert response.status_code == 200, response.content
    assert response.json()["membership"]["status"] == "muted"
    membership.refresh_from_db()
    assert membership.status == "muted"

    ballot = client.put(
        f"/api/v1/polls/{poll.pk}/ballot",
        {"option_ids": [poll.option_order[0]]},
        format="json",
    )
    assert ballot.status_code == 403, ballot.content
    assert ballot.json()["errors"][0]["code"] == "muted"
    poll.refresh_from_db()
    assert poll.voter_count == 0


def test_a_restored_member_comes_back_active():
    """The control: once a moderator lifts the mute, leaving and coming back is a fresh start."""
    community = CommunityFactory()
    membership = MembershipFactory(community=community)
    client = client_for(membership.user)
    _mute(community, membership)
    restorer = MembershipFactory(community=community, tier="admin")
    restore = client_for(restorer.user).post(
        f"/api/v1/communities/{community.pk}/members/{membership.pk}/restore"
    )
    assert restore.status_code == 200, restore.content

    assert client.post(f"/api/v1/communities/{community.pk}/leave").status_code == 204
    response = _join_by_invite(client, community)
    assert response.json()["membership"]["status"] == "active"


def test_muted_member_rejoining_an_approval_community_is_muted_once_approved():
    community = CommunityFactory(join_policy="approval")
    membership = MembershipFactory(community=community)
    client = client_for(membership.user)
    _mute(community, membership)
    assert client.post(f"/api/v1/communities/{community.pk}/leave").status_code == 204

    assert _join_by_invite(client, community).json()["membership"]["status"] == "pending"
    moderator = MembershipFactory(community=community, tier="moderator")
    approve = client_for(moderator.user).post(
        f"/api/v1/communities/{community.pk}/members/{membership.pk}/approve"
    )
    assert approve.status_code == 200, approve.content
    membership.refresh_from_db()
    assert membership.status == "muted"


def test_banned_member_cannot_rejoin_by_share_card():
    community = CommunityFactory(open_gid="G-banned")
    membership = MembershipFactory(community=community, status="banned")
    WeChatSession.objects.create(user=membership.user, session_key=SESSION_KEY)
    response = _join_by_share_card(client_for(membership.user), community)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "banned"
    membership.refresh_from_db()
    assert membership.status == "banned"


def test_banned_member_cannot_leave_to_shed_the_ban():
    """Called directly with a stale copy (as a leave racing a ban would hold): the ban wins."""
    community = CommunityFactory()
    membership = MembershipFactory(community=community)
    Membership.objects.filter(pk=membership.pk).update(status="banned")
    with pytest.raises(NotFound):
        community_leave(membership=membership)
    membership.refresh_from_db()
    assert membership.status == "banned"
    assert _join_by_invite(client_for(membership.user), community).status_code == 403


def test_leaving_twice_is_a_no_op():
    membership = MembershipFactory()
    community_leave(membership=membership)
    community_leave(membership=membership)
    membership.refresh_from_db()
    assert membership.status == "left"
