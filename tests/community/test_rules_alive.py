"""Group rules kept alive: the change summary with each version, the one reminder a week
later (exactly once, the job run twice on a frozen clock), the rules page in sections, and the
suggestions per kind of group applied at creation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Community, Membership, Notification, RulesVersion
from community.services.communities import community_create, community_update
from community.services.rules import rules_remind_due
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False


def test_a_new_version_carries_its_summary_to_the_rules_page(community, make_member):
    admin, admin_client = make_member(tier="admin")
    r = admin_client.patch(
        f"/api/v1/communities/{community.pk}",
        {"rules_text": "# 友善\n不吵架\n# 广告\n不发广告", "rules_summary": "新增广告条款"},
        format="json",
    )
    assert r.status_code == 200, r.content
    _, member = make_member(rules_accepted_version=0)
    page = member.get(f"/api/v1/communities/{community.pk}/rules").json()
    assert page["version"] == 1 and page["summary"] == "新增广告条款"
    assert page["accepted"] is False
    assert page["sections"] == [
        {"title": "友善", "body": "不吵架"},
        {"title": "广告", "body": "不发广告"},
    ]
    assert len(page["first_steps"]) == 3
    assert RulesVersion.objects.get(community=community).summary == "新增广告条款"


def test_members_who_have_not_accepted_are_reminded_once_after_a_week(community, make_member):
    admin, _ = make_member(tier="admin")
    slow, _ = make_member()
    quick, _ = make_member()
    community_update(actor=admin, rules_text="新群规", rules_summary="改了")
    community.refresh_from_db()
    Membership.objects.filter(pk=quick.pk).update(rules_accepted_version=community.rules_version)
    now = timezone.now()
    assert rules_remind_due(now=now + timedelta(days=6)) == 0
    week_later = now + timedelta(days=7, minutes=1)
    first = rules_remind_due(now=week_later)
    second = rules_remind_due(now=week_later)
    reminders = Notification.objects.filter(kind="rules_reminder")
    assert first == 1 and second == 0
    assert list(reminders.values_list("recipient_id", flat=True)) == [slow.user_id]
    # Even if the version were looked at again, the outbox keeps one per member.
    RulesVersion.objects.update(reminded_at=None)
    assert rules_remind_due(now=week_later) == 0
    assert reminders.count() == 1


def test_templates_per_kind_and_creation_with_a_kind(api_client, outsider):
    _, client = outsider
    templates = client.get("/api/v1/community-templates").json()["templates"]
    assert [t["kind"] for t in templates] == ["work", "study", "interest"]
    assert all(t["sections"] and t["purpose"] for t in templates)
    owner = UserFactory()
    community = community_create(community=Community(name="同事群"), owner=owner, kind="work")
    assert community.kind == "work" and community.join_policy == "approval"
    assert community.rules_version == 1 and community.purpose
    assert RulesVersion.objects.filter(community=community, version=1).exists()
    assert Membership.objects.get(community=community, user=owner).rules_accepted_version == 1
    assert community.announcement_categories.count() == 4


def test_the_rules_page_states_the_warning_rule(community, make_member):
    """Warnings escalate by the community's rule, and members read that rule with the rules."""
    from moderation.models import WarningRule

    _, member = make_member()
    page = member.get(f"/api/v1/communities/{community.pk}/rules").json()
    assert page["warning_rule"] == "30 天内累计 3 次警告将被禁言 7 天。"
    WarningRule.objects.create(community=community, warnings=2, window_days=14, mute_days=3)
    page = member.get(f"/api/v1/communities/{community.pk}/rules").json()
    assert page["warning_rule"] == "14 天内累计 2 次警告将被禁言 3 天。"
