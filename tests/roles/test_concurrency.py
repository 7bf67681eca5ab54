"""Holding a role under concurrency, on PostgreSQL with real threads and connections: a role's
``max_holders`` is never exceeded, and a member never holds one role twice."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from community.errors import Conflict
from roles import services
from roles.models import RoleAssignment
from roles.services.assignments import _assign
from tests.community.test_concurrency import run_in_threads
from tests.factories import CommunityFactory, MembershipFactory
from tests.roles.factories import RoleFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set DATABASE_URL)")


def _attempt(call):
    try:
        call()
        return "ok"
    except Conflict as exc:
        return exc.code


def test_parallel_assignments_never_exceed_max_holders():
    community = CommunityFactory()
    admin = MembershipFactory(community=community, tier="admin")
    role = RoleFactory(community=community, max_holders=2)
    members = [MembershipFactory(community=community) for _ in range(8)]
    results = run_in_threads(
        [
            lambda m=m: _attempt(
                lambda: services.assignment_create(actor=admin, role_id=role.pk, member_id=m.pk)
            )
            for m in members
        ]
    )
    assert sorted(results) == ["ok", "ok"] + ["role_full"] * 6
    assert RoleAssignment.objects.active().filter(role=role).count() == 2


def test_control_without_the_role_lock_the_seat_count_is_exceeded():
    """The same check-then-insert without the role's row lock lets more holders in: the lock
    is what keeps the promise."""
    community = CommunityFactory()
    role = RoleFactory(community=community, max_holders=1)
    members = [MembershipFactory(community=community) for _ in range(8)]
    barrier_results = []

    def unlocked(m):
        with transaction.atomic():
            _assign(actor=None, role=role, membership_id=m.pk, now=timezone.now())
            connection.cursor().execute("SELECT pg_sleep(0.2)")  # widen the window
        return "ok"

    for _attempt_round in range(3):  # a race: give it a few chances
        RoleAssignment.objects.filter(role=role).delete()
        barrier_results = run_in_threads(
            [lambda m=m: _attempt(lambda: unlocked(m)) for m in members]
        )
        if barrier_results.count("ok") > 1:
            break
    assert barrier_results.count("ok") > 1


def test_the_same_member_assigned_twice_at_once_holds_the_role_once():
    community = CommunityFactory()
    admins = [MembershipFactory(community=community, tier="admin") for _ in range(4)]
    role = RoleFactory(community=community)
    member = MembershipFactory(community=community)
    results = run_in_threads(
        [
            lambda a=a: _attempt(
                lambda: services.assignment_create(actor=a, role_id=role.pk, member_id=member.pk)
            )
            for a in admins
        ]
    )
    assert sorted(results) == ["already_holds_role"] * 3 + ["ok"]
    assert RoleAssignment.objects.filter(role=role, membership=member).count() == 1
