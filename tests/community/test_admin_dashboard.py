"""The admin home dashboard: per community the staff user moderates, open polls with their
turnout, open surveys with their response rate, upcoming events with their seats and overdue
tasks; nothing of other communities, and a query count that does not grow with them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community.dashboard import dashboard_for
from community.timezones import community_zone
from events.models import Event
from insights.models import MemberDay
from polls.models import Poll
from roles.models import Board, Column, Task
from surveys.models import Survey
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fill(community, prefix: str) -> None:
    """An open poll (2 voters of 4 eligible), a published survey (1 response), an upcoming
    event (3 of 10 seats) and an overdue task in ``community``."""
    now = timezone.now()
    author = MembershipFactory(community=community, tier="moderator").user
    Poll.objects.create(
        community=community,
        author=author,
        title=f"{prefix}投票",
        kind="single",
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        eligible_count=4,
        voter_count=2,
    )
    Survey.objects.create(
        community=community,
        author=author,
        title=f"{prefix}问卷",
        status="published",
        submitted_count=1,
    )
    Event.objects.create(
        community=community,
        author=author,
        title=f"{prefix}活动",
        starts_at=now + timedelta(days=3),
        capacity=10,
        seats_taken=3,
    )
    board = Board.objects.create(community=community, title=f"{prefix}看板")
    todo = Column.objects.create(community=community, board=board, title="待办", position=1)
    done = Column.objects.create(
        community=community, board=board, title="完成", position=2, is_done=True
    )
    for i, (column, due) in enumerate(
        [(todo, now - timedelta(days=1)), (done, now - timedelta(days=1)), (todo, None)]
    ):
        Task.objects.create(
            community=community, board=board, column=column, position=i + 1, title="t", due_at=due
        )


def _moderator_of(*communities):
    staff = UserFactory(is_staff=True)
    for community in communities:
        MembershipFactory(community=community, user=staff, tier="moderator")
    return staff


def test_dashboard_shows_own_communities_figures_only():
    hiking, books = CommunityFactory(name="徒步群"), CommunityFactory(name="读书会")
    _fill(hiking, "徒步")
    _fill(books, "读书")
    staff = _moderator_of(hiking)
    client = Client()
    client.force_login(staff)

    page = client.get("/admin/").content.decode()

    assert "徒步投票" in page and "徒步问卷" in page and "徒步活动" in page
    assert "读书" not in page
    assert "投票率 50%" in page  # 2 voters of 4 eligible
    assert "3/10 座位" in page
    [panel] = dashboard_for(user=staff)
    assert panel.overdue_tasks == 1  # the one in the done column and the undated one are not
    # 2 active members (the staff user and the author): 1 response of 2 is 50%
    assert panel.members == 2 and panel.surveys[0]["rate"] == 50


def test_dashboard_queries_do_not_grow_with_communities():
    first = CommunityFactory()
    _fill(first, "a")
    staff = _moderator_of(first)
    with CaptureQueriesContext(connection) as one:
        dashboard_for(user=staff)
    for name in "bc":
        community = CommunityFactory()
        _fill(community, name)
        MembershipFactory(community=community, user=staff, tier="moderator")
    with CaptureQueriesContext(connection) as three:
        panels = dashboard_for(user=staff)
    assert len(panels) == 3 and all(p.polls and p.events for p in panels)
    assert len(one) == len(three) == 7  # one per kind of row, the activity series included


def test_staff_without_communities_gets_an_empty_dashboard():
    staff = UserFactory(is_staff=True)
    assert dashboard_for(user=staff) == []


def test_dashboard_draws_daily_active_members_of_30_days():
    """The chart's data is on the page (one point per local day, oldest first, members active
    that day) and its script is the bundled Chart.js, served from static files (no CDN)."""
    from django.contrib.staticfiles.views import serve
    from django.test import RequestFactory

    hiking = CommunityFactory(name="徒步群")
    staff = _moderator_of(hiking)
    today = timezone.now().astimezone(community_zone(hiking)).date()
    members = [MembershipFactory(community=hiking) for _ in range(3)]
    for m in members:
        MemberDay.objects.create(community=hiking, user_id=m.user_id, day=today, votes=1)
    MemberDay.objects.create(
        community=hiking, user_id=members[0].user_id, day=today - timedelta(days=29)
    )
    MemberDay.objects.create(  # 30 days ago: outside the chart
        community=hiking, user_id=members[1].user_id, day=today - timedelta(days=30)
    )
    client = Client()
    client.force_login(staff)

    page = client.get("/admin/")
    html = page.content.decode()

    [panel] = page.context["dashboard"]
    assert len(panel.activity) == 30
    assert panel.activity[0] == {"day": (today - timedelta(days=29)).isoformat(), "active": 1}
    assert panel.activity[-1] == {"day": today.isoformat(), "active": 3}
    assert sum(p["active"] for p in panel.activity) == 4
    assert f'<script id="activity-{hiking.pk}" type="application/json">' in html
    assert f'{{"day": "{today.isoformat()}", "active": 3}}' in html
    assert '<script src="/static/insights/chart.umd.js"></script>' in html
    assert "每日活跃成员" in html
    assert "cdn" not in html.lower()

    response = serve(
        RequestFactory().get("/static/insights/chart.umd.js"),
        "insights/chart.umd.js",
        insecure=True,
    )
    assert response.status_code == 200
    script = b"".join(response.streaming_content)
    assert (
        script.startswith(b"/*!\n * Chart.js v4.") and b"Released under the MIT License" in script
    )
