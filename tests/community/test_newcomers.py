"""Newcomers: the welcome on join exactly once per membership (leaving and coming back does
not welcome again), after approval in an approval community, the newcomers of the week for
the welcome role, and the first-week check-in exactly once (the job run twice)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Membership, Notification
from community.services.communities import (
    community_join_by_invite,
    community_leave,
    membership_approve,
)
from community.services.newcomers import newcomers_check_in_due
from roles.models import Role, RoleAssignment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def welcomes(user):
    return Notification.objects.filter(kind="newcomer_welcome", recipient=user).count()


def test_welcome_once_per_membership(community):
    user = UserFactory()
    membership = community_join_by_invite(user=user, invite_code=community.invite_code)
    assert welcomes(user) == 1
    community_leave(membership=membership)
    community_join_by_invite(user=user, invite_code=community.invite_code)
    assert welcomes(user) == 1


def test_approval_community_welcomes_on_approval_only(community, make_member):
    community.join_policy = "approval"
    community.save()
    user = UserFactory()
    pending = community_join_by_invite(user=user, invite_code=community.invite_code)
    assert welcomes(user) == 0
    mod, _ = make_member(tier="moderator")
    membership_approve(actor=mod, target_id=pending.pk)
    assert welcomes(user) == 1


def test_newcomers_of_the_week_for_the_welcome_role(community, make_member):
    old, _ = make_member(joined_at=timezone.now() - timedelta(days=10))
    new, _ = make_member()
    welcomer, client = make_member()
    url = f"/api/v1/communities/{community.pk}/newcomers"
    assert client.get(url).status_code == 403
    role = Role.objects.create(
        community=community, name="新人欢迎", capabilities=["welcome_newcomers"]
    )
    RoleAssignment.objects.create(community=community, role=role, membership=welcomer)
    r = client.get(url)
    assert r.status_code == 200, r.content
    ids = [m["id"] for m in r.json()["results"]]
    assert new.pk in ids and old.pk not in ids


def test_first_week_check_in_once_about_three_days_after_joining(community):
    user = UserFactory()
    membership = community_join_by_invite(user=user, invite_code=community.invite_code)
    joined = Membership.objects.get(pk=membership.pk).joined_at
    assert newcomers_check_in_due(now=joined + timedelta(days=2)) == 0
    at = joined + timedelta(days=3, minutes=5)
    assert newcomers_check_in_due(now=at) == 1
    assert newcomers_check_in_due(now=at) == 0
    assert newcomers_check_in_due(now=at + timedelta(days=1)) == 0
    assert Notification.objects.filter(kind="newcomer_check_in", recipient=user).count() == 1
    assert newcomers_check_in_due(now=joined + timedelta(days=8)) == 0
