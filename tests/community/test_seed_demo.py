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
    assert community.memberships.count() == 7
    client = client_for(User.objects.get(username="dev_小张"))
    polls = client.get(f"/api/v1/communities/{community.pk}/polls").json()["results"]
    assert {p["title"] for p in polls} == {"这周末去哪里爬山？", "集合时间"}
    surveys = client.get(f"/api/v1/communities/{community.pk}/surveys").json()["results"]
    assert [s["title"] for s in surveys] == ["上次活动满意度调查"]
    assert User.objects.get(username="admin").check_password("admin")


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
