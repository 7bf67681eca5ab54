"""The roles admin: roles with their holders, read-only history, actions through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from roles.models import EndReason, Role, RoleAssignment, RoleVolunteer
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.roles.factories import RoleFactory, hold

pytestmark = pytest.mark.django_db


def staff(tier: str, community):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=tier)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hiking():
    return CommunityFactory(name="徒步群")


def test_role_page_lists_holders_and_history(hiking):
    role = RoleFactory(community=hiking, name="活动策划")
    hold(MembershipFactory(community=hiking, user__nickname="小张"), role=role)
    RoleFactory(name="别的群的角色")
    client = staff("admin", hiking)
    listing = client.get("/admin/roles/role/").content.decode()
    assert "活动策划" in listing and "别的群的角色" not in listing
    page = client.get(f"/admin/roles/role/{role.pk}/change/")
    assert page.status_code == 200
    assert "小张" in page.content.decode()


def test_creating_a_role_goes_through_the_service(hiking):
    client = staff("admin", hiking)
    response = client.post(
        "/admin/roles/role/add/",
        {
            "community": hiking.pk,
            "name": "摄影",
            "description": "",
            "capabilities": ["create_polls"],
            "term_days": "30",
            "max_holders": "",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    role = Role.objects.get(community=hiking, name="摄影")
    assert role.capabilities == ["create_polls"]


def test_a_moderator_cannot_define_roles(hiking):
    client = staff("moderator", hiking)
    response = client.post(
        "/admin/roles/role/add/",
        {"community": hiking.pk, "name": "摄影", "description": "", **_empty_inlines()},
    )
    assert response.status_code == 200  # the form shows the service's refusal
    assert not Role.objects.filter(name="摄影").exists()


def test_deleting_in_the_admin_keeps_the_history(hiking):
    role = RoleFactory(community=hiking)
    term = hold(MembershipFactory(community=hiking), role=role)
    client = staff("admin", hiking)
    response = client.post(f"/admin/roles/role/{role.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.end_reason == EndReason.ROLE_DELETED
    assert Role.objects.filter(pk=role.pk, deleted_at__isnull=False).exists()


def test_end_and_renew_actions_call_the_services(hiking):
    role = RoleFactory(community=hiking, term_days=30)
    first = hold(MembershipFactory(community=hiking), role=role)
    second = hold(MembershipFactory(community=hiking), role=role)
    client = staff("admin", hiking)
    url = "/admin/roles/roleassignment/"
    client.post(url, {"action": "end_terms", "_selected_action": [first.pk]})
    client.post(url, {"action": "renew_terms", "_selected_action": [second.pk]})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.end_reason == EndReason.ENDED
    assert second.end_reason == EndReason.RENEWED
    assert RoleAssignment.objects.filter(renewed_from=second).exists()


def test_history_is_read_only(hiking):
    term = hold(MembershipFactory(community=hiking), role=RoleFactory(community=hiking))
    client = staff("admin", hiking)
    assert (
        client.post(f"/admin/roles/roleassignment/{term.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    page = client.get(f"/admin/roles/roleassignment/{term.pk}/change/")
    assert page.status_code == 200
    assert 'name="ended_at"' not in page.content.decode()


def test_assigning_in_the_admin_respects_the_role_limit(hiking):
    role = RoleFactory(community=hiking, max_holders=1)
    hold(MembershipFactory(community=hiking), role=role)
    newcomer = MembershipFactory(community=hiking)
    client = staff("admin", hiking)
    response = client.post(
        "/admin/roles/roleassignment/add/", {"role": role.pk, "membership": newcomer.pk}
    )
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(membership=newcomer).exists()
    role.max_holders = 2
    role.save()
    response = client.post(
        "/admin/roles/roleassignment/add/", {"role": role.pk, "membership": newcomer.pk}
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(membership=newcomer, ended_at__isnull=True).exists()


def test_volunteer_actions(hiking):
    role = RoleFactory(community=hiking)
    offer = RoleVolunteer.objects.create(
        community=hiking, role=role, membership=MembershipFactory(community=hiking)
    )
    client = staff("admin", hiking)
    client.post(
        "/admin/roles/rolevolunteer/", {"action": "approve", "_selected_action": [offer.pk]}
    )
    offer.refresh_from_db()
    assert offer.status == "approved" and offer.assignment is not None


def _empty_inlines() -> dict:
    data = {}
    for prefix in ("assignments", "volunteers"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data
