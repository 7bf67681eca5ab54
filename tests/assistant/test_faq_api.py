"""The FAQ over HTTP: who writes entries, the in-app list (search, category, drafts, cursor,
query count), "was this helpful?" (idempotent, one vote per member), other communities' ids,
bad input, and the keyword rules' checks when saved."""

from __future__ import annotations

import pytest

from assistant.models import FaqEntry, FaqFeedback, KeywordRule
from community.models import Tier
from roles.models import Role, RoleAssignment
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

ENTRY = {"question": "怎么报名活动？", "answer": "在活动页点报名。", "keywords": ["报名", "接龙"]}


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False


@pytest.fixture
def admin(make_member):
    return make_member(tier=Tier.ADMIN)


def create(client, community, body, status=201):
    response = client.post(f"/api/v1/communities/{community.pk}/faq-entries", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def listed(client, community, **params):
    response = client.get(f"/api/v1/communities/{community.pk}/faq-entries", params)
    assert response.status_code == 200, response.content
    return [e["question"] for e in response.json()["results"]]


def test_admins_and_the_content_role_write_members_do_not(community, admin, make_member):
    member, member_client = make_member()
    r = create(member_client, community, ENTRY, 403)
    assert r["errors"][0]["code"] == "tier_too_low"
    moderator_client = make_member(tier=Tier.MODERATOR)[1]
    create(moderator_client, community, ENTRY, 403)
    assert not FaqEntry.objects.exists()
    role = Role.objects.create(
        community=community, name="内容整理", capabilities=["publish_content"]
    )
    RoleAssignment.objects.create(community=community, role=role, membership=member)
    created = create(member_client, community, ENTRY)
    assert created["status"] == "published" and created["keywords"] == ["报名", "接龙"]
    assert created["my_feedback"] is None and created["helpful_yes"] == 0
    r = create(admin[1], community, ENTRY, 409)
    assert r["errors"][0]["code"] == "faq_question_taken"


def test_edit_and_delete(community, admin, member):
    _, client = admin
    entry = create(client, community, ENTRY)
    r = client.patch(
        f"/api/v1/faq-entries/{entry['id']}",
        {"answer": "新的答案", "status": "draft"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["answer"] == "新的答案" and r.json()["status"] == "draft"
    # A draft is not there for members.
    assert member[1].get(f"/api/v1/faq-entries/{entry['id']}").status_code == 404
    assert member[1].delete(f"/api/v1/faq-entries/{entry['id']}").status_code == 403
    assert client.delete(f"/api/v1/faq-entries/{entry['id']}").status_code == 204
    assert not FaqEntry.objects.exists()


def test_keywords_are_normalised_and_deduplicated(community, admin):
    created = create(
        admin[1], community, {**ENTRY, "keywords": ["报名", " 报名 ", "ＡＡ", "aa", "报\u200b名"]}
    )
    assert created["keywords"] == ["报名", "AA"]
    r = create(admin[1], community, {**ENTRY, "question": "q2", "keywords": ["？！"]}, 400)
    assert r["errors"][0]["code"] == "keyword_empty"
    assert r["errors"][0]["attr"] == "keywords"


def test_member_list_search_category_and_drafts(community, admin, member):
    _, client = admin
    create(client, community, {**ENTRY, "category": "活动"})
    create(
        client,
        community,
        {"question": "活动收费吗", "answer": "AA制", "keywords": ["费用"], "category": "活动"},
    )
    create(client, community, {"question": "群规在哪看", "answer": "群规页", "category": ""})
    create(client, community, {"question": "草稿问题", "answer": "草稿", "status": "draft"})
    member_client = member[1]
    assert listed(member_client, community) == ["怎么报名活动？", "活动收费吗", "群规在哪看"]
    assert listed(member_client, community, q="费用") == ["活动收费吗"]  # a keyword
    assert listed(member_client, community, q="aa制") == ["活动收费吗"]  # the answer, any case
    assert listed(member_client, community, category="活动") == ["怎么报名活动？", "活动收费吗"]
    assert listed(member_client, community, category="") == ["群规在哪看"]
    assert listed(member_client, community, q="草稿") == []
    assert "草稿问题" in listed(client, community)
    assert listed(client, community, status="draft") == ["草稿问题"]
    categories = member_client.get(f"/api/v1/communities/{community.pk}/faq-categories").json()
    assert categories == {
        "categories": [{"category": "", "count": 1}, {"category": "活动", "count": 2}]
    }


def test_list_is_cursor_paginated_with_a_fixed_query_count(
    community, admin, member, django_assert_num_queries
):
    for i in range(7):
        FaqEntry.objects.create(
            community=community, question=f"问题{i}", answer="答", status="published"
        )
    url = f"/api/v1/communities/{community.pk}/faq-entries"
    first = member[1].get(url, {"page_size": 4}).json()
    second = member[1].get(first["next"]).json()
    assert [e["question"] for e in first["results"] + second["results"]] == [
        f"问题{i}" for i in range(7)
    ]
    # token, membership, my role capabilities (may I see drafts?), the page with my votes
    with django_assert_num_queries(4) as few:
        member[1].get(url, {"page_size": 2})
    with django_assert_num_queries(len(few.captured_queries)):
        member[1].get(url, {"page_size": 7})


def test_helpful_votes_are_idempotent_and_counted(community, admin, make_member):
    entry = create(admin[1], community, ENTRY)
    url = f"/api/v1/faq-entries/{entry['id']}/feedback"
    a, a_client = make_member()
    _, b_client = make_member()
    for _ in range(2):
        r = a_client.put(url, {"helpful": True}, format="json")
        assert r.status_code == 200, r.content
    assert (r.json()["helpful_yes"], r.json()["helpful_no"], r.json()["my_feedback"]) == (
        1,
        0,
        True,
    )
    r = b_client.put(url, {"helpful": False}, format="json")
    assert (r.json()["helpful_yes"], r.json()["helpful_no"]) == (1, 1)
    r = a_client.put(url, {"helpful": False}, format="json")  # a changes their mind
    assert (r.json()["helpful_yes"], r.json()["helpful_no"], r.json()["my_feedback"]) == (
        0,
        2,
        False,
    )
    assert FaqFeedback.objects.filter(member=a).count() == 1
    assert a_client.get(f"/api/v1/faq-entries/{entry['id']}").json()["my_feedback"] is False


def test_muted_members_may_vote(community, admin, make_member):
    entry = create(admin[1], community, ENTRY)
    _, muted_client = make_member(status="muted")
    r = muted_client.put(
        f"/api/v1/faq-entries/{entry['id']}/feedback", {"helpful": True}, format="json"
    )
    assert r.status_code == 200, r.content


def test_other_communities_ids_answer_404_and_change_nothing(
    community, admin, outsider, make_member
):
    entry = create(admin[1], community, ENTRY)
    other = CommunityFactory()
    _, other_admin = make_member(tier=Tier.ADMIN, community=other)
    for client in (other_admin, outsider[1]):
        assert client.get(f"/api/v1/faq-entries/{entry['id']}").status_code == 404
        r = client.patch(f"/api/v1/faq-entries/{entry['id']}", {"answer": "x"}, format="json")
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "faq_entry_not_found"
        assert (
            client.put(
                f"/api/v1/faq-entries/{entry['id']}/feedback", {"helpful": True}, format="json"
            ).status_code
            == 404
        )
        assert client.delete(f"/api/v1/faq-entries/{entry['id']}").status_code == 404
        assert client.get(f"/api/v1/communities/{community.pk}/faq-entries").status_code == 404
        assert client.get(f"/api/v1/communities/{community.pk}/assistant-stats").status_code == 404
    rule = KeywordRule.objects.create(
        community=community, match_kind="exact", pattern="x", reply_kind="hand_over"
    )
    assert other_admin.get(f"/api/v1/keyword-rules/{rule.pk}").status_code == 404
    # An FAQ entry of another community cannot be a rule's answer.
    other_entry = FaqEntry.objects.create(
        community=other, question="q", answer="a", status="published"
    )
    r = admin[1].post(
        f"/api/v1/communities/{community.pk}/keyword-rules",
        {"match_kind": "exact", "pattern": "x", "reply_kind": "faq", "faq_id": other_entry.pk},
        format="json",
    )
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "faq_entry_not_found"
    assert FaqEntry.objects.get(pk=entry["id"]).answer == ENTRY["answer"]
    assert FaqFeedback.objects.count() == 0 and KeywordRule.objects.count() == 1


@pytest.mark.parametrize(
    "body,attr",
    [
        ({}, "question"),
        ({"question": "q"}, "answer"),
        ({"question": 12, "answer": ["a"]}, "answer"),
        ({"question": "q" * 201, "answer": "a"}, "question"),
        ({"question": "q", "answer": "a" * 601}, "answer"),
        ({"question": "q", "answer": "a", "keywords": "报名"}, "keywords"),
        ({"question": "q", "answer": "a", "keywords": ["k"] * 21}, "keywords"),
        ({"question": "q", "answer": "a", "status": "hidden"}, "status"),
        ({"question": "\u200b ", "answer": "a"}, "question"),
    ],
)
def test_bad_entries_answer_400_and_store_nothing(community, admin, body, attr):
    r = create(admin[1], community, body, 400)
    assert r["type"] == "validation_error"
    assert r["errors"][0]["attr"] == attr
    assert not FaqEntry.objects.exists()


def test_bad_feedback_and_list_parameters(community, admin, member):
    entry = create(admin[1], community, ENTRY)
    url = f"/api/v1/faq-entries/{entry['id']}/feedback"
    for body in ({}, {"helpful": "maybe"}, {"helpful": [1]}):
        r = member[1].put(url, body, format="json")
        assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "helpful"
    assert not FaqFeedback.objects.exists()
    r = member[1].get(f"/api/v1/communities/{community.pk}/faq-entries", {"q": "x" * 51})
    assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "q"
    r = admin[1].get(f"/api/v1/communities/{community.pk}/assistant-stats", {"days": 0})
    assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "days"


def rule_post(client, community, body, status=201):
    r = client.post(f"/api/v1/communities/{community.pk}/keyword-rules", body, format="json")
    assert r.status_code == status, r.content
    return r.json()


@pytest.mark.parametrize(
    "body,code,attr",
    [
        (
            {"match_kind": "regex", "pattern": "(unclosed", "reply_kind": "hand_over"},
            "pattern_invalid",
            "pattern",
        ),
        (
            {"match_kind": "regex", "pattern": r"(a|aa)+$", "reply_kind": "hand_over"},
            "pattern_too_slow",
            "pattern",
        ),
        (
            {"match_kind": "regex", "pattern": ".*", "reply_kind": "hand_over"},
            "pattern_matches_empty",
            "pattern",
        ),
        (
            {"match_kind": "regex", "pattern": "a" * 201, "reply_kind": "hand_over"},
            "max_length",
            "pattern",
        ),
        (
            {"match_kind": "contains", "pattern": "？？", "reply_kind": "hand_over"},
            "pattern_empty",
            "pattern",
        ),
        (
            {"match_kind": "glob", "pattern": "x", "reply_kind": "hand_over"},
            "invalid_choice",
            "match_kind",
        ),
        ({"match_kind": "exact", "pattern": "x", "reply_kind": "text"}, "required", "reply_text"),
        (
            {
                "match_kind": "exact",
                "pattern": "x",
                "reply_kind": "link",
                "reply_title": "t",
                "reply_url": "http://a.b",
            },
            "url_not_https",
            "reply_url",
        ),
        (
            {"match_kind": "exact", "pattern": "x", "reply_kind": "image"},
            "required",
            "reply_media_id",
        ),
        (
            {
                "match_kind": "exact",
                "pattern": "x",
                "reply_kind": "miniprogrampage",
                "reply_title": "t",
                "reply_media_id": "m",
            },
            "required",
            "reply_page_path",
        ),
        ({"match_kind": "exact", "pattern": "x", "reply_kind": "faq"}, "required", "faq_id"),
        (
            {"match_kind": "exact", "pattern": "x", "reply_kind": "hand_over", "priority": 5000},
            "max_value",
            "priority",
        ),
        (
            {"match_kind": "exact", "pattern": "x", "reply_kind": "hand_over", "priority": "high"},
            "invalid",
            "priority",
        ),
    ],
)
def test_keyword_rules_are_checked_when_saved(community, admin, body, code, attr):
    r = rule_post(admin[1], community, body, 400)
    assert (r["errors"][0]["code"], r["errors"][0]["attr"]) == (code, attr)
    assert not KeywordRule.objects.exists()


def test_keyword_rule_crud_and_reply_parts_cleared(community, admin, member):
    _, client = admin
    created = rule_post(
        client,
        community,
        {
            "match_kind": "regex",
            "pattern": r"^几点(集合|出发)",
            "priority": 3,
            "reply_kind": "text",
            "reply_text": "7:30",
            "reply_url": "https://x.y",
        },
    )
    assert created["reply_url"] == ""  # a text reply carries no link
    url = f"/api/v1/keyword-rules/{created['id']}"
    r = client.patch(url, {"reply_kind": "live_next_event"}, format="json")
    assert r.status_code == 200 and r.json()["reply_text"] == ""
    assert member[1].get(url).status_code == 403
    assert member[1].get(f"/api/v1/communities/{community.pk}/keyword-rules").status_code == 403
    listed_rules = client.get(f"/api/v1/communities/{community.pk}/keyword-rules").json()["results"]
    assert [x["id"] for x in listed_rules] == [created["id"]]
    assert client.delete(url).status_code == 204
    assert not KeywordRule.objects.exists()
