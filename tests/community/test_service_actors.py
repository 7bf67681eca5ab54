"""Services check their actor themselves: called directly (as a task, a script or a careless
view would), a too-low actor is refused and nothing changes."""

from __future__ import annotations

import pytest

from community.errors import Forbidden, NotFound
from community.models import Membership
from community.services.communities import community_accept_rules, community_regenerate_invite
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("tier", "status", "error", "code"),
    [
        ("member", "active", Forbidden, "tier_too_low"),
        ("moderator", "active", Forbidden, "tier_too_low"),
        ("admin", "muted", Forbidden, "muted"),
        ("admin", "left", NotFound, "not_found"),
    ],
)
def test_regenerate_invite_refuses_a_too_low_actor(tier, status, error, code):
    community = CommunityFactory()
    old = community.invite_code
    actor = MembershipFactory(community=community, tier=tier, status=status)
    with pytest.raises(error) as refused:
        community_regenerate_invite(actor=actor)
    assert refused.value.code == code
    community.refresh_from_db()
    assert community.invite_code == old


def test_regenerate_invite_by_an_admin():
    """The control: the same call with an admin replaces the code."""
    community = CommunityFactory()
    old = community.invite_code
    community_regenerate_invite(actor=MembershipFactory(community=community, tier="admin"))
    community.refresh_from_db()
    assert community.invite_code != old


def test_accept_rules_needs_a_member_who_sees_the_community():
    community = CommunityFactory(rules_text="友善", rules_version=1)
    left = MembershipFactory(community=community, status="left", rules_accepted_version=0)
    with pytest.raises(NotFound):
        community_accept_rules(membership=left, version=1)
    assert Membership.objects.get(pk=left.pk).rules_accepted_version == 0
