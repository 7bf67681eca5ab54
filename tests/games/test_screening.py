"""A draw's title and prize names are screened strictly against the fake WeChat server: a draw
cannot wait hidden in the moderation queue, so anything but a pass refuses it (risky:
``content_risky``; review or WeChat down: ``content_not_checked``), and nothing is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from games.models import Draw, DrawRound, Prize
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

CHECK = "/wxa/msg_sec_check"


def verdict(wechat_server, suggest: str | None) -> None:
    if suggest is None:
        wechat_server.expect_request(CHECK).respond_with_response(wechat_json({}, status=500))
    else:
        wechat_server.expect_request(CHECK).respond_with_json(
            {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": 100}}
        )


@pytest.mark.parametrize("suggest", ["risky", "review", None])
@pytest.mark.parametrize("where", ["title", "prize"])
def test_a_draw_wechat_does_not_pass_is_refused_and_nothing_stored(
    wechat_server, settings, community, make_member, suggest, where
):
    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, suggest)
    _, admin_client = make_member(tier="admin")
    body = {
        "title": "加微信领红包" if where == "title" else "年会抽奖",
        "prizes": [{"name": "加微信领红包" if where == "prize" else "耳机", "quantity": 1}],
        "closes_at": (timezone.now() + timedelta(hours=1)).isoformat(),
    }
    response = admin_client.post(f"/api/v1/communities/{community.pk}/draws", body, format="json")
    assert response.status_code == 400, response.content
    code = response.json()["errors"][0]["code"]
    assert code == ("content_risky" if suggest == "risky" else "content_not_checked")
    assert Draw.objects.count() == Prize.objects.count() == DrawRound.objects.count() == 0


def test_a_draw_wechat_passes_is_stored(wechat_server, settings, community, make_member):
    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, "pass")
    _, admin_client = make_member(tier="admin")
    response = admin_client.post(
        f"/api/v1/communities/{community.pk}/draws",
        {
            "title": "年会抽奖",
            "prizes": [{"name": "耳机", "quantity": 1}],
            "closes_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
