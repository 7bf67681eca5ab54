"""What the assistant answers to a member's message.

:func:`reply_for` loads the community's enabled keyword rules and published FAQ entries (two
queries), lets :mod:`assistant.matching` pick what answers (a request for a person first, then
the rules by priority and specificity, then the built-in live triggers 下次活动 / 规则 / 投票,
then the FAQ), and turns it into a :class:`Reply`: what ``customerServiceMessage.send`` needs.
``kind == "hand_over"`` queues the conversation for the moderators (nothing matched, the
member asked for a person, or a rule says so). It reads only: the caller (the answering task)
records the answer, and counts an FAQ entry as served with
:func:`assistant.services.faq_mark_served`.

Live answers (the next event, the rules, the open polls) need a member of the community who
may see it (active or muted, ``authz``); anyone else is told to join first, so the channel
leaks nothing a non-member could not see."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from assistant import live, matching
from assistant.models import FaqEntry, FaqStatus, KeywordRule, RuleReplyKind
from community.authz import Action, can
from community.models import Community, Membership

logger = logging.getLogger(__name__)

HAND_OVER = "hand_over"


@dataclass(frozen=True)
class Reply:
    """An answer: ``kind`` is "text", "link", "miniprogrampage", "image" or "hand_over";
    ``payload`` is what ``customerServiceMessage.send`` needs for that kind; ``source`` names
    where it came from ("faq:<id>", "rule:<id>", "live:next_event", ..., "person" when the
    member asked for one, "none" when nothing matched)."""

    kind: str
    payload: dict
    source: str


def asks_for_person(text: str) -> bool:
    """True when the member asks for a person (人工, 转人工, 客服...)."""
    return matching.match_message(text).source == "human_request"


def _text(content: str, source: str) -> Reply:
    return Reply(kind="text", payload={"content": content}, source=source)


def _live(name: str, *, community: Community, membership: Membership | None, now: datetime):
    """The live answer ``name`` (``live_next_event``...) as the member may see it."""
    if membership is None or not can(membership, Action.VIEW):
        return _("This is shown to the members of %(name)s: join the group first.") % {
            "name": community.name
        }
    if name == matching.LIVE_NEXT_EVENT:
        return live.next_event(membership=membership, now=now).text
    if name == matching.LIVE_RULES:
        return live.rules(membership=membership).text
    return live.open_polls(membership=membership, now=now).text


_LIVE_SOURCES = {
    matching.LIVE_NEXT_EVENT: "live:next_event",
    matching.LIVE_RULES: "live:rules",
    matching.LIVE_OPEN_POLLS: "live:open_polls",
}


def _rule_reply(
    rule: KeywordRule, *, community: Community, membership: Membership | None, now: datetime
) -> Reply:
    source = f"rule:{rule.pk}"
    kind = rule.reply_kind
    if kind == RuleReplyKind.TEXT:
        return _text(rule.reply_text, source)
    if kind == RuleReplyKind.LINK:
        payload = {
            "title": rule.reply_title,
            "description": rule.reply_text,
            "url": rule.reply_url,
            "thumb_url": "",
        }
        return Reply(kind="link", payload=payload, source=source)
    if kind == RuleReplyKind.MINIPROGRAMPAGE:
        payload = {
            "title": rule.reply_title,
            "pagepath": rule.reply_page_path,
            "thumb_media_id": rule.reply_media_id,
        }
        return Reply(kind="miniprogrampage", payload=payload, source=source)
    if kind == RuleReplyKind.IMAGE:
        return Reply(kind="image", payload={"media_id": rule.reply_media_id}, source=source)
    if kind == RuleReplyKind.FAQ:
        return _text(rule.faq.answer, f"faq:{rule.faq_id}")
    if kind == RuleReplyKind.HAND_OVER:
        return Reply(kind=HAND_OVER, payload={}, source=source)
    # live_next_event, live_rules, live_open_polls
    return _text(_live(kind, community=community, membership=membership, now=now), source)


def _rules(community: Community) -> dict[str, KeywordRule]:
    """The enabled rules of the community; a rule answering with an FAQ entry counts only
    while that entry is published."""
    rows = (
        KeywordRule.objects.filter(community_id=community.pk, enabled=True)
        .exclude(reply_kind=RuleReplyKind.FAQ, faq__status=FaqStatus.DRAFT)
        .select_related("faq")
    )
    return {str(rule.pk): rule for rule in rows}


def _faqs(community: Community) -> list[matching.FaqCandidate]:
    rows = (
        FaqEntry.objects.filter(community_id=community.pk, status=FaqStatus.PUBLISHED)
        .order_by("created_at", "id")
        .values_list("id", "question", "keywords")
    )
    return [
        matching.FaqCandidate(str(pk), question, tuple(k for k in keywords or () if k))
        for pk, question, keywords in rows
    ]


def reply_for(
    *, community: Community, membership: Membership | None, text: str, now: datetime
) -> Reply:
    """The assistant's answer to ``text`` written in ``community`` by the holder of
    ``membership`` (None: not a member). Reads only; see the module docstring."""
    with translation.override(settings.LANGUAGE_CODE):
        if matching.match_message(text).source == "human_request":
            return Reply(kind=HAND_OVER, payload={}, source="person")
        rules = _rules(community)
        candidates = [
            matching.Rule(pk, rule.match_kind, rule.pattern, rule.priority)
            for pk, rule in rules.items()
        ]
        faqs = _faqs(community)
        found = matching.match_message(text, rules=candidates, faqs=faqs)
        if found.timed_out:
            logger.warning(
                "assistant: regex rules ran out of time in community %s: %s",
                community.pk,
                ", ".join(found.timed_out),
            )
        if found.source == "rule":
            return _rule_reply(rules[found.id], community=community, membership=membership, now=now)
        if found.source == "live":
            content = _live(found.id, community=community, membership=membership, now=now)
            return _text(content, _LIVE_SOURCES[found.id])
        if found.source == "faq":
            answer = (
                FaqEntry.objects.filter(community_id=community.pk, pk=found.id)
                .values_list("answer", flat=True)
                .first()
            )
            if answer:
                return _text(answer, f"faq:{found.id}")
        return Reply(kind=HAND_OVER, payload={}, source="none")
