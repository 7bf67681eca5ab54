"""Warnings escalate by the community's rule, in the warning's transaction, once per crossing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import MembershipStatus
from moderation.models import Escalation, MemberWarning
from tests.moderation.helpers import decide, open_case

pytestmark = pytest.mark.django_db


def warn(mod, community, target_m, reason="Rude"):
    case = open_case(community, target_m)
    return decide(mod, case.pk, {"decision": "warn", "reason": reason})


def test_three_warnings_in_30_days_mute_for_7_days(community, make_member):
    target_m, _ = make_member()
    _, mod = make_member(tier="moderator")
    warn(mod, community, target_m, "first")
    warn(mod, community, target_m, "second")
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.ACTIVE
    assert MemberWarning.objects.filter(member=target_m.user).count() == 2

    warn(mod, community, target_m, "third")
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.MUTED
    assert abs(target_m.muted_until - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    escalation = Escalation.objects.get()
    assert escalation.warnings == 3 and escalation.mute_until == target_m.muted_until
    assert MemberWarning.objects.filter(escalation=escalation).count() == 3

    # the fourth warning starts a new count: no second mute until three more
    warn(mod, community, target_m, "fourth")
    assert Escalation.objects.count() == 1


def test_warnings_outside_the_window_do_not_count(community, make_member):
    target_m, _ = make_member()
    _, mod = make_member(tier="moderator")
    warn(mod, community, target_m)
    warn(mod, community, target_m)
    MemberWarning.objects.update(created_at=timezone.now() - timedelta(days=31))
    warn(mod, community, target_m)
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.ACTIVE
    assert not Escalation.objects.exists()


def test_the_rule_is_configurable_and_stated(community, make_member):
    target_m, _ = make_member()
    admin_m, admin = make_member(tier="admin")
    _, plain = make_member()
    url = f"/api/v1/communities/{community.pk}/warning-rule"
    rule = plain.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert (rule["warnings"], rule["window_days"], rule["mute_days"]) == (3, 30, 7)
    assert rule["text"] == "3 warnings within 30 days mute a member for 7 days."
    assert "3" in plain.get(url).json()["text"] and "禁言" in plain.get(url).json()["text"]

    assert plain.put(url, {"warnings": 2}, format="json").status_code == 403
    bad = admin.put(url, {"warnings": 0}, format="json")
    assert bad.status_code == 400
    changed = admin.put(url, {"warnings": 2, "mute_days": 1}, format="json").json()
    assert changed["text"].startswith("2") or "2" in changed["text"]

    _, mod = make_member(tier="moderator")
    warn(mod, community, target_m)
    warn(mod, community, target_m)
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.MUTED
    assert abs(target_m.muted_until - (timezone.now() + timedelta(days=1))) < timedelta(minutes=1)

    admin.put(url, {"enabled": False}, format="json")
    target2, _ = make_member()
    for _i in range(3):
        warn(mod, community, target2)
    target2.refresh_from_db()
    assert target2.status == MembershipStatus.ACTIVE


def test_a_longer_running_mute_is_kept(community, make_member):
    target_m, _ = make_member()
    _, mod = make_member(tier="moderator")
    case = open_case(community, target_m, target_kind="member")
    decide(mod, case.pk, {"decision": "mute", "reason": "Insults", "mute_days": 30})
    target_m.refresh_from_db()
    until = target_m.muted_until
    for _i in range(3):
        warn(mod, community, target_m)
    target_m.refresh_from_db()
    assert target_m.muted_until == until
    assert Escalation.objects.get().mute_until == until


def test_warning_a_moderator_needs_the_tier_over_them(community, make_member):
    from roles.models import Role

    staff_m, _ = make_member(tier="moderator")
    holder_m, holder = make_member()
    role = Role.objects.create(community=community, name="秩序", capabilities=["moderate_content"])
    from roles.models import RoleAssignment

    RoleAssignment.objects.create(community=community, role=role, membership=holder_m)
    case = open_case(community, staff_m)
    r = decide(holder, case.pk, {"decision": "warn", "reason": "x"}, 403)
    assert r["errors"][0]["code"] == "tier_too_low"
    plain_m, _ = make_member()
    decide(holder, open_case(community, plain_m).pk, {"decision": "warn", "reason": "x"})
    assert MemberWarning.objects.filter(member=plain_m.user).exists()
    assert not MemberWarning.objects.filter(member=staff_m.user).exists()
