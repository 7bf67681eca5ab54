"""Roles and terms: rules of the services, and the invariants the database keeps behind them
(each on both paths: the service's clear error, and the constraint when the service is
bypassed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.models import Community
from community.services.communities import community_create
from roles import services
from roles.models import EndReason, Role, RoleAssignment, RoleVolunteer
from tests.factories import MembershipFactory, UserFactory
from tests.roles.factories import RoleFactory, hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_member):
    return make_member(tier="admin")[0]


@pytest.fixture
def role(community):
    return RoleFactory(community=community, name="活动策划", capabilities=["manage_events"])


# --- suggested roles ------------------------------------------------------------------------
def test_a_new_community_starts_with_the_suggested_roles_it_may_edit_and_delete():
    owner = UserFactory()
    community = community_create(community=Community(name="新群"), owner=owner)
    roles = {r.name: r for r in Role.objects.filter(community=community)}
    assert set(roles) == {"内容整理", "活动策划", "新人欢迎", "秩序维护"}
    assert "manage_events" in roles["活动策划"].capabilities
    assert roles["新人欢迎"].capabilities == ["approve_joins", "welcome_newcomers"]
    actor = community.memberships.get(user=owner)
    services.role_update(actor=actor, role_id=roles["内容整理"].pk, name="每日资讯")
    services.role_delete(actor=actor, role_id=roles["秩序维护"].pk)
    live = Role.objects.filter(community=community, deleted_at__isnull=True)
    assert set(live.values_list("name", flat=True)) == {"每日资讯", "活动策划", "新人欢迎"}


# --- defining roles -------------------------------------------------------------------------
def test_only_admin_tiers_define_roles(make_member):
    moderator, _ = make_member(tier="moderator")
    with pytest.raises(Forbidden):
        services.role_create(actor=moderator, name="摄影")


def test_unknown_capability_is_refused_on_its_field(admin):
    with pytest.raises(DomainError) as exc:
        services.role_create(actor=admin, name="摄影", capabilities=["change_tiers"])
    assert (exc.value.code, exc.value.field) == ("unknown_capability", "capabilities")


def test_role_name_is_unique_among_live_roles_of_a_community(admin, role):
    with pytest.raises(Conflict) as exc:
        services.role_create(actor=admin, name="活动策划")
    assert exc.value.code == "role_name_taken"
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(community=role.community, name="活动策划")
    # Another community, or after deletion: free again.
    RoleFactory(name="活动策划")
    services.role_delete(actor=admin, role_id=role.pk)
    assert services.role_create(actor=admin, name="活动策划").pk != role.pk


def test_max_holders_below_one_is_refused_by_the_database(community):
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(community=community, name="x", max_holders=0)


def test_lowering_max_holders_below_the_holders_is_refused(admin, role, make_member):
    for _ in range(2):
        hold(make_member()[0], role=role)
    with pytest.raises(Conflict) as exc:
        services.role_update(actor=admin, role_id=role.pk, max_holders=1)
    assert exc.value.code == "too_many_holders"


def test_other_communities_roles_are_not_found(admin):
    other = RoleFactory()
    with pytest.raises(NotFound):
        services.role_update(actor=admin, role_id=other.pk, name="x")
    with pytest.raises(NotFound):
        services.assignment_create(actor=admin, role_id=other.pk, member_id=admin.pk)


# --- assignments ----------------------------------------------------------------------------
def test_assignment_starts_a_term_of_the_role_length(admin, role, make_member):
    member, _ = make_member()
    assignment = services.assignment_create(actor=admin, role_id=role.pk, member_id=member.pk)
    assert assignment.is_active()
    assert assignment.assigned_by_id == admin.pk
    length = assignment.term_ends_at - assignment.starts_at
    assert length == timedelta(days=role.term_days)


def test_one_open_assignment_per_member_and_role(admin, role, make_member):
    member, _ = make_member()
    services.assignment_create(actor=admin, role_id=role.pk, member_id=member.pk)
    with pytest.raises(Conflict) as exc:
        services.assignment_create(actor=admin, role_id=role.pk, member_id=member.pk)
    assert exc.value.code == "already_holds_role"
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(community=role.community, role=role, membership=member)


def test_an_ended_term_needs_a_reason_in_the_database(role, make_member):
    assignment = hold(make_member()[0], role=role)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.filter(pk=assignment.pk).update(ended_at=timezone.now())


def test_a_full_role_refuses_another_holder(admin, community, make_member):
    role = RoleFactory(community=community, max_holders=1)
    first, second = make_member()[0], make_member()[0]
    services.assignment_create(actor=admin, role_id=role.pk, member_id=first.pk)
    with pytest.raises(Conflict) as exc:
        services.assignment_create(actor=admin, role_id=role.pk, member_id=second.pk)
    assert exc.value.code == "role_full"


def test_a_term_that_ran_out_frees_its_seat_and_may_be_given_again(admin, community, make_member):
    role = RoleFactory(community=community, max_holders=1)
    member = make_member()[0]
    old = hold(
        member,
        role=role,
        starts_at=timezone.now() - timedelta(days=40),
        term_ends_at=timezone.now() - timedelta(days=10),
    )
    new = services.assignment_create(actor=admin, role_id=role.pk, member_id=member.pk)
    old.refresh_from_db()
    assert (old.end_reason, old.ended_at) == (EndReason.TERM_EXPIRED, old.term_ends_at)
    assert new.is_active()


def test_only_active_members_hold_roles(admin, role, make_member):
    muted, _ = make_member(status="muted")
    with pytest.raises(Conflict) as exc:
        services.assignment_create(actor=admin, role_id=role.pk, member_id=muted.pk)
    assert exc.value.code == "not_active_member"
    with pytest.raises(NotFound):
        services.assignment_create(actor=admin, role_id=role.pk, member_id=MembershipFactory().pk)


def test_ending_keeps_the_term_as_history(admin, role, make_member):
    assignment = hold(make_member()[0], role=role)
    services.assignment_end(actor=admin, assignment_id=assignment.pk)
    assignment.refresh_from_db()
    assert assignment.end_reason == EndReason.ENDED
    assert assignment.ended_by_id == admin.pk
    with pytest.raises(Conflict) as exc:
        services.assignment_end(actor=admin, assignment_id=assignment.pk)
    assert exc.value.code == "assignment_ended"
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_renewal_chains_a_new_term_after_the_old_end(admin, role, make_member):
    assignment = hold(make_member()[0], role=role, term_ends_at=timezone.now() + timedelta(days=3))
    renewed = services.assignment_renew(actor=admin, assignment_id=assignment.pk)
    assignment.refresh_from_db()
    assert assignment.end_reason == EndReason.RENEWED
    assert renewed.renewed_from_id == assignment.pk
    assert renewed.term_ends_at == assignment.term_ends_at + timedelta(days=role.term_days)
    assert renewed.is_active()
    with pytest.raises(Conflict) as exc:  # the old term is no longer the latest
        services.assignment_renew(actor=admin, assignment_id=assignment.pk)
    assert exc.value.code == "not_renewable"


def test_renewing_a_term_that_ran_out_starts_from_now(admin, role, make_member):
    assignment = hold(
        make_member()[0],
        role=role,
        starts_at=timezone.now() - timedelta(days=40),
        term_ends_at=timezone.now() - timedelta(days=1),
    )
    before = timezone.now()
    renewed = services.assignment_renew(actor=admin, assignment_id=assignment.pk)
    assignment.refresh_from_db()
    assert assignment.end_reason == EndReason.TERM_EXPIRED
    assert renewed.term_ends_at >= before + timedelta(days=role.term_days)


def test_a_role_without_a_term_length_cannot_be_renewed(admin, community, make_member):
    role = RoleFactory(community=community, term_days=None)
    assignment = hold(make_member()[0], role=role)
    with pytest.raises(Conflict) as exc:
        services.assignment_renew(actor=admin, assignment_id=assignment.pk)
    assert exc.value.code == "not_renewable"


def test_deleting_a_role_ends_its_terms_and_keeps_them(admin, role, make_member):
    assignment = hold(make_member()[0], role=role)
    services.role_delete(actor=admin, role_id=role.pk)
    assignment.refresh_from_db()
    assert assignment.end_reason == EndReason.ROLE_DELETED
    assert Role.objects.filter(pk=role.pk).exists()


def test_a_banned_member_loses_their_roles(make_member, role):
    moderator, _ = make_member(tier="moderator")
    target = make_member()[0]
    assignment = hold(target, role=role)
    from community.services.communities import membership_ban

    membership_ban(actor=moderator, target_id=target.pk)
    assignment.refresh_from_db()
    assert assignment.end_reason == EndReason.LEFT


# --- volunteering ---------------------------------------------------------------------------
def test_volunteer_then_approve_starts_a_term(admin, role, make_member):
    member, _ = make_member()
    offer = services.volunteer_create(membership=member, role_id=role.pk, message="我有经验")
    again = services.volunteer_create(membership=member, role_id=role.pk)
    assert again.pk == offer.pk  # idempotent while it waits
    approved = services.volunteer_approve(actor=admin, volunteer_id=offer.pk)
    assert approved.status == "approved"
    assert approved.assignment.is_active()
    with pytest.raises(Conflict) as exc:
        services.volunteer_refuse(actor=admin, volunteer_id=offer.pk)
    assert exc.value.code == "volunteer_decided"
    with pytest.raises(Conflict) as exc:
        services.volunteer_create(membership=member, role_id=role.pk)
    assert exc.value.code == "already_holds_role"


def test_refused_offer_stays_and_a_new_one_may_follow(admin, role, make_member):
    member, _ = make_member()
    offer = services.volunteer_create(membership=member, role_id=role.pk)
    services.volunteer_refuse(actor=admin, volunteer_id=offer.pk)
    second = services.volunteer_create(membership=member, role_id=role.pk)
    assert second.pk != offer.pk
    assert RoleVolunteer.objects.filter(role=role, membership=member).count() == 2


def test_one_pending_offer_per_member_and_role_in_the_database(role, make_member):
    member, _ = make_member()
    RoleVolunteer.objects.create(community=role.community, role=role, membership=member)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleVolunteer.objects.create(community=role.community, role=role, membership=member)


def test_approving_an_offer_for_a_full_role_is_refused(admin, community, make_member):
    role = RoleFactory(community=community, max_holders=1)
    hold(make_member()[0], role=role)
    offer = services.volunteer_create(membership=make_member()[0], role_id=role.pk)
    with pytest.raises(Conflict) as exc:
        services.volunteer_approve(actor=admin, volunteer_id=offer.pk)
    assert exc.value.code == "role_full"
    offer.refresh_from_db()
    assert offer.status == "pending"


def test_assigning_answers_the_members_waiting_offer(admin, role, make_member):
    member, _ = make_member()
    offer = services.volunteer_create(membership=member, role_id=role.pk)
    assignment = services.assignment_create(actor=admin, role_id=role.pk, member_id=member.pk)
    offer.refresh_from_db()
    assert (offer.status, offer.assignment_id) == ("approved", assignment.pk)


def test_a_risky_role_name_is_refused_before_anything_is_saved(admin, settings, wechat_server):
    settings.WECHAT_CONTENT_CHECK = True
    wechat_server.expect_request("/wxa/msg_sec_check", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "risky", "label": 20001}}
    )
    with pytest.raises(DomainError) as exc:
        services.role_create(actor=admin, name="加微信领红包")
    assert exc.value.code == "content_risky"
    assert not Role.objects.filter(name="加微信领红包").exists()
