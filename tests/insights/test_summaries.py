"""The dashboard's summaries (written by the daily job, read by the dashboard in a fixed number
of queries), joins and leaves per week, the analytics rules an admin sets, and the admin's
charts page and chat-count import."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from community.models import Membership, MembershipStatus, Tier
from community.services.communities import community_leave, membership_ban
from insights.models import (
    CohortMonth,
    CommunityDay,
    HourActivity,
    InsightsSettings,
    MemberDay,
    MemberSummary,
)
from insights.selectors import dashboard, local_today
from insights.services.summaries import community_summary_refresh
from insights.tasks import insights_daily
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def busy(community):
    """Six members active over the last days (member k on days 0..k), one idle for 90 days."""
    today = local_today(community)
    members = [MembershipFactory(community=community) for _ in range(6)]
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
    HourActivity.objects.create(community=community, day=today, hour=20, actions=5)
    return today, members, idle


def _comparable(data: dict) -> dict:
    out = dict(data)
    out["active"] = {k: v for k, v in data["active"].items() if k not in ("as_of", "series")}
    out["active"]["series"] = [(r["day"], r["active"]) for r in data["active"]["series"]]
    out["segments"] = {k: sorted(m["user_id"] for m in v) for k, v in data["segments"].items()}
    out["segment_counts"] = data["segment_counts"]["today"]
    return out


def test_the_job_summarises_and_the_dashboard_reads_the_same_figures(
    community, busy, make_member, django_assert_max_num_queries
):
    _admin, client = make_member(tier=Tier.ADMIN)
    today, members, idle = busy
    live = dashboard(community=community, today=today)
    assert live["active"]["as_of"] is None

    insights_daily()
    assert CommunityDay.objects.filter(community=community, day=today).exists()
    assert MemberSummary.objects.filter(community=community).count() == 8  # 7 + the admin
    assert CohortMonth.objects.filter(community=community).exists()
    summarised = dashboard(community=community, today=today)
    assert summarised["active"]["as_of"] is not None
    assert _comparable(summarised) == _comparable(live)
    assert summarised["segment_counts"]["today"]["inactive"] == 1

    url = f"/api/v1/communities/{community.pk}/insights"
    with django_assert_max_num_queries(22):
        body = client.get(url).json()
    assert (body["active"]["dau"], body["active"]["wau"], body["active"]["mau"]) == (6, 6, 6)
    assert body["active"]["series"][-1]["wau"] == 6
    assert [m["user_id"] for m in body["segments"]["inactive"]] == [idle.user_id]
    assert body["segment_counts"]["series"][-1]["inactive"] == 1
    assert body["top_members"][0]["user_id"] == members[5].user_id


def test_the_dashboard_reads_a_fixed_number_of_queries_whatever_the_size(
    community, make_member, django_assert_num_queries
):
    _admin, client = make_member(tier=Tier.ADMIN)
    today = local_today(community)
    url = f"/api/v1/communities/{community.pk}/insights"

    def grow(n):
        for _ in range(n):
            m = MembershipFactory(community=community)
            MemberDay.objects.create(community=community, user_id=m.user_id, day=today, votes=1)
        community_summary_refresh(community=community)

    grow(3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(30)
    with django_assert_num_queries(len(small)):
        assert client.get(url).json()["active"]["dau"] == 33


def test_a_member_who_left_is_summarised_no_more(community, busy):
    today, members, _idle = busy
    community_summary_refresh(community=community)
    community_leave(membership=members[0])
    community_summary_refresh(community=community, now=timezone.now() + timedelta(seconds=1))
    assert not MemberSummary.objects.filter(user_id=members[0].user_id).exists()


def test_joins_and_leaves_per_week(community, make_member):
    admin, client = make_member(tier=Tier.ADMIN)
    leaver = MembershipFactory(community=community)
    banned = MembershipFactory(community=community)
    MembershipFactory(community=community)
    community_leave(membership=leaver)
    membership_ban(actor=admin, target_id=banned.pk)
    leaver.refresh_from_db()
    banned.refresh_from_db()
    assert leaver.left_at is not None and banned.left_at is not None
    body = client.get(f"/api/v1/communities/{community.pk}/insights").json()
    week = body["joins"][-1]
    assert (week["joins"], week["leaves"], week["left_since"]) == (4, 2, 2)
    csv = client.get(f"/api/v1/communities/{community.pk}/insights/figures/joins.csv")
    assert csv.status_code == 200
    assert csv.content.decode("utf-8-sig").splitlines()[-1].endswith(",4,2,2")


def test_members_see_the_top_only_when_the_admin_chooses(community, busy, make_member):
    admin, admin_client = make_member(tier=Tier.ADMIN)
    _member, member_client = make_member()
    url = f"/api/v1/communities/{community.pk}/insights/top-members"
    assert member_client.get(url).status_code == 403
    from insights.services.settings import insights_settings_update

    insights_settings_update(actor=admin, members_see_top=True, member_floor=3)
    body = member_client.get(url).json()
    assert body["hidden"] is False and len(body["members"]) == 6
    insights_settings_update(actor=admin, member_floor=10)
    assert member_client.get(url).json() == {"hidden": True, "members": []}


@pytest.mark.parametrize(
    "fields",
    [
        {"inactive_after_days": 0},
        {"inactive_after_days": "60"},
        {"members_see_top": 1},
        {"grace_days": 1000},
        {"unknown": 1},
        {"dormant_after_days": 90},  # not before inactive (60)
    ],
)
def test_bad_settings_change_nothing(community, make_member, fields):
    from community.errors import DomainError
    from insights.services.settings import insights_settings_update

    admin, _client = make_member(tier=Tier.ADMIN)
    with pytest.raises(DomainError) as caught:
        insights_settings_update(actor=admin, **fields)
    assert caught.value.code == "invalid_setting"
    assert not InsightsSettings.objects.filter(community=community).exists()


def test_settings_are_for_the_admin_tiers(community, make_member):
    from community.errors import Forbidden
    from insights.services.settings import insights_settings_update, protected_member_set

    moderator, _client = make_member(tier=Tier.MODERATOR)
    with pytest.raises(Forbidden):
        insights_settings_update(actor=moderator, grace_days=3)
    with pytest.raises(Forbidden):
        protected_member_set(actor=moderator, membership_id=moderator.pk, protected=True)


@pytest.fixture
def staff(community):
    user = UserFactory(username="insights-admin", is_staff=True)
    user.set_password("pw")
    user.save()
    MembershipFactory(community=community, user=user, tier=Tier.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_charts_page_draws_from_the_bundled_chart_library(community, busy, staff):
    insights_daily()
    page = staff.get(f"/admin/insights/communityday/charts/{community.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "insights/chart.umd.js" in html and "insights/admin_charts.js" in html
    for canvas in ("chart-active", "chart-segments", "chart-heatmap", "chart-participation"):
        assert canvas in html
    assert "cohort-table" in html
    other = MembershipFactory(tier=Tier.OWNER).community
    assert staff.get(f"/admin/insights/communityday/charts/{other.pk}/").status_code == 404
    for name in ("communityday", "membersummary", "cohortmonth", "memberday", "inactiveround"):
        assert staff.get(f"/admin/insights/{name}/").status_code == 200


def test_the_admin_import_reports_unmatched_rows_and_writes_nothing(community, staff):
    known = MembershipFactory(community=community, user=UserFactory(nickname="小明"))
    url = "/admin/insights/memberday/import-messages/"
    assert staff.get(url).status_code == 200
    bad = SimpleUploadedFile(
        "c.csv", "date,nickname,messages\n2026-11-02,小明,4\n2026-11-02,路人,9\n".encode()
    )
    page = staff.post(url, {"community": community.pk, "file": bad})
    assert "路人" in page.content.decode()
    assert not MemberDay.objects.exists()
    good = SimpleUploadedFile("c.csv", "date,nickname,messages\n2026-11-02,小明,4\n".encode())
    staff.post(url, {"community": community.pk, "file": good})
    assert MemberDay.objects.get(user_id=known.user_id).messages == 4


def test_the_admin_saves_the_settings_through_the_service(community, staff):
    url = "/admin/insights/insightssettings/add/"
    fields = {
        "community": community.pk,
        "inactive_after_days": 30,
        "grace_days": 5,
        "new_member_days": 14,
        "core_min_days": 8,
        "dormant_after_days": 14,
        "member_floor": 5,
        "members_see_top": "on",
    }
    staff.post(url, fields)
    rules = InsightsSettings.objects.get(community=community)
    assert (rules.inactive_after_days, rules.members_see_top) == (30, True)
    assert MembershipStatus.ACTIVE  # the admin's membership stays untouched


def test_one_members_timeline_exports_as_csv_for_the_admin_tiers_only(community, busy, make_member):
    today, members, _idle = busy
    _admin, admin_client = make_member(tier=Tier.ADMIN)
    _moderator, mod_client = make_member(tier=Tier.MODERATOR)
    url = f"/api/v1/communities/{community.pk}/insights/members/{members[2].user_id}/timeline.csv"
    response = admin_client.get(url)
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 3 and lines[1].startswith(str(today))
    assert mod_client.get(url).json()["errors"][0]["code"] == "tier_too_low"
    stranger = MembershipFactory().user_id
    missing = f"/api/v1/communities/{community.pk}/insights/members/{stranger}/timeline.csv"
    assert admin_client.get(missing).status_code == 404
    other = MembershipFactory(tier=Tier.OWNER).community
    assert admin_client.get(f"/api/v1/communities/{other.pk}/insights").status_code == 404
