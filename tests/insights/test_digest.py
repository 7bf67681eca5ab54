"""The weekly digest with a frozen clock: Monday 08:00 in the community's time zone each admin
gets it once (twice the job, or a later hour, still once), before 08:00, on a Sunday or where
it is not Monday morning yet nobody does; the in-app page shows the same figures to the admin
tiers only; and exactly once through a real worker, counted at the fake WeChat server."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from community.models import Notification, SubscriptionCredit, Tier
from community.schedule import JOBS
from insights.digest import weekly_digest
from insights.models import InactiveRound, MemberDay
from insights.tasks import insights_weekly_digest
from polls.models import Poll
from roles.models import Board, Column, Task
from tests.factories import CommunityFactory, MembershipFactory
from tests.waiting import stays, wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_8 = datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)  # ISO week 2026-W49
DIGEST = next(job for job in JOBS if job.name == "insights-weekly-digest")
SEND = "/cgi-bin/message/subscribe/send"


def _team(community):
    """Owner and admin (the recipients), a moderator and a member (not)."""
    return {
        tier: MembershipFactory(community=community, tier=tier)
        for tier in (Tier.OWNER, Tier.ADMIN, Tier.MODERATOR, Tier.MEMBER)
    }


def _digests(community=None) -> list[tuple[str, str]]:
    rows = Notification.objects.filter(kind="weekly_digest")
    if community is not None:
        rows = rows.filter(community=community)
    return sorted(rows.values_list("recipient_id", "dedupe_key"))


@pytest.mark.django_db
def test_monday_0800_shanghai_sends_once_per_admin():
    community = CommunityFactory(name="徒步群")
    team = _team(community)
    admins = sorted([team[Tier.OWNER].user_id, team[Tier.ADMIN].user_id])

    assert insights_weekly_digest(now=(MONDAY_8 - timedelta(minutes=1)).isoformat()) == 0
    assert _digests() == []

    assert insights_weekly_digest(now=MONDAY_8.isoformat()) == 2
    assert _digests() == [(a, "weekly_digest:2026-W49") for a in admins]
    message = Notification.objects.filter(kind="weekly_digest").first()
    assert message.data["thing1"] == "徒步群"
    assert message.page == f"pages/insights/digest?id={community.pk}"

    # The job runs again (and every hour of the day): still one per admin.
    assert insights_weekly_digest(now=MONDAY_8.isoformat()) == 0
    assert insights_weekly_digest(now=(MONDAY_8 + timedelta(hours=5)).isoformat()) == 0
    assert len(_digests()) == 2

    # A new admin that Monday afternoon gets this week's digest; the others do not again.
    late = MembershipFactory(community=community, tier=Tier.ADMIN)
    assert insights_weekly_digest(now=(MONDAY_8 + timedelta(hours=6)).isoformat()) == 1
    assert (late.user_id, "weekly_digest:2026-W49") in _digests()

    # The next Monday is a new week: one more each.
    assert insights_weekly_digest(now=(MONDAY_8 + timedelta(days=7)).isoformat()) == 3
    assert len(_digests()) == 6


@pytest.mark.django_db
def test_sunday_and_other_time_zones_send_nothing():
    shanghai = CommunityFactory()
    _team(shanghai)
    berlin = CommunityFactory(time_zone="Europe/Berlin")
    _team(berlin)

    for hour in (8, 12, 23):  # all of Sunday in Shanghai
        assert (
            insights_weekly_digest(now=(MONDAY_8 - timedelta(days=1, hours=8 - hour)).isoformat())
            == 0
        )
    assert _digests() == []

    # Monday 08:00 in Shanghai is Monday 01:00 in Berlin: only Shanghai's admins.
    insights_weekly_digest(now=MONDAY_8.isoformat())
    assert len(_digests(shanghai)) == 2 and _digests(berlin) == []
    berlin_8 = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    insights_weekly_digest(now=berlin_8.isoformat())
    assert len(_digests(berlin)) == 2 and len(_digests(shanghai)) == 2


@pytest.mark.django_db
def test_digest_figures_of_last_week():
    community = CommunityFactory()
    team = _team(community)
    members = [MembershipFactory(community=community) for _ in range(3)]
    last_week = date(2026, 11, 23)  # Monday of the week reported on
    for m in members:  # three active last week (one twice), one the week before
        MemberDay.objects.create(community=community, user_id=m.user_id, day=last_week, votes=1)
    MemberDay.objects.create(
        community=community, user_id=members[0].user_id, day=last_week + timedelta(days=6)
    )
    MemberDay.objects.create(
        community=community, user_id=members[1].user_id, day=last_week - timedelta(days=1)
    )
    author = team[Tier.MODERATOR].user

    def poll(title, created_at):
        p = Poll.objects.create(
            community=community,
            author=author,
            title=title,
            kind="single",
            opens_at=created_at,
            closes_at=created_at + timedelta(days=1),
            voter_count=3,
        )
        Poll.objects.filter(pk=p.pk).update(created_at=created_at)

    poll("上周的投票", datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI))  # Sunday night
    poll("本周的投票", MONDAY_8 - timedelta(hours=7))  # Monday 01:00: this week
    poll("更早的投票", datetime(2026, 11, 22, 23, 0, tzinfo=SHANGHAI))
    board = Board.objects.create(community=community, title="看板")
    todo = Column.objects.create(community=community, board=board, title="待办", position=1)
    Task.objects.create(
        community=community,
        board=board,
        column=todo,
        position=1,
        title="写总结",
        due_at=MONDAY_8 - timedelta(days=2),
    )
    idle = members[2]
    InactiveRound.objects.create(
        community=community,
        membership=idle,
        user_id=idle.user_id,
        started_at=MONDAY_8 - timedelta(days=10),
        last_active_at=idle.last_active_at,
    )

    data = weekly_digest(community=community, now=MONDAY_8)

    assert data["week"] == "2026-W49"
    assert (data["week_starts_on"], data["week_ends_on"]) == (last_week, date(2026, 11, 29))
    assert (data["active_members"], data["active_members_before"]) == (3, 1)
    assert data["active_change"] == 2
    assert [p["title"] for p in data["participation"]] == ["上周的投票"]
    assert data["participation"][0]["rate"] == 0.429  # 3 voters of 7 members present
    assert data["overdue_task_count"] == 1 and data["overdue_tasks"][0]["title"] == "写总结"
    assert (data["inactive_candidates"], data["inactive_to_clean_up"]) == (1, 1)


@pytest.mark.django_db
def test_weekly_digest_api_for_admin_tiers_only(community, make_member):
    _, admin_client = make_member(tier=Tier.ADMIN)
    _, moderator_client = make_member(tier=Tier.MODERATOR)
    url = f"/api/v1/communities/{community.pk}/insights/weekly-digest"

    response = admin_client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    today = timezone.now().astimezone(SHANGHAI).date()
    year, week, _ = today.isocalendar()
    assert body["week"] == f"{year}-W{week:02d}"
    assert body["members"] == 2 and body["overdue_tasks"] == []

    denied = moderator_client.get(url)
    assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == "tier_too_low"


@pytest.mark.celery_worker
def test_digest_exactly_once_through_a_worker(wechat_server, celery_workers):
    """Beat queues the job twice (a redelivery, a second hour): each admin receives one
    message, counted where it arrives, the fake WeChat server."""
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    worker = celery_workers(TEST_WECHAT_TEMPLATES=json.dumps({"weekly_digest": "tmpl-digest"}))
    community = CommunityFactory()
    team = _team(community)
    admins = [team[Tier.OWNER].user, team[Tier.ADMIN].user]
    for user in admins:
        SubscriptionCredit.objects.create(user=user, template_id="tmpl-digest", credits=2)

    DIGEST.delay(now=MONDAY_8)
    DIGEST.delay(now=MONDAY_8 + timedelta(minutes=30))

    def received() -> list[str]:
        return sorted(
            json.loads(request.get_data())["touser"]
            for request, _ in wechat_server.log
            if request.path == SEND
        )

    expected = sorted(user.openid for user in admins)
    wait_for(
        lambda: len(received()) >= len(expected),
        timeout=60,
        message=lambda: f"messages to {expected}, got {received()}\n{worker.output}",
    )
    wait_for(lambda: Notification.objects.filter(kind="weekly_digest", status="sent").count() == 2)
    assert stays(lambda: received() == expected, duration=2.0), received()
