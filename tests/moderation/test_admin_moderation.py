"""The case decision form in the admin calls ``case_decide``; the audit log is read-only there
and scoped to the admin tiers of each community."""

from __future__ import annotations

import pytest
from django.test import Client

from community.models import MembershipStatus
from community.services.communities import membership_change_tier
from moderation.models import AuditEntry, Case, MemberWarning
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.moderation.helpers import open_case

pytestmark = pytest.mark.django_db


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff(community, tier):
    user = UserFactory(is_staff=True)
    return MembershipFactory(community=community, user=user, tier=tier), staff_client(user)


def test_the_decision_form_decides_through_the_service(community, make_member):
    target_m, _ = make_member()
    mod_m, client = staff(community, "moderator")
    case = open_case(community, target_m, target_kind="member")
    url = f"/admin/moderation/case/{case.pk}/decide/"
    page = client.get(url)
    assert page.status_code == 200
    assert "禁言天数" in page.content.decode()  # translated labels

    refused = client.post(url, {"decision": "mute", "reason": "Insults"})
    assert refused.status_code == 200 and "1" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "open"

    done = client.post(url, {"decision": "mute", "reason": "Insults", "mute_days": "2"})
    assert done.status_code == 302
    case.refresh_from_db()
    target_m.refresh_from_db()
    assert (case.status, case.decision, case.decided_by_id) == ("decided", "mute", mod_m.user_id)
    assert target_m.status == MembershipStatus.MUTED

    again = client.post(url, {"decision": "warn", "reason": "again"})
    assert again.status_code == 200 and not MemberWarning.objects.exists()


def test_the_form_is_404_outside_my_communities(community, make_member):
    target_m, _ = make_member()
    case = open_case(community, target_m)
    _, other = staff(CommunityFactory(), "admin")
    assert other.get(f"/admin/moderation/case/{case.pk}/decide/").status_code == 404
    assert Case.objects.get(pk=case.pk).status == "open"


def test_the_audit_log_is_read_only_and_for_admin_tiers(community, make_member):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the audit log's triggers are PostgreSQL's")
    target_m, _ = make_member()
    admin_m, admin = staff(community, "admin")
    _, mod = staff(community, "moderator")
    membership_change_tier(actor=admin_m, target_id=target_m.pk, tier="moderator")
    entry = AuditEntry.objects.get(community=community, action="tier_changed")

    listing = admin.get("/admin/moderation/auditentry/")
    assert listing.status_code == 200 and "等级变更" in listing.content.decode()
    assert mod.get("/admin/moderation/auditentry/").status_code == 403

    change_url = f"/admin/moderation/auditentry/{entry.pk}/change/"
    page = admin.get(change_url)
    assert page.status_code == 200
    assert admin.post(change_url, {"reason": "edited"}).status_code == 403
    delete_url = f"/admin/moderation/auditentry/{entry.pk}/delete/"
    assert admin.post(delete_url, {"post": "yes"}).status_code == 403
    superuser = staff_client(UserFactory(is_staff=True, is_superuser=True))
    assert superuser.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk, reason="").exists()
