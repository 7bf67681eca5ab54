"""reply_for on PostgreSQL: what the assistant answers a message with, from the community's
rules, the live data (next event with seats left, the rules, the open polls) and the FAQ."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.answering import reply_for
from assistant.models import FaqEntry, KeywordRule
from community.models import Tier
from community.services.content import content_hold_for_review
from events import services as event_services
from polls import services as poll_services
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False
    settings.WECHAT_APPID = ""


@pytest.fixture
def moderator(make_member):
    return make_member(tier=Tier.MODERATOR)[0]


def answer(community, membership, text):
    return reply_for(community=community, membership=membership, text=text, now=timezone.now())


def faq(community, question, answer_text, keywords=(), status="published"):
    return FaqEntry.objects.create(
        community=community,
        question=question,
        answer=answer_text,
        keywords=list(keywords),
        status=status,
    )


def rule(community, pattern, *, kind="contains", priority=0, reply_kind="text", **fields):
    return KeywordRule.objects.create(
        community=community,
        match_kind=kind,
        pattern=pattern,
        priority=priority,
        reply_kind=reply_kind,
        **fields,
    )


def test_asking_for_a_person_hands_over(community, member):
    rule(community, "人工", reply_text="机器人回答")
    reply = answer(community, member[0], "转人工")
    assert (reply.kind, reply.source) == ("hand_over", "person")


def test_nothing_matches_hands_over(community, member):
    faq(community, "怎么报名", "点报名", ["报名"])
    reply = answer(community, member[0], "今天天气不错")
    assert (reply.kind, reply.source) == ("hand_over", "none")


def test_next_event_with_seats_left(community, member, moderator):
    now = timezone.now()
    later = event_services.event_create(
        actor=moderator, mode="quick", title="秋季露营", starts_at=now + timedelta(days=9)
    )
    sooner = event_services.event_create(
        actor=moderator,
        mode="quick",
        title="周六爬山",
        starts_at=now + timedelta(days=2),
        capacity=20,
        max_guests=2,
        location_name="香山东门",
    )
    event_services.registration_put(actor=member[0], event_id=sooner.pk, guests=2)
    reply = answer(community, member[0], "下次活动是什么时候？")
    assert reply.kind == "text" and reply.source == "live:next_event"
    content = reply.payload["content"]
    assert "周六爬山" in content and "香山东门" in content
    assert "17" in content  # 20 seats, 3 taken
    assert f"pages/events/detail?id={sooner.pk}" in content
    assert "秋季露营" not in content
    assert later.pk not in content


def test_next_event_skips_cancelled_held_started_and_other_communities(
    community, member, moderator, make_member
):
    now = timezone.now()
    started = event_services.event_create(
        actor=moderator, mode="quick", title="已开始", starts_at=now + timedelta(minutes=1)
    )
    type(started).objects.filter(pk=started.pk).update(starts_at=now - timedelta(minutes=30))
    cancelled = event_services.event_create(
        actor=moderator, mode="quick", title="取消了", starts_at=now + timedelta(days=1)
    )
    event_services.event_cancel(actor=moderator, event_id=cancelled.pk, reason="")
    held = event_services.event_create(
        actor=moderator, mode="quick", title="待审核", starts_at=now + timedelta(days=2)
    )
    content_hold_for_review(
        verdict="review",
        community_id=community.pk,
        target_kind="event",
        target_id=held.pk,
        author_id=moderator.user_id,
    )
    other = CommunityFactory()
    other_mod, _ = make_member(tier=Tier.MODERATOR, community=other)
    event_services.event_create(
        actor=other_mod, mode="quick", title="别的群", starts_at=now + timedelta(hours=5)
    )
    reply = answer(community, member[0], "下次活动")
    content = reply.payload["content"]
    for title in ("已开始", "取消了", "待审核", "别的群"):
        assert title not in content
    assert "没有" in content or "no upcoming" in content


def test_rules_answer_with_version_summary_and_page(community, member):
    from community.services.communities import community_update

    owner = member[0]
    owner.tier = Tier.OWNER
    owner.save()
    community_update(
        actor=owner, rules_text="# 发言\n不发广告\n# 活动\n报名后准时", rules_summary="新增活动规则"
    )
    owner.refresh_from_db()
    reply = answer(community, owner, "群规是什么")
    content = reply.payload["content"]
    assert reply.source == "live:rules"
    assert "新增活动规则" in content and "发言" in content
    assert f"pages/community/rules?id={community.pk}" in content


def test_open_polls_only_visible_and_open(community, member, moderator):
    now = timezone.now()
    opts = [{"label": "A"}, {"label": "B"}]
    open_one = poll_services.poll_create(
        actor=moderator,
        title="周末去哪",
        kind="single",
        options=opts,
        closes_at=now + timedelta(days=1),
    )
    closed = poll_services.poll_create(
        actor=moderator,
        title="已结束",
        kind="single",
        options=opts,
        closes_at=now + timedelta(days=1),
    )
    poll_services.poll_close(actor=moderator, poll_id=closed.pk)
    held = poll_services.poll_create(
        actor=moderator,
        title="待审投票",
        kind="single",
        options=opts,
        closes_at=now + timedelta(days=1),
    )
    content_hold_for_review(
        verdict="unchecked",
        community_id=community.pk,
        target_kind="poll",
        target_id=held.pk,
        author_id=moderator.user_id,
    )
    reply = answer(community, member[0], "有什么投票吗")
    content = reply.payload["content"]
    assert reply.source == "live:open_polls"
    assert "周末去哪" in content and "已结束" not in content and "待审投票" not in content
    assert f"pages/polls/detail?id={open_one.pk}" in content


def test_live_answers_need_a_member(community):
    reply = answer(community, None, "下次活动")
    assert reply.kind == "text"
    assert community.name in reply.payload["content"]


def test_faq_by_keyword_and_drafts_do_not_answer(community, member):
    entry = faq(community, "活动收费吗", "AA 制，当场结清。", ["收费", "费用"])
    faq(community, "装备清单", "草稿答案", ["装备"], status="draft")
    reply = answer(community, member[0], "费用怎么算")
    assert (reply.kind, reply.source) == ("text", f"faq:{entry.pk}")
    assert reply.payload == {"content": "AA 制，当场结清。"}
    assert answer(community, member[0], "要带什么装备").kind == "hand_over"


def test_faq_of_another_community_never_answers(community, member):
    faq(CommunityFactory(), "活动收费吗", "别的群", ["收费"])
    assert answer(community, member[0], "收费吗").kind == "hand_over"


def test_rule_priority_then_specificity(community, member):
    rule(community, "活动", reply_text="一般")
    rule(community, "活动时间", reply_text="具体")
    assert answer(community, member[0], "活动时间几点").payload["content"] == "具体"
    high = rule(community, "活动", kind="contains", priority=5, reply_text="优先")
    reply = answer(community, member[0], "活动时间几点")
    assert (reply.payload["content"], reply.source) == ("优先", f"rule:{high.pk}")


def test_rule_replies_of_every_kind(community, member, moderator):
    entry = faq(community, "怎么报名", "在活动页报名")
    rule(
        community,
        "链接",
        reply_kind="link",
        reply_title="指南",
        reply_url="https://ex.com/a",
        reply_text="说明",
    )
    rule(
        community,
        "卡片",
        reply_kind="miniprogrampage",
        reply_title="首页",
        reply_page_path="pages/index/index",
        reply_media_id="M1",
    )
    rule(community, "图片", reply_kind="image", reply_media_id="IMG")
    rule(community, "问答", reply_kind="faq", faq=entry)
    rule(community, "找人", reply_kind="hand_over")
    rule(community, "几点集合", reply_kind="live_next_event")
    m = member[0]
    assert answer(community, m, "链接").payload == {
        "title": "指南",
        "description": "说明",
        "url": "https://ex.com/a",
        "thumb_url": "",
    }
    assert answer(community, m, "卡片").payload == {
        "title": "首页",
        "pagepath": "pages/index/index",
        "thumb_media_id": "M1",
    }
    assert answer(community, m, "图片").payload == {"media_id": "IMG"}
    assert answer(community, m, "问答").source == f"faq:{entry.pk}"
    assert answer(community, m, "找人").kind == "hand_over"
    event_services.event_create(
        actor=moderator,
        mode="quick",
        title="周六爬山",
        starts_at=timezone.now() + timedelta(days=1),
    )
    assert "周六爬山" in answer(community, m, "几点集合").payload["content"]
    disabled = rule(community, "停用", reply_text="x", enabled=False)
    assert answer(community, m, "停用").kind == "hand_over", disabled


def test_a_catastrophic_regex_saved_before_validation_cannot_stall_the_worker(community, member):
    # Stored directly (the services would refuse it): the worker stops it after the limit and
    # goes on to the next rule.
    rule(community, r"(a|aa)+$", kind="regex", priority=10, reply_text="never")
    rule(community, "aaa", priority=0, reply_text="next rule")
    started = time.monotonic()
    reply = answer(community, member[0], "a" * 60 + "!")
    assert time.monotonic() - started < 2.0
    assert reply.payload == {"content": "next rule"}


def test_reads_cost_a_fixed_number_of_queries(community, member, django_assert_max_num_queries):
    for i in range(15):
        faq(community, f"问题{i}", f"答案{i}", [f"词{i}"])
        rule(community, f"规则{i}", reply_text=f"回复{i}")
    with django_assert_max_num_queries(3):
        assert answer(community, member[0], "词7是什么").source.startswith("faq:")
