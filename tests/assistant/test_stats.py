"""The assistant's statistics: top questions (most served entries, most frequent normalised
texts), unanswered questions grouped as suggested FAQ entries, answer times (median and 90th
percentile, assistant and person); over the API and on the admin page with its "create FAQ
entry from this" link; the FAQ and keyword-rule admin through the services."""

from __future__ import annotations

import itertools
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.utils import timezone

from assistant.models import Conversation, FaqEntry, InboundMessage, KeywordRule
from assistant.services import faq_mark_served
from community.models import Tier
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

_ids = itertools.count()


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False


def message(community, text, *, status, source="", seconds=None, ago=timedelta(hours=1)):
    """An inbound message received ``ago``, answered ``seconds`` later (None: not yet)."""
    received = timezone.now() - ago
    conversation, _ = Conversation.objects.get_or_create(
        community=community,
        openid_hash=f"h{next(_ids) % 3}",
        defaults={"last_member_message_at": received},
    )
    return InboundMessage.objects.create(
        community=community,
        conversation=conversation,
        openid_hash=conversation.openid_hash,
        wechat_msg_id=f"m{next(_ids)}",
        content=text,
        sent_at=received,
        received_at=received,
        status=status,
        answer_source=source,
        answered_at=received + timedelta(seconds=seconds) if seconds is not None else None,
    )


@pytest.fixture
def history(community):
    signup = FaqEntry.objects.create(
        community=community, question="怎么报名", answer="点报名", status="published"
    )
    fee = FaqEntry.objects.create(
        community=community, question="收费吗", answer="AA", status="published"
    )
    for seconds in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
        message(
            community,
            "怎么报名？",
            status="answered_auto",
            source=f"faq:{signup.pk}",
            seconds=seconds,
        )
    message(community, "收费吗", status="answered_auto", source=f"faq:{fee.pk}", seconds=2)
    # Unanswered, written three ways: one question.
    message(community, "停车场在哪", status="handed_over", source="none")
    message(community, "停车场 在哪？", status="answered_human", source="none", seconds=600)
    message(community, "停车场在哪!", status="answered_human", source="none", seconds=1200)
    message(community, "可以带狗吗", status="handed_over", source="none")
    message(community, "转人工", status="handed_over", source="person")  # not a question
    message(community, "很久以前", status="handed_over", source="none", ago=timedelta(days=40))
    message(CommunityFactory(), "别的群的问题", status="handed_over", source="none")
    return signup, fee


def stats(client, community, **params):
    r = client.get(f"/api/v1/communities/{community.pk}/assistant-stats", params)
    assert r.status_code == 200, r.content
    return r.json()


def test_stats_over_the_api(community, make_member, history):
    signup, fee = history
    _, client = make_member(tier=Tier.ADMIN)
    data = stats(client, community)
    assert (
        data["messages"],
        data["answered_auto"],
        data["handed_over"],
        data["answered_human"],
    ) == (16, 11, 3, 2)
    assert [(e["entry_id"], e["served"]) for e in data["top_entries"]] == [
        (signup.pk, 10),
        (fee.pk, 1),
    ]
    assert (
        data["top_questions"][0]["count"] == 10
        and data["top_questions"][0]["normalized"] == "怎么报名"
    )
    unanswered = {g["normalized"]: (g["count"], g["waiting"]) for g in data["unanswered"]}
    assert unanswered == {"停车场在哪": (3, 1), "可以带狗吗": (1, 1)}
    assert data["unanswered"][0]["normalized"] == "停车场在哪"
    assert data["answer_times"]["auto"] == {"count": 11, "median_seconds": 5.0, "p90_seconds": 9.0}
    assert data["answer_times"]["human"] == {
        "count": 2,
        "median_seconds": 900.0,
        "p90_seconds": 1200.0,
    }
    older = stats(client, community, days=60)
    assert "很久以前" in {g["normalized"] for g in older["unanswered"]}


def test_stats_need_the_admin_tiers_or_the_content_role(community, make_member, history):
    _, member_client = make_member()
    _, moderator_client = make_member(tier=Tier.MODERATOR)
    for client in (member_client, moderator_client):
        r = client.get(f"/api/v1/communities/{community.pk}/assistant-stats")
        assert r.status_code == 403 and r.json()["errors"][0]["code"] == "tier_too_low"


def test_stats_cost_a_fixed_number_of_queries(
    community, make_member, history, django_assert_num_queries
):
    _, client = make_member(tier=Tier.ADMIN)
    with django_assert_num_queries(6):  # token, membership, counts, top entries, their rows, texts
        stats(client, community)
    for _ in range(20):
        message(community, "新问题", status="handed_over", source="none")
    with django_assert_num_queries(6):
        stats(client, community)


def test_served_counter(community, history):
    signup, _ = history
    faq_mark_served(community_id=community.pk, source=f"faq:{signup.pk}")
    faq_mark_served(community_id=community.pk, source="rule:x")
    faq_mark_served(community_id=CommunityFactory().pk, source=f"faq:{signup.pk}")
    signup.refresh_from_db()
    assert signup.times_served == 1


def staff(community, tier):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=tier)
    client = Client()
    client.force_login(user)
    return client


def test_admin_stats_page_offers_to_create_an_entry_from_an_unanswered_question(community, history):
    client = staff(community, "admin")
    page = client.get("/admin/assistant/faqentry/stats/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "停车场在哪" in html and "别的群的问题" not in html
    start = html.index("/admin/assistant/faqentry/add/?")
    link = html[start : html.index('"', start)].replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query["community"] == [community.pk]
    form = client.get(link).content.decode()
    assert query["question"][0] in form
    response = client.post(
        "/admin/assistant/faqentry/add/",
        {
            "community": community.pk,
            "question": query["question"][0],
            "answer": "在东门，免费。",
            "keywords": "停车，停车场",
            "category": "",
            "status": "published",
        },
    )
    html = response.content.decode()
    assert response.status_code == 302, html[html.find("errornote") :][:1500]
    entry = FaqEntry.objects.get(answer="在东门，免费。")
    assert entry.keywords == ["停车", "停车场"] and entry.author is not None
    assert "停车场在哪" in client.get("/admin/assistant/faqentry/").content.decode()


def test_admin_refusals_show_on_the_form(community):
    moderator = staff(community, "moderator")
    assert moderator.get("/admin/assistant/faqentry/stats/").status_code == 404
    body = {
        "community": community.pk,
        "question": "q",
        "answer": "a",
        "keywords": "",
        "category": "",
        "status": "published",
    }
    assert moderator.post("/admin/assistant/faqentry/add/", body).status_code == 200
    admin = staff(community, "admin")
    rule = {
        "community": community.pk,
        "match_kind": "regex",
        "pattern": r"(a|aa)+$",
        "priority": 0,
        "reply_kind": "hand_over",
        "enabled": "on",
    }
    response = admin.post("/admin/assistant/keywordrule/add/", rule)
    assert response.status_code == 200
    assert not FaqEntry.objects.exists() and not KeywordRule.objects.exists()
    response = admin.post("/admin/assistant/keywordrule/add/", {**rule, "pattern": r"^停车"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert KeywordRule.objects.get().pattern == "^停车"
