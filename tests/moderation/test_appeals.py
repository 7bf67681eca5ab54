"""A member sees their sanctions and appeals once per case; another moderator of the same tier
or higher decides; the member is told once, never who decided."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from community.models import MembershipStatus, Notification
from moderation.models import Appeal, ContentHold, Escalation, MemberWarning
from tests.moderation.helpers import decide, open_case

pytestmark = pytest.mark.django_db


def sanctions(client, community):
    response = client.get(f"/api/v1/communities/{community.pk}/me/sanctions")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def appeal(client, case_id, text="Not me", status=201):
    response = client.post(
        f"/api/v1/moderation-cases/{case_id}/appeal", {"text": text}, format="json"
    )
    assert response.status_code == status, response.content
    return response.json()


def decide_appeal(client, case_id, decision, status=200, reason="Checked"):
    response = client.post(
        f"/api/v1/moderation-cases/{case_id}/appeal/decision",
        {"decision": decision, "reason": reason},
        format="json",
    )
    assert response.status_code == status, response.content
    return response.json()


def test_member_sees_warnings_and_mutes_without_the_moderator(community, make_member):
    target_m, target = make_member()
    mod_m, mod = make_member(tier="moderator")
    for i in range(3):
        decide(mod, open_case(community, target_m).pk, {"decision": "warn", "reason": f"w{i}"})
    case = open_case(community, target_m, target_kind="member")
    mine = sanctions(target, community)
    assert [s["decision"] for s in mine] == ["warn", "warn", "warn"]
    assert mine[0]["reason"] == "w2" and mine[0]["escalation"]["mute_days"] == 7
    assert mine[0]["escalation"]["mute_until"] is not None
    assert mine[1]["escalation"] is None and mine[0]["appeal_status"] == ""
    text = str(mine)
    assert mod_m.user_id not in text and mod_m.user.nickname not in text
    # muted members still read their sanctions; other members see only their own
    _, other = make_member()
    assert sanctions(other, community) == []
    assert case.pk not in text


def test_appeal_once_per_case_and_only_my_own(community, make_member):
    target_m, target = make_member()
    _, mod = make_member(tier="moderator")
    case = open_case(community, target_m)
    decide(mod, case.pk, {"decision": "hide", "reason": "Off-topic"})
    _, other = make_member()
    assert appeal(other, case.pk, status=404)["errors"][0]["code"] == "case_not_found"
    made = appeal(target, case.pk)
    assert made["status"] == "open"
    assert appeal(target, case.pk, status=409)["errors"][0]["code"] == "appeal_exists"
    assert Appeal.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(community=community, case=case, member=target_m.user, text="again")
    # a dismissed case is no sanction: nothing to appeal
    dismissed = open_case(community, target_m)
    decide(mod, dismissed.pk, {"decision": "dismiss", "reason": "ok"})
    appeal(target, dismissed.pk, status=404)


def test_the_appeal_waits_in_the_queue(community, make_member):
    target_m, target = make_member()
    _, mod = make_member(tier="moderator")
    case = open_case(community, target_m)
    decide(mod, case.pk, {"decision": "warn", "reason": "Rude"})
    appeal(target, case.pk)
    queue = mod.get(f"/api/v1/communities/{community.pk}/moderation-cases?appeal=open").json()
    assert [(c["id"], c["appeal_status"]) for c in queue["results"]] == [(case.pk, "open")]


def test_who_decides_an_appeal(community, make_member):
    target_m, target = make_member()
    first_m, first = make_member(tier="admin")
    _, mod = make_member(tier="moderator")
    _, other_admin = make_member(tier="admin")
    case = open_case(community, target_m)
    decide(first, case.pk, {"decision": "warn", "reason": "Rude"})
    appeal(target, case.pk)
    for client in (first, mod):  # the decider again, or a lower tier
        r = decide_appeal(client, case.pk, "overturn", 403)
        assert r["errors"][0]["code"] == "appeal_needs_another_moderator"
    decide_appeal(other_admin, case.pk, "uphold")
    assert decide_appeal(other_admin, case.pk, "overturn", 409)["errors"][0]["code"] == (
        "appeal_decided"
    )


def test_the_owner_reviews_their_own_decision(community, make_member):
    target_m, target = make_member()
    _, owner = make_member(tier="owner")
    _, admin = make_member(tier="admin")
    case = open_case(community, target_m)
    decide(owner, case.pk, {"decision": "hide", "reason": "Spam"})
    appeal(target, case.pk)
    decide_appeal(admin, case.pk, "overturn", 403)
    decide_appeal(owner, case.pk, "overturn")
    assert not ContentHold.objects.exists()


def test_overturning_a_warning_lifts_its_escalation_and_tells_the_member_once(
    community, make_member
):
    target_m, target = make_member()
    mod_m, mod = make_member(tier="moderator")
    _, mod2 = make_member(tier="moderator")
    cases = [open_case(community, target_m) for _ in range(3)]
    for case in cases:
        decide(mod, case.pk, {"decision": "warn", "reason": "Rude"})
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.MUTED
    appeal(target, cases[0].pk)  # muted members may appeal
    decided = decide_appeal(mod2, cases[0].pk, "overturn", reason="Misread")
    assert decided["status"] == "overturned" and decided["reply"] == "Misread"
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.ACTIVE and target_m.muted_until is None
    assert Escalation.objects.get().lifted_at is not None
    assert MemberWarning.objects.get(case=cases[0]).withdrawn_at is not None
    # the other two count again: one more warning mutes
    assert MemberWarning.objects.filter(escalation__isnull=True, withdrawn_at=None).count() == 2
    decide(mod, open_case(community, target_m).pk, {"decision": "warn", "reason": "Again"})
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.MUTED

    told = Notification.objects.filter(kind="appeal_outcome", recipient=target_m.user)
    assert told.count() == 1
    assert mod_m.user_id not in str(told.get().data)
    mine = sanctions(target, community)
    assert [s["appeal_status"] for s in mine if s["case_id"] == cases[0].pk] == ["overturned"]


def test_overturning_a_mute_ends_it(community, make_member):
    target_m, target = make_member()
    _, mod = make_member(tier="moderator")
    _, mod2 = make_member(tier="moderator")
    case = open_case(community, target_m, target_kind="member")
    decide(mod, case.pk, {"decision": "mute", "reason": "Insults", "mute_days": 3})
    appeal(target, case.pk)
    decide_appeal(mod2, case.pk, "overturn")
    target_m.refresh_from_db()
    assert target_m.status == MembershipStatus.ACTIVE


def test_my_sanctions_cost_the_same_queries_for_any_number(community, make_member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    target_m, target = make_member()
    _, mod = make_member(tier="moderator")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            sanctions(target, community)
        return len(ctx.captured_queries)

    decide(mod, open_case(community, target_m).pk, {"decision": "warn", "reason": "a"})
    one = count()
    for _i in range(3):
        decide(mod, open_case(community, target_m).pk, {"decision": "warn", "reason": "b"})
    decide(mod, open_case(community, target_m).pk, {"decision": "hide", "reason": "c"})
    assert count() == one
