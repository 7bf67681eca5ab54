"""Roles over HTTP: the community page lists who holds what, admins define and assign,
members volunteer, profiles show roles; errors in the one shape, other communities 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from roles.models import Role, RoleAssignment
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.roles.factories import RoleFactory, hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_member):
    return make_member(tier="admin")


@pytest.fixture
def role(community):
    return RoleFactory(
        community=community, name="活动策划", capabilities=["manage_events"], max_holders=2
    )


def roles_url(community):
    return f"/api/v1/communities/{community.pk}/roles"


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] in {"client_error", "validation_error"}
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["detail"]


def test_members_see_roles_with_their_holders(make_member, community, role):
    holder, _ = make_member(user__nickname="小李")
    hold(holder, role=role)
    expired, _ = make_member()
    hold(
        expired,
        role=role,
        starts_at=timezone.now() - timedelta(days=40),
        term_ends_at=timezone.now() - timedelta(days=1),
    )
    _m, client = make_member()
    body = client.get(roles_url(community)).json()
    [card] = body["results"]
    assert card["name"] == "活动策划"
    assert card["capabilities"] == ["manage_events"]
    assert [h["member"]["user"]["nickname"] for h in card["holders"]] == ["小李"]
    assert card["holder_count"] == 1
    assert card["my_assignment_id"] is None
    mine = client_for(holder.user).get(roles_url(community)).json()["results"][0]
    assert mine["my_assignment_id"] == card["holders"][0]["assignment_id"]


def test_role_list_query_count_does_not_grow(make_member, community, django_assert_num_queries):
    _m, client = make_member()
    roles = [RoleFactory(community=community) for _ in range(2)]
    hold(make_member()[0], role=roles[0])
    # token, membership, roles page, holders of the page, my pending offers
    with django_assert_num_queries(5):
        assert client.get(roles_url(community)).status_code == 200
    for _ in range(5):
        role = RoleFactory(community=community)
        for _ in range(3):
            hold(make_member()[0], role=role)
    with django_assert_num_queries(5):
        body = client.get(roles_url(community)).json()
    assert sum(r["holder_count"] for r in body["results"]) == 16


def test_admin_creates_edits_and_deletes_a_role(admin, community):
    _a, client = admin
    created = client.post(
        roles_url(community),
        {"name": "摄影", "capabilities": ["create_polls"], "term_days": 30},
        format="json",
    )
    assert created.status_code == 201, created.content
    role_id = created.json()["id"]
    edited = client.patch(
        f"/api/v1/roles/{role_id}", {"max_holders": 1, "description": "拍照"}, format="json"
    )
    assert edited.status_code == 200
    assert (edited.json()["max_holders"], edited.json()["description"]) == (1, "拍照")
    assert client.delete(f"/api/v1/roles/{role_id}").status_code == 204
    assert client.get(f"/api/v1/roles/{role_id}").status_code == 404
    assert Role.objects.filter(pk=role_id, deleted_at__isnull=False).exists()


def test_bad_role_input_answers_400_on_its_field(admin, community):
    _a, client = admin
    response = client.post(
        roles_url(community), {"name": "x", "capabilities": ["change_tiers"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"].startswith("capabilities")
    _error(client.post(roles_url(community), {"name": "x", "max_holders": 0}, format="json"),
           400, "min_value")  # fmt: skip


@pytest.mark.parametrize("tier", ["member", "moderator"])
def test_only_admin_tiers_manage_roles(make_member, community, role, tier):
    target, _ = make_member()
    _m, client = make_member(tier=tier)
    _error(client.post(roles_url(community), {"name": "x"}, format="json"), 403, "tier_too_low")
    _error(client.patch(f"/api/v1/roles/{role.pk}", {"name": "y"}, format="json"),
           403, "tier_too_low")  # fmt: skip
    _error(
        client.post(
            f"/api/v1/roles/{role.pk}/assignments", {"member_id": target.pk}, format="json"
        ),
        403,
        "tier_too_low",
    )
    _error(client.get(f"/api/v1/roles/{role.pk}/assignments"), 403, "tier_too_low")


def test_other_communities_roles_and_terms_are_404(admin):
    _a, client = admin
    other = RoleFactory()
    term = hold(MembershipFactory(community=other.community), role=other)
    _error(client.get(f"/api/v1/roles/{other.pk}"), 404, "not_found")
    _error(
        client.patch(f"/api/v1/roles/{other.pk}", {"name": "y"}, format="json"), 404, "not_found"
    )
    _error(client.post(f"/api/v1/role-assignments/{term.pk}/end"), 404, "not_found")
    _error(client.post("/api/v1/role-assignments/nope/renew"), 404, "not_found")
    _error(client.get(f"/api/v1/communities/{other.community_id}/roles"), 404, "not_found")


def test_assign_end_renew_over_http(admin, make_member, community, role):
    _a, client = admin
    member, member_client = make_member()
    assigned = client.post(
        f"/api/v1/roles/{role.pk}/assignments", {"member_id": member.pk}, format="json"
    )
    assert assigned.status_code == 201, assigned.content
    term = assigned.json()
    assert term["status"] == "active" and term["end_reason"] is None
    _error(
        client.post(
            f"/api/v1/roles/{role.pk}/assignments", {"member_id": member.pk}, format="json"
        ),
        409,
        "already_holds_role",
    )
    renewed = client.post(f"/api/v1/role-assignments/{term['id']}/renew")
    assert renewed.status_code == 201
    assert renewed.json()["renewed_from_id"] == term["id"]
    ended = client.post(f"/api/v1/role-assignments/{renewed.json()['id']}/end")
    assert ended.status_code == 200
    assert ended.json()["end_reason"] == "ended"
    history = client.get(f"/api/v1/roles/{role.pk}/assignments").json()["results"]
    assert {(h["status"], h["end_reason"]) for h in history} == {
        ("ended", "renewed"),
        ("ended", "ended"),
    }
    assert member_client.get("/api/v1/me/roles").json()["results"] == []


def test_volunteer_approve_refuse_over_http(admin, make_member, role):
    _a, client = admin
    member, member_client = make_member()
    offer = member_client.put(
        f"/api/v1/roles/{role.pk}/volunteer", {"message": "我来"}, format="json"
    )
    assert offer.status_code == 200, offer.content
    again = member_client.put(f"/api/v1/roles/{role.pk}/volunteer", {}, format="json")
    assert again.json()["id"] == offer.json()["id"]
    card = member_client.get(f"/api/v1/roles/{role.pk}").json()
    assert card["my_volunteer_pending"] is True
    waiting = client.get(f"/api/v1/roles/{role.pk}/volunteers").json()["results"]
    assert [w["message"] for w in waiting] == ["我来"]
    approved = client.post(f"/api/v1/role-volunteers/{offer.json()['id']}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    _error(client.post(f"/api/v1/role-volunteers/{offer.json()['id']}/refuse"),
           409, "volunteer_decided")  # fmt: skip
    mine = member_client.get("/api/v1/me/roles").json()["results"]
    assert [(r["role"]["name"], r["capabilities"]) for r in mine] == [
        ("活动策划", ["manage_events"])
    ]
    other, other_client = make_member()
    second = other_client.put(f"/api/v1/roles/{role.pk}/volunteer", {}, format="json").json()
    refused = client.post(f"/api/v1/role-volunteers/{second['id']}/refuse")
    assert refused.json()["status"] == "refused"


def test_withdraw_my_offer(make_member, role):
    _m, client = make_member()
    client.put(f"/api/v1/roles/{role.pk}/volunteer", {}, format="json")
    assert client.delete(f"/api/v1/roles/{role.pk}/volunteer").status_code == 204
    assert client.get(f"/api/v1/roles/{role.pk}").json()["my_volunteer_pending"] is False


def test_a_muted_member_cannot_volunteer(make_member, role):
    _m, client = make_member(status="muted")
    _error(client.put(f"/api/v1/roles/{role.pk}/volunteer", {}, format="json"), 403, "muted")


def test_profile_and_my_membership_show_roles(make_member, community, role):
    member, client = make_member()
    hold(member, role=role)
    members = client.get(f"/api/v1/communities/{community.pk}/members").json()["results"]
    mine = next(m for m in members if m["id"] == member.pk)
    assert [r["name"] for r in mine["roles"]] == ["活动策划"]
    detail = client.get(f"/api/v1/communities/{community.pk}").json()
    assert [r["name"] for r in detail["membership"]["roles"]] == ["活动策划"]


def test_my_roles_across_communities(make_member, community, role):
    member, client = make_member()
    hold(member, role=role)
    elsewhere = MembershipFactory(user=member.user)
    hold(elsewhere, "create_polls")
    body = client.get("/api/v1/me/roles").json()["results"]
    assert {r["community"]["id"] for r in body} == {community.pk, elsewhere.community_id}
    assert RoleAssignment.objects.count() == 2
