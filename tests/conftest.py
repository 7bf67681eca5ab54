"""Shared fixtures: factories, API clients signed in as a given member."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from community.models import Tier
from community.services.tokens import token_issue
from tests.factories import CommunityFactory, MembershipFactory, UserFactory


def client_for(user) -> APIClient:
    """An API client holding a real bearer token of ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).raw}")
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def community(db):
    return CommunityFactory()


@pytest.fixture
def make_member(db, community):
    """``make_member(tier="moderator", status="active", community=...)`` → (membership, client)."""

    def make(tier: str = Tier.MEMBER, status: str = "active", community=community, **kwargs):
        membership = MembershipFactory(community=community, tier=tier, status=status, **kwargs)
        return membership, client_for(membership.user)

    return make


@pytest.fixture
def member(make_member):
    return make_member()


@pytest.fixture
def outsider(db):
    """A signed-in user who belongs to no community."""
    user = UserFactory()
    return user, client_for(user)
