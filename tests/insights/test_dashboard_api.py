"""The dashboard over HTTP: who may read it, what it counts, the CSV exports, the floor k."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Membership, Tier
from insights.models import HourActivity, InsightsSettings, MemberDay
from insights.selectors import local_today
from tests.boards.conftest import give_role
from tests.factories import MembershipFactory


@pytest.fixture
def activity(community):
    """Four members active over the last days; one idle for 90 days."""
    today = local_today(community)
    members = [MembershipFactory(community=community) for _ in range(4)]
    for i, m in enumerate(members):
        for d in range(i + 1):
            MemberDay.objects.create(
                community=community, user_id=m.user_id, day=today - timedelta(days=d), votes=i + 1
            )
    idle = MembershipFactory(community=community)
    Membership.objects.filter(pk=idle.pk).update(
        last_active_at=timezone.now() - timedelta(days=90),
        joined_at=timezone.now() - timedelta(days=200),
    )
    HourActivity.objects.create(community=community, day=today, hour=21, actions=7)
    return today, members, idle


def test_admins_read_the_dashboard_in_a_fixed_number_of_queries(
    make_member, activity, django_assert_max_num_queries
):
    _admin, client = make_member(tier=Tier.ADMIN)
    today, members, idle = activity
    url = f"/api/v1/communities/{members[0].community_id}/insights"
    # Before the summary job first ran, the figures are counted on the spot (more queries;
    # test_summaries pins the summarised path).
    with django_assert_max_num_queries(30):
        body = client.get(url).json()
    active = body["active"]
    assert (active["dau"], active["wau"], active["mau"]) == (4, 4, 4)
    assert active["members"] == 6  # five members and the admin
    assert active["dau_over_mau"] == 1.0
    assert body["heatmap"][today.isoweekday() - 1][21] == 7
    inactive = [m["user_id"] for m in body["segments"]["inactive"]]
    assert inactive == [idle.user_id]
    assert body["top_members"][0]["user_id"] == members[3].user_id


def test_members_and_moderators_may_not_and_the_capability_opens_it(make_member, community):
    url = f"/api/v1/communities/{community.pk}/insights"
    member, client = make_member()
    assert client.get(url).status_code == 403
    _moderator, mod_client = make_member(tier=Tier.MODERATOR)
    assert mod_client.get(url).json()["errors"][0]["code"] == "tier_too_low"
    give_role(member, "view_analytics", name="数据")
    assert client.get(url).status_code == 200


def test_outsiders_get_404(outsider, community):
    _user, client = outsider
    assert client.get(f"/api/v1/communities/{community.pk}/insights").status_code == 404


@pytest.mark.parametrize(
    "figure",
    ["active", "joins", "participation", "heatmap", "segments", "retention", "top-members"],
)
def test_every_figure_exports_as_csv(make_member, activity, figure):
    _admin, client = make_member(tier=Tier.ADMIN)
    community_id = activity[1][0].community_id
    response = client.get(f"/api/v1/communities/{community_id}/insights/figures/{figure}.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) >= (1 if figure == "participation" else 2)


def test_unknown_figure_is_404(make_member, community):
    _admin, client = make_member(tier=Tier.ADMIN)
    response = client.get(f"/api/v1/communities/{community.pk}/insights/figures/nope.csv")
    assert response.status_code == 404


def test_top_members_for_members_only_when_shown_and_above_the_floor(make_member, activity):
    member, client = make_member()
    community = member.community
    url = f"/api/v1/communities/{community.pk}/insights/top-members"
    assert client.get(url).status_code == 403
    InsightsSettings.objects.create(community=community, members_see_top=True, member_floor=5)
    assert client.get(url).json() == {"hidden": True, "members": []}  # 4 active < k = 5
    InsightsSettings.objects.filter(community=community).update(member_floor=4)
    body = client.get(url).json()
    assert not body["hidden"] and len(body["members"]) == 4


def test_timeline_is_for_admin_tiers_only(make_member, activity):
    _, members, _idle = activity
    target = members[2]
    url = f"/api/v1/communities/{target.community_id}/insights/members/{target.user_id}/timeline"
    analyst, analyst_client = make_member()
    give_role(analyst, "view_analytics", name="数据")
    assert analyst_client.get(url).status_code == 403
    _admin, client = make_member(tier=Tier.ADMIN)
    body = client.get(url).json()
    assert [d["votes"] for d in body["days"]] == [3, 3, 3]
    missing = f"/api/v1/communities/{target.community_id}/insights/members/nobody/timeline"
    assert client.get(missing).json()["errors"][0]["code"] == "member_not_found"


def test_import_over_http_reports_unmatched_rows(make_member, community):
    _admin, client = make_member(tier=Tier.ADMIN)
    response = client.post(
        f"/api/v1/communities/{community.pk}/insights/message-counts",
        {"csv": "2026-11-02,无此人,3\n"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["applied"] is False
    assert response.json()["unmatched"][0]["member"] == "无此人"
    assert MemberDay.objects.count() == 0
