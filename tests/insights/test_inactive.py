"""The inactive-member round trip with a frozen clock: candidate, "还在吗?" once, "I'm here"
(any activity) or removal after the grace period, and coming back with the history kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Membership, MembershipStatus, Notification, Tier
from community.services.communities import community_join_by_invite
from insights.models import InactiveRound, MemberDay, ProtectedMember
from insights.services.inactive import cleanup_list, cleanup_text, inactive_remove
from insights.tasks import insights_daily
from tests.boards.conftest import give_role
from tests.factories import MembershipFactory, UserFactory


def _idle(community, days=61, **kwargs):
    m = MembershipFactory(community=community, **kwargs)
    Membership.objects.filter(pk=m.pk).update(last_active_at=timezone.now() - timedelta(days=days))
    m.refresh_from_db()
    return m


def _asked(membership) -> int:
    return Notification.objects.filter(recipient_id=membership.user_id, kind="still_here").count()


def test_round_trip_message_here_or_removed_and_back(community, make_member):
    admin, admin_client = make_member(tier=Tier.ADMIN)
    here = _idle(community)
    gone = _idle(community, user=UserFactory(nickname="潜水员"))
    MemberDay.objects.create(
        community=community, user_id=gone.user_id, day=timezone.now().date(), votes=3
    )
    owner = _idle(community, tier=Tier.OWNER)
    holder = _idle(community)
    give_role(holder, "create_polls", name="内容整理")
    protected = _idle(community)
    ProtectedMember.objects.create(community=community, user_id=protected.user_id)
    recent = _idle(community, days=50)
    t0 = timezone.now()  # after the role began

    insights_daily(now=t0.isoformat())
    assert {r.membership_id for r in InactiveRound.objects.all()} == {here.pk, gone.pk}
    assert (_asked(here), _asked(gone)) == (1, 1)
    for exempt in (owner, holder, protected, recent):
        assert _asked(exempt) == 0
    insights_daily(now=(t0 + timedelta(hours=1)).isoformat())
    assert (_asked(here), _asked(gone)) == (1, 1)  # once per round

    # "I'm here": any activity (opening the community) clears the round.
    from tests.conftest import client_for

    assert client_for(here.user).get(f"/api/v1/communities/{community.pk}").status_code == 200
    insights_daily(now=(t0 + timedelta(days=1)).isoformat())
    assert InactiveRound.objects.get(membership=here).cleared_at is not None

    # Within the grace period nobody is listed; after it, the silent one is.
    assert list(cleanup_list(actor=admin, now=t0 + timedelta(days=6))) == []
    later = t0 + timedelta(days=8)
    assert [r.membership_id for r in cleanup_list(actor=admin, now=later)] == [gone.pk]
    assert "潜水员" in cleanup_text(actor=admin, now=later)

    result = inactive_remove(
        actor=admin, membership_ids=[gone.pk, here.pk], reason="两个月未活动", now=later
    )
    assert (result.removed, result.skipped) == ([gone.pk], [here.pk])
    gone.refresh_from_db()
    assert gone.status == MembershipStatus.LEFT
    removed = InactiveRound.objects.get(membership=gone)
    assert (removed.reason, removed.removed_by_id) == ("两个月未活动", admin.user_id)

    # Back by the invite code: welcomed back, history kept, not flagged again at once.
    back = community_join_by_invite(user=gone.user, invite_code=community.invite_code)
    assert back.pk == gone.pk and back.status == MembershipStatus.ACTIVE
    assert MemberDay.objects.get(user_id=gone.user_id).votes == 3
    insights_daily(now=(t0 + timedelta(days=9)).isoformat())
    assert InactiveRound.objects.filter(membership=gone).count() == 1
    assert _asked(gone) == 1


def test_cleanup_is_for_admin_tiers_only(community, make_member):
    moderator, _ = make_member(tier=Tier.MODERATOR)
    from community.errors import Forbidden

    with pytest.raises(Forbidden):
        list(cleanup_list(actor=moderator))


def test_cleanup_list_and_removal_over_http(community, make_member):
    _admin, client = make_member(tier=Tier.ADMIN)
    gone = _idle(community, days=70, user=UserFactory(nickname="潜水员"))
    t0 = timezone.now() - timedelta(days=8)
    insights_daily(now=t0.isoformat())
    body = client.get(f"/api/v1/communities/{community.pk}/insights/inactive-members").json()
    assert [m["membership_id"] for m in body["members"]] == [gone.pk]
    assert "潜水员" in body["text"]
    url = f"/api/v1/communities/{community.pk}/insights/inactive-members/removals"
    bad = client.post(url, {"membership_ids": [], "reason": "x"}, format="json")
    assert bad.status_code == 400
    response = client.post(
        url, {"membership_ids": [gone.pk], "reason": "长期未活动"}, format="json"
    )
    assert response.json() == {"removed": [gone.pk], "skipped": []}
    _member, member_client = make_member()
    assert (
        member_client.get(
            f"/api/v1/communities/{community.pk}/insights/inactive-members"
        ).status_code
        == 403
    )


def _welcomes(membership) -> int:
    return Notification.objects.filter(recipient_id=membership.user_id, kind="welcome_back").count()


def test_a_removed_member_who_returns_is_welcomed_back_once_with_the_reason_audited(
    community, make_member
):
    from community.services.communities import community_leave
    from moderation.models import AuditEntry

    admin, _client = make_member(tier=Tier.ADMIN)
    gone = _idle(community, days=70)
    MemberDay.objects.create(
        community=community, user_id=gone.user_id, day=timezone.now().date(), votes=2
    )
    t0 = timezone.now() - timedelta(days=8)
    insights_daily(now=t0.isoformat())
    inactive_remove(actor=admin, membership_ids=[gone.pk], reason="长期未活动")
    gone.refresh_from_db()
    assert gone.left_at is not None
    audit = AuditEntry.objects.filter(
        community_id=community.pk, subject_id=gone.user_id, action="status_changed"
    ).get()
    assert (audit.reason, audit.actor_id) == ("长期未活动", admin.user_id)
    assert _welcomes(gone) == 0

    back = community_join_by_invite(user=gone.user, invite_code=community.invite_code)
    assert _welcomes(gone) == 1
    assert InactiveRound.objects.get(membership=gone).returned_at is not None
    assert MemberDay.objects.get(user_id=gone.user_id).votes == 2  # history kept
    from tests.conftest import client_for

    page = client_for(gone.user).get(f"/api/v1/communities/{community.pk}/insights/still-here")
    assert page.json() == {"asked": False, "asked_at": None, "welcome_back": True}

    # Leaving by themselves and coming back again: no second welcome.
    community_leave(membership=back)
    community_join_by_invite(user=gone.user, invite_code=community.invite_code)
    assert _welcomes(gone) == 1


def test_a_member_who_left_by_themselves_gets_no_welcome_back(community):
    from community.services.communities import community_leave

    member = MembershipFactory(community=community)
    community_leave(membership=member)
    community_join_by_invite(user=member.user, invite_code=community.invite_code)
    assert _welcomes(member) == 0


def test_still_here_has_a_purpose_a_page_and_an_in_app_answer(community, make_member):
    from community.subscriptions import PAGES, PURPOSES
    from tests.conftest import client_for

    assert "still_here" in PURPOSES and "welcome_back" in PURPOSES
    assert any("still_here" in kinds for kinds in PAGES.values())
    admin, _client = make_member(tier=Tier.ADMIN)
    idle = _idle(community)
    insights_daily()
    note = Notification.objects.get(recipient_id=idle.user_id, kind="still_here")
    assert note.page.startswith("pages/insights/still-here")
    client = client_for(idle.user)
    url = f"/api/v1/communities/{community.pk}/insights/still-here"
    asked = client.get(url).json()
    assert asked["asked"] is True and asked["asked_at"]
    assert client.post(url).json()["asked"] is False
    assert InactiveRound.objects.get(membership=idle).cleared_at is not None
    assert client.post(url).status_code == 200  # safe to repeat
    assert list(cleanup_list(actor=admin, now=timezone.now() + timedelta(days=30))) == []
    other = MembershipFactory(tier=Tier.OWNER).community
    assert client.get(f"/api/v1/communities/{other.pk}/insights/still-here").status_code == 404
