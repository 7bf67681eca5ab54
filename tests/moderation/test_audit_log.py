"""The audit log: every moderation action and every change of tier, role or status, with who,
to whom, what, why and when; append-only in the database, read-only in the admin, listed for
the admin tiers through the API."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from community.services.communities import membership_change_tier
from moderation.models import AuditEntry, MembershipEvent
from roles.models import Role
from roles.services import assignment_create
from tests.moderation.helpers import decide, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the audit log's triggers are PostgreSQL's (the SQLite log stays empty)")


def entries(community, **filters):
    return list(AuditEntry.objects.filter(community=community, **filters).order_by("at", "id"))


def test_a_mute_decision_records_who_to_whom_what_why(community, make_member):
    target_m, _ = make_member()
    mod_m, mod = make_member(tier="moderator")
    case = open_case(community, target_m, target_kind="member")
    decide(mod, case.pk, {"decision": "mute", "reason": "Insults", "mute_days": 3})
    decided = entries(community, action="case_decided")
    assert len(decided) == 1
    e = decided[0]
    assert (e.actor_id, e.subject_id, e.reason) == (mod_m.user_id, target_m.user_id, "Insults")
    assert e.details["decision"] == "mute" and e.details["case"] == case.pk
    status = entries(community, action="status_changed", subject_id=target_m.user_id)
    assert [(s.actor_id, s.reason, s.details["status"]) for s in status] == [
        (mod_m.user_id, "Insults", "muted")
    ]


def test_escalation_and_tier_and_role_changes_are_recorded(community, make_member):
    target_m, _ = make_member()
    admin_m, _ = make_member(tier="admin")
    _, mod = make_member(tier="moderator")
    for _i in range(3):
        decide(mod, open_case(community, target_m).pk, {"decision": "warn", "reason": "Rude"})
    (esc,) = entries(community, action="warnings_escalated")
    assert esc.actor_id is None and esc.subject_id == target_m.user_id
    assert esc.details["warnings"] == 3

    membership_change_tier(actor=admin_m, target_id=target_m.pk, tier="moderator")
    (tier,) = entries(community, action="tier_changed")
    assert (tier.actor_id, tier.subject_id, tier.details["tier"]) == (
        admin_m.user_id,
        target_m.user_id,
        "moderator",
    )

    holder_m, _ = make_member()
    role = Role.objects.create(community=community, name="内容整理X", capabilities=[])
    assignment_create(actor=admin_m, role_id=role.pk, member_id=holder_m.pk)
    (assigned,) = entries(community, action="role_assigned")
    assert (assigned.actor_id, assigned.subject_id, assigned.details["role"]) == (
        admin_m.user_id,
        holder_m.user_id,
        "内容整理X",
    )


def test_events_cannot_be_changed_or_deleted(community, make_member):
    target_m, _ = make_member()
    admin_m, _ = make_member(tier="admin")
    membership_change_tier(actor=admin_m, target_id=target_m.pk, tier="moderator")
    event = MembershipEvent.objects.get(pgh_label="tier_changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        MembershipEvent.objects.filter(pk=event.pk).update(tier="owner")
    with pytest.raises(DatabaseError), transaction.atomic():
        MembershipEvent.objects.filter(pk=event.pk).delete()
    assert MembershipEvent.objects.filter(pk=event.pk, tier="moderator").exists()


def test_the_api_lists_the_log_for_the_admin_tiers_only(community, make_member):
    target_m, _ = make_member()
    admin_m, admin = make_member(tier="admin")
    _, mod = make_member(tier="moderator")
    membership_change_tier(actor=admin_m, target_id=target_m.pk, tier="moderator")
    url = f"/api/v1/communities/{community.pk}/audit-log"
    assert mod.get(url).status_code == 403
    body = admin.get(url + "?action=tier_changed").json()
    assert [(r["action"], r["actor_id"], r["subject_id"]) for r in body["results"]] == [
        ("tier_changed", admin_m.user_id, target_m.user_id)
    ]
    # another community's log is not there
    from tests.factories import CommunityFactory, MembershipFactory

    other = CommunityFactory()
    other_admin = MembershipFactory(community=other, tier="admin")
    other_member = MembershipFactory(community=other)
    membership_change_tier(actor=other_admin, target_id=other_member.pk, tier="moderator")
    body = admin.get(url).json()
    assert other_member.user_id not in str(body)


def test_the_log_exports_as_csv_through_the_admin(
    community, make_member, django_capture_on_commit_callbacks
):
    import csv
    import io

    from django.test import Client

    from community.services.communities import membership_mute
    from moderation.models import AuditExport
    from tests.factories import UserFactory

    target_m, _ = make_member()
    user = UserFactory(is_staff=True)
    admin_m, _ = make_member(tier="admin", user=user)
    membership_mute(actor=admin_m, target_id=target_m.pk)
    client = Client()
    client.force_login(user)
    entry = AuditEntry.objects.get(community=community, action="status_changed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/moderation/auditentry/",
            {"action": "export_csv", "_selected_action": [entry.pk]},
        )
    assert response.status_code == 302
    export = AuditExport.objects.get(community=community)
    assert export.status == "done", export.error  # eager Celery in the tests
    download = client.get(f"/admin/moderation/auditexport/{export.pk}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["时间", "操作", "操作人"] or len(rows[0]) == 8
    assert any(r[5] == target_m.user_id and r[3] == admin_m.user_id for r in rows[1:])
    # a moderator cannot download it
    mod_user = UserFactory(is_staff=True)
    make_member(tier="moderator", user=mod_user)
    mod = Client()
    mod.force_login(mod_user)
    assert mod.get(f"/admin/moderation/auditexport/{export.pk}/download/").status_code in (
        403,
        404,
    )


def test_the_api_list_costs_the_same_queries_for_any_number(community, make_member):
    from django.test.utils import CaptureQueriesContext

    admin_m, admin = make_member(tier="admin")
    url = f"/api/v1/communities/{community.pk}/audit-log"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(url).status_code == 200
        return len(ctx.captured_queries)

    target, _ = make_member()
    membership_change_tier(actor=admin_m, target_id=target.pk, tier="moderator")
    one = count()
    for _i in range(3):
        other, _ = make_member()
        membership_change_tier(actor=admin_m, target_id=other.pk, tier="moderator")
    assert count() == one
