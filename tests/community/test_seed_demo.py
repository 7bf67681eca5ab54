"""`manage.py seed_demo`: the demo the run command starts with."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from community.models import Community, User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_usable_through_the_api():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    community = Community.objects.get(invite_code="DEMO2026")
    assert community.memberships.count() == 7 + 24  # and 24 members of the generated activity
    from insights.models import CommunityDay, MemberDay

    days = MemberDay.objects.filter(community=community).values_list("day", flat=True)
    assert (max(days) - min(days)).days >= 50  # two months of activity, once (idempotent)
    assert CommunityDay.objects.filter(community=community).exists()  # the dashboard's summary
    client = client_for(User.objects.get(username="dev_小张"))
    polls = client.get(f"/api/v1/communities/{community.pk}/polls").json()["results"]
    assert {p["title"] for p in polls} == {"这周末去哪里爬山？", "集合时间"}
    surveys = client.get(f"/api/v1/communities/{community.pk}/surveys").json()["results"]
    assert [s["title"] for s in surveys] == ["上次活动满意度调查"]
    assert User.objects.get(username="admin").check_password("admin")
    boards = client.get(f"/api/v1/communities/{community.pk}/boards").json()["results"]
    assert len(boards) == 1
    board = client.get(f"/api/v1/boards/{boards[0]['id']}").json()
    titles = {t["title"] for c in board["columns"] for t in c["tasks"]}
    assert {"整理本周活动照片", "需要3人搬物资"} <= titles


def test_seed_demo_has_the_suggested_roles_with_holders():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    community = Community.objects.get(invite_code="DEMO2026")
    client = client_for(User.objects.get(username="dev_小张"))
    roles = client.get(f"/api/v1/communities/{community.pk}/roles").json()["results"]
    holders = {r["name"]: [h["member"]["user"]["nickname"] for h in r["holders"]] for r in roles}
    assert holders == {
        "内容整理": ["小张"],
        "活动策划": ["小张"],
        "新人欢迎": ["小陈"],
        "秩序维护": ["版主阿美"],
    }
    mine = client.get("/api/v1/me/roles").json()["results"]
    assert {r["role"]["name"] for r in mine} == {"内容整理", "活动策划"}


def test_seed_demo_has_an_open_jielong_and_a_full_event_with_a_form():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    community = Community.objects.get(invite_code="DEMO2026")
    client = client_for(User.objects.get(username="dev_小刘"))
    from events.models import Event

    quick = Event.objects.get(community=community, mode="quick")
    full = Event.objects.get(community=community, mode="full")
    assert quick.status == "open" and quick.capacity == 12
    text = client.get(f"/api/v1/events/{quick.pk}/jielong").json()["text"]
    assert "1. 小张 +1" in text and "2. 小陈 (带水)" in text
    assert full.form["questions"][0]["title"] == "帐篷"
    assert (full.seats_taken, full.capacity, full.waitlist_count) == (3, 3, 1)
    assert Event.objects.filter(community=community).count() == 2
