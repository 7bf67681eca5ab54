"""One pagination style for every list: a cursor and the envelope ``{next, previous,
results}``, and scrolling a list with it returns every item once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Tier
from tests.contract.schema import load_schema
from tests.factories import MembershipFactory
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db


def test_every_list_has_the_cursor_envelope():
    schema = load_schema()
    schemas = schema["components"]["schemas"]
    problems = []
    for item in schema["paths"].values():
        op = item.get("get")
        if not op:
            continue
        body = op["responses"]["200"].get("content", {}).get("application/json", {})
        ref = body.get("schema", {})
        if ref.get("type") == "array":
            problems.append(f"{op['operationId']}: a bare array")
            continue
        name = ref.get("$ref", "").rsplit("/", 1)[-1]
        if name.startswith("Paginated"):
            params = {p["name"] for p in op.get("parameters", [])}
            props = set(schemas[name]["properties"])
            if props != {"next", "previous", "results"} or not {"cursor", "page_size"} <= params:
                problems.append(f"{op['operationId']}: {sorted(props)} {sorted(params)}")
    assert not problems, problems


def _scroll(client, url, page_size=2) -> list[str]:
    ids, params = [], {"page_size": page_size}
    while url:
        body = client.get(url, params).json()
        assert set(body) == {"next", "previous", "results"}
        ids += [item.get("id") or item["community"]["id"] for item in body["results"]]
        url, params = body["next"], {}
    return ids


def test_scrolling_returns_every_item_once(make_member, community):
    membership, client = make_member(tier=Tier.MODERATOR)
    for _ in range(4):
        MembershipFactory(user=membership.user)  # my other communities
        make_member()
    in_a_week = timezone.now() + timedelta(days=7)
    surveys = [
        make_survey(community, basic_questions(), closes_at=in_a_week),  # same closing time
        make_survey(community, basic_questions(), closes_at=in_a_week),
        make_survey(community, basic_questions()),  # never closes: last
        make_survey(community, basic_questions(), closes_at=timezone.now() + timedelta(days=1)),
        make_survey(community, basic_questions(), closes_at=in_a_week),
    ]
    assert len(set(_scroll(client, "/api/v1/communities"))) == 5
    members = _scroll(client, f"/api/v1/communities/{community.pk}/members")
    assert len(members) == len(set(members)) == 5
    listed = _scroll(client, f"/api/v1/communities/{community.pk}/surveys")
    assert sorted(listed) == sorted(s.pk for s in surveys)
    assert listed[0] == surveys[3].pk and listed[-1] == surveys[2].pk
    assert _scroll(client, "/api/v1/surveys") == listed
