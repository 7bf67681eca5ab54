"""Draws in the admin go through the same services: an admin-tier staff user creates a draw
(round 1 committed), draws it with the action, and reads the commitment, list and result; a
moderator is refused on the form, nothing stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from community.timezones import localize
from games.models import Draw, DrawRound, Winner
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff(community, tier):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=tier)
    client = Client()
    client.force_login(user)
    return client


def form(community, **extra):
    closes = localize(timezone.now() + timedelta(hours=2), community)
    return {
        "community": community.pk,
        "title": "后台抽奖",
        "prizes_text": "一等奖 耳机 x1\n二等奖 杯子 x2",
        "source": "members",
        "source_id": "",
        "closes_at_0": closes.strftime("%Y-%m-%d"),
        "closes_at_1": closes.strftime("%H:%M:%S"),
        "claim_hours": "72",
        "exclude_organizer": "on",
        "exclude_recent_winners_days": "0",
        **extra,
    }


def test_admin_creates_draws_and_reads_the_result(community, make_member):
    for _ in range(4):
        make_member()
    client = staff(community, "admin")
    response = client.post("/admin/games/draw/add/", form(community))
    assert response.status_code == 302, response.content.decode()[:3000]
    draw = Draw.objects.get()
    assert list(draw.prizes.values_list("name", "quantity")) == [
        ("一等奖 耳机", 1),
        ("二等奖 杯子", 2),
    ]
    assert DrawRound.objects.filter(draw=draw, number=1).exists()
    response = client.post(
        "/admin/games/draw/", {"action": "draw_now", "_selected_action": [draw.pk]}
    )
    assert response.status_code == 302
    assert Winner.objects.filter(draw=draw).count() == 3
    page = client.get(f"/admin/games/draw/{draw.pk}/change/").content.decode()
    seed = DrawRound.objects.get(draw=draw, number=1).seed
    assert seed in page and draw.entries_hash in page


def test_moderator_and_bad_prizes_are_refused_on_the_form(community):
    moderator = staff(community, "moderator")
    assert moderator.post("/admin/games/draw/add/", form(community)).status_code in (200, 403)
    admin = staff(community, "admin")
    response = admin.post("/admin/games/draw/add/", form(community, prizes_text="很多奖品"))
    assert response.status_code == 200
    assert not Draw.objects.exists()
