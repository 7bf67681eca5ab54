"""Shared steps of the lucky draw tests."""

from __future__ import annotations

from datetime import datetime

from games.models import Draw


def create_draw(client, community, closes_at: datetime, **extra) -> dict:
    body = {
        "title": "年会抽奖",
        "prizes": [{"name": "一等奖", "quantity": 1}, {"name": "二等奖", "quantity": 3}],
        "closes_at": closes_at.isoformat(),
        **extra,
    }
    response = client.post(f"/api/v1/communities/{community.pk}/draws", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def draw_row(draw_id: str) -> Draw:
    return Draw.objects.get(pk=draw_id)
