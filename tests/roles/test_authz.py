"""Roles change what members may do: through ``community.authz`` only, and never beyond it.

A member holding an active role may do exactly the actions its capabilities map to
(``authz.CAPABILITY_ACTIONS``); a term past its end, an ended term, a deleted role or a role
of another community grants nothing, and no role ever opens ``MANAGE``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community import authz
from community.authz import CAPABILITY_ACTIONS, Action, can
from community.errors import Forbidden
from roles import services
from roles.capabilities import Capability
from tests.factories import MembershipFactory
from tests.roles.factories import RoleFactory, hold

pytestmark = pytest.mark.django_db

TIER_FLOOR_ABOVE_MEMBER = [a for a in Action if authz._MIN_TIER[a] != "member"]


@pytest.fixture
def member(make_member):
    """An ordinary member (tier ``member``) of the test community."""
    return make_member()[0]


def _fresh(membership):
    """The membership as a request would load it (nothing cached)."""
    return type(membership).objects.select_related("community").get(pk=membership.pk)


@pytest.mark.parametrize("capability", list(Capability), ids=str)
def test_a_role_grants_exactly_the_actions_of_its_capability(member, capability):
    hold(member, capability)
    member = _fresh(member)
    granted = {a for a in TIER_FLOOR_ABOVE_MEMBER if can(member, a)}
    assert granted == set(CAPABILITY_ACTIONS[capability])


def test_without_a_role_a_member_gets_none_of_them(member):
    member = _fresh(member)
    assert {a for a in TIER_FLOOR_ABOVE_MEMBER if can(member, a)} == set()


def test_no_role_grants_manage_or_manage_roles(member):
    hold(member, *list(Capability))
    member = _fresh(member)
    assert not can(member, Action.MANAGE)
    assert not can(member, Action.MANAGE_ROLES)
    assert not can(member, Action.MODERATE)  # mute/ban stay with the tiers


def test_the_catalogue_check_refuses_a_capability_that_would_change_tiers(monkeypatch):
    monkeypatch.setitem(
        authz.CAPABILITY_ACTIONS, Capability.CREATE_POLLS, frozenset({Action.MANAGE})
    )
    with pytest.raises(AssertionError, match="must not open"):
        authz._check_capability_actions()


def test_the_catalogue_check_refuses_an_action_above_the_admin_tier(monkeypatch):
    monkeypatch.setitem(authz._MIN_TIER, Action.MANAGE_BOARDS, "owner")
    with pytest.raises(AssertionError, match="above the admin tier"):
        authz._check_capability_actions()


def test_a_term_past_its_end_grants_nothing_before_any_sweep(member):
    assignment = hold(member, Capability.CREATE_POLLS)
    assert can(_fresh(member), Action.CREATE_POLL)
    # The clock passes the end; no job ran, the row is still open.
    type(assignment).objects.filter(pk=assignment.pk).update(
        starts_at=timezone.now() - timedelta(days=31),
        term_ends_at=timezone.now() - timedelta(seconds=1),
    )
    assignment.refresh_from_db()
    assert assignment.ended_at is None
    assert not can(_fresh(member), Action.CREATE_POLL)


def test_an_ended_term_grants_nothing(member, make_member):
    admin, _ = make_member(tier="admin")
    assignment = hold(member, Capability.CREATE_POLLS)
    services.assignment_end(actor=admin, assignment_id=assignment.pk)
    assert not can(_fresh(member), Action.CREATE_POLL)


def test_a_deleted_role_grants_nothing(member, make_member):
    admin, _ = make_member(tier="admin")
    assignment = hold(member, Capability.CREATE_POLLS)
    services.role_delete(actor=admin, role_id=assignment.role_id)
    assert not can(_fresh(member), Action.CREATE_POLL)


def test_a_role_in_one_community_grants_nothing_in_another(member):
    hold(member, Capability.CREATE_POLLS)
    elsewhere = MembershipFactory(user=member.user)
    assert can(_fresh(member), Action.CREATE_POLL)
    assert not can(_fresh(elsewhere), Action.CREATE_POLL)


def test_a_muted_holder_is_still_refused(member):
    hold(member, Capability.CREATE_POLLS)
    type(member).objects.filter(pk=member.pk).update(status="muted")
    with pytest.raises(Forbidden) as exc:
        authz.ensure(_fresh(member), Action.CREATE_POLL)
    assert exc.value.code == "muted"


def test_a_holder_who_has_not_accepted_the_rules_is_refused(member):
    hold(member, Capability.CREATE_POLLS)
    type(member.community).objects.filter(pk=member.community_id).update(rules_version=3)
    with pytest.raises(Forbidden) as exc:
        authz.ensure(_fresh(member), Action.CREATE_POLL)
    assert exc.value.code == "rules_not_accepted"


def test_a_member_who_leaves_loses_their_roles_for_good(member):
    from community.services.communities import community_join_by_invite, community_leave

    assignment = hold(member, Capability.CREATE_POLLS)
    community_leave(membership=member)
    assignment.refresh_from_db()
    assert (assignment.end_reason, assignment.ended_at is not None) == ("left", True)
    back = community_join_by_invite(user=member.user, invite_code=member.community.invite_code)
    assert not can(_fresh(back), Action.CREATE_POLL)


# --- cost: the lookup runs on every permission check ---------------------------------------
def test_tier_checks_and_reads_cost_no_query(make_member, django_assert_num_queries):
    admin, _ = make_member(tier="admin")
    member, _ = make_member()
    admin, member = _fresh(admin), _fresh(member)
    with django_assert_num_queries(0):
        for action in Action:
            can(admin, action)
        can(member, Action.VIEW)
        can(member, Action.PARTICIPATE)
        can(member, Action.MODERATE)  # no capability opens it: not looked up
        can(member, Action.MANAGE)


def test_role_capabilities_are_read_once_per_membership(member, django_assert_num_queries):
    for capability in Capability:
        hold(member, capability)
    member = _fresh(member)
    with django_assert_num_queries(1):
        results = [can(member, action) for action in Action for _ in range(3)]
    assert sum(results) > 0
    with django_assert_num_queries(0):
        assert can(member, Action.MANAGE_EVENT)


def test_the_lookup_does_not_grow_with_roles_held(member, django_assert_num_queries):
    hold(member, Capability.CREATE_POLLS)
    with django_assert_num_queries(1):
        assert can(_fresh_no_query(member), Action.CREATE_POLL)
    for _ in range(10):
        hold(member, Capability.MANAGE_EVENTS, role=RoleFactory(community=member.community))
    with django_assert_num_queries(1):
        assert can(_fresh_no_query(member), Action.CREATE_POLL)


def _fresh_no_query(membership):
    """A copy of ``membership`` without its cached capabilities (no query)."""
    copy = type(membership)(
        **{f.attname: getattr(membership, f.attname) for f in membership._meta.concrete_fields}
    )
    copy.community = membership.community
    return copy


def test_the_manage_events_capability_runs_every_event_of_the_community(member):
    """A member holding "manage events" creates full events and runs events they did not
    create, exactly as a moderator would; without the role they cannot."""
    from events.models import Event

    other = Event(community_id=member.community_id, author_id=None, title="x")
    assert not can(member, Action.CREATE_EVENT)
    assert not can(member, Action.MANAGE_EVENT, obj=other)
    hold(member, Capability.MANAGE_EVENTS)
    member = _fresh(member)
    for action in (Action.CREATE_EVENT, Action.CREATE_QUICK_EVENT, Action.SEE_EVENT_ATTENDEES):
        assert can(member, action)
    assert can(member, Action.MANAGE_EVENT, obj=other)
