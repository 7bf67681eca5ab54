"""FAQ answers and keyword-rule replies are published text: screened against the fake WeChat
server before anything is stored. Staff texts cannot wait hidden in a queue (they go out to
members at once), so risky, review and an unreachable WeChat all refuse, and nothing is stored."""

from __future__ import annotations

import pytest

from assistant.models import FaqEntry, KeywordRule
from community.models import Tier
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


@pytest.mark.parametrize(
    "suggest,status,code",
    [
        ("pass", 201, None),
        ("risky", 400, "content_risky"),
        ("review", 400, "content_not_checked"),
        (None, 400, "content_not_checked"),
    ],
)
def test_faq_entries_are_screened(
    wechat_server, settings, community, make_member, suggest, status, code
):
    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, suggest)
    _, client = make_member(tier=Tier.ADMIN)
    r = client.post(
        f"/api/v1/communities/{community.pk}/faq-entries",
        {"question": "怎么报名", "answer": "加微信领红包", "keywords": ["报名"]},
        format="json",
    )
    assert r.status_code == status, r.content
    if code:
        assert r.json()["errors"][0]["code"] == code
        assert not FaqEntry.objects.exists()
    else:
        assert FaqEntry.objects.get().answer == "加微信领红包"
    assert any(req.path == CHECK for req, _ in wechat_server.log)


def test_an_edit_is_screened_only_for_what_changed(wechat_server, settings, community, make_member):
    _, client = make_member(tier=Tier.ADMIN)
    entry = FaqEntry.objects.create(
        community=community, question="q", answer="a", status="published"
    )
    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, "risky")
    r = client.patch(f"/api/v1/faq-entries/{entry.pk}", {"answer": "坏内容"}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "answer"
    entry.refresh_from_db()
    assert entry.answer == "a"
    wechat_server.clear_log()
    r = client.patch(f"/api/v1/faq-entries/{entry.pk}", {"status": "draft"}, format="json")
    assert r.status_code == 200
    assert not any(req.path == CHECK for req, _ in wechat_server.log)


@pytest.mark.parametrize("suggest,status", [("pass", 201), ("review", 400), (None, 400)])
def test_rule_reply_texts_are_screened(
    wechat_server, settings, community, make_member, suggest, status
):
    settings.WECHAT_CONTENT_CHECK = True
    verdict(wechat_server, suggest)
    _, client = make_member(tier=Tier.ADMIN)
    r = client.post(
        f"/api/v1/communities/{community.pk}/keyword-rules",
        {"match_kind": "contains", "pattern": "红包", "reply_kind": "text", "reply_text": "私聊"},
        format="json",
    )
    assert r.status_code == status, r.content
    assert KeywordRule.objects.exists() is (status == 201)
