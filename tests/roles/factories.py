"""factory_boy factories of roles (next to the tests that use them)."""

from __future__ import annotations

import factory

from roles.models import Role, RoleAssignment
from tests.factories import CommunityFactory


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"角色{n}")
    capabilities: list[str] = []
    max_holders = None
    term_days = 30


def hold(membership, *capabilities: str, role: Role | None = None, **fields) -> RoleAssignment:
    """Give ``membership`` an active term of ``role`` (a new role with ``capabilities`` when
    none is given), straight in the database."""
    if role is None:
        role = RoleFactory(community=membership.community, capabilities=list(capabilities))
    return RoleAssignment.objects.create(
        community=membership.community, role=role, membership=membership, **fields
    )
