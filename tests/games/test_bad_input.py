"""Bad input, other communities' ids, refusals: 4xx in the one error shape, nothing written;
and the query counts of the list endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from games.models import Draw, DrawJoin, DrawRound
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory
from tests.games.helpers import create_draw

pytestmark = pytest.mark.django_db

#: token, the membership (or the draw with the membership), the page: whatever the size
QUERIES = 3


def _codes(response) -> list[str]:
    body = response.json()
    assert set(body) == {"type", "errors"}
    return [e["code"] for e in body["errors"]]


@pytest.mark.parametrize(
    "change",
    [
        {"title": ""},
        {"title": 5, "prizes": "x"},
        {"prizes": []},
        {"prizes": [{"name": "奖", "quantity": 0}]},
        {"prizes": [{"name": "奖", "quantity": "many"}]},
        {"closes_at": "tomorrow"},
        {"closes_at": "2020-01-01T00:00:00+08:00"},
        {"source": "everyone"},
        {"source": "poll_voters"},
        {"source": "poll_voters", "source_id": "nope"},
        {"source": "members", "source_id": "x"},
        {"claim_hours": 0},
        {"claim_hours": 100000},
        {"exclude_recent_winners_days": -1},
        {"excluded_member_ids": ["nobody"]},
    ],
)
def test_create_refuses_bad_input(community, admin, change):
    _m, client = admin
    body = {
        "title": "抽奖",
        "prizes": [{"name": "奖", "quantity": 1}],
        "closes_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        **change,
    }
    response = client.post(f"/api/v1/communities/{community.pk}/draws", body, format="json")
    assert response.status_code == 400, response.json()
    assert _codes(response)
    assert Draw.objects.count() == 0 and DrawRound.objects.count() == 0


def test_other_communities_and_tiers(community, admin, member, soon):
    _admin_m, admin_c = admin
    draw = create_draw(admin_c, community, soon, source="joined")
    stranger = MembershipFactory(community=CommunityFactory())
    sc = client_for(stranger.user)
    for method, path in [
        ("get", ""),
        ("put", "/entry"),
        ("post", "/draw"),
        ("post", "/claim"),
        ("get", "/publication"),
        ("get", "/entries"),
        ("get", "/entries.csv"),
    ]:
        response = getattr(sc, method)(f"/api/v1/draws/{draw['id']}{path}")
        assert response.status_code == 404, path
        assert _codes(response) == ["draw_not_found"]
    response = sc.post(f"/api/v1/communities/{community.pk}/draws", {"title": "x"}, format="json")
    assert response.status_code == 404
    _m, mc = member
    assert _codes(mc.post(f"/api/v1/draws/{draw['id']}/draw")) == ["tier_too_low"]
    assert _codes(mc.get(f"/api/v1/draws/{draw['id']}/entries")) == ["tier_too_low"]
    created = mc.post(
        f"/api/v1/communities/{community.pk}/draws",
        {
            "title": "x",
            "prizes": [{"name": "奖", "quantity": 1}],
            "closes_at": soon.isoformat(),
        },
        format="json",
    )
    assert _codes(created) == ["tier_too_low"]
    assert mc.get("/api/v1/draws/nonexistent").status_code == 404
    assert DrawJoin.objects.count() == 0


def test_conflicts(community, admin, member, soon):
    _admin_m, admin_c = admin
    _m, mc = member
    draw = create_draw(admin_c, community, soon)
    assert _codes(mc.put(f"/api/v1/draws/{draw['id']}/entry")) == ["draw_not_joinable"]
    assert _codes(admin_c.get(f"/api/v1/draws/{draw['id']}/entries")) == ["draw_not_drawn"]
    assert _codes(mc.post(f"/api/v1/draws/{draw['id']}/claim")) == ["no_prize_to_claim"]
    empty = create_draw(admin_c, community, soon, source="joined")
    assert _codes(admin_c.post(f"/api/v1/draws/{empty['id']}/draw")) == ["draw_no_entries"]
    assert admin_c.post(f"/api/v1/draws/{draw['id']}/draw").status_code == 200
    assert _codes(admin_c.post(f"/api/v1/draws/{draw['id']}/draw")) == ["draw_already_drawn"]


def test_organizer_list_and_csv(community, admin, make_member, soon):
    _admin_m, admin_c = admin
    for _ in range(3):
        make_member()
    draw = create_draw(admin_c, community, soon, prizes=[{"name": "=奖", "quantity": 1}])
    admin_c.post(f"/api/v1/draws/{draw['id']}/draw")
    rows = admin_c.get(f"/api/v1/draws/{draw['id']}/entries").json()["results"]
    assert len(rows) == 3 and sum(1 for r in rows if r["prize_name"]) == 1
    csv = admin_c.get(f"/api/v1/draws/{draw['id']}/entries.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 4 and "'=奖" in text


def test_list_query_counts(community, admin, make_member, soon, django_assert_num_queries):
    _admin_m, admin_c = admin
    _m, mc = make_member()
    create_draw(admin_c, community, soon)
    with django_assert_num_queries(QUERIES):  # token, membership, the page
        assert len(mc.get(f"/api/v1/communities/{community.pk}/draws").json()["results"]) == 1
    for _ in range(4):
        create_draw(admin_c, community, soon, source="joined")
    with django_assert_num_queries(QUERIES):
        assert len(mc.get(f"/api/v1/communities/{community.pk}/draws").json()["results"]) == 5


def test_entry_list_query_count(community, admin, make_member, soon, django_assert_num_queries):
    _admin_m, admin_c = admin
    make_member()
    draw = create_draw(admin_c, community, soon)
    admin_c.post(f"/api/v1/draws/{draw['id']}/draw")
    with django_assert_num_queries(QUERIES):  # token, draw with membership, the page
        admin_c.get(f"/api/v1/draws/{draw['id']}/entries")
    for _ in range(6):
        make_member()
    draw2 = create_draw(admin_c, community, soon)
    admin_c.post(f"/api/v1/draws/{draw2['id']}/draw")
    with django_assert_num_queries(QUERIES):
        assert len(admin_c.get(f"/api/v1/draws/{draw2['id']}/entries").json()["results"]) == 7
