"""The assistant's statistics for the admins: top questions, unanswered questions (suggested
FAQ entries) and answer times, over a period of days.

Inbound texts are grouped by the matcher's own normal form (:func:`assistant.matching.normalize`:
NFKC, case-folded, without spaces and punctuation), so "下次活动？" and "下次 活动" count as one
question. That normal form has no SQL equivalent, so the period's messages are read once
(``content``, status, source, times; at most :data:`MESSAGES_READ`, the newest) and grouped
here; a community's customer-service chat holds hundreds to a few thousand messages a month,
which this reads in one query."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q

from assistant import matching
from assistant.models import FaqEntry, InboundMessage, MessageStatus, MessageType
from community.models import Membership

#: Most messages one statistics read looks at (the newest of the period).
MESSAGES_READ = 20000
TOP = 10
DAYS_MAX = 365

#: Messages a person answered or has to answer: the assistant did not.
_NOT_ANSWERED_BY_ASSISTANT = (MessageStatus.HANDED_OVER, MessageStatus.ANSWERED_HUMAN)
#: Texts that only ask for a person: not a question an FAQ entry could answer.
_ONLY_A_PERSON = frozenset(matching.normalize(w) for w in matching.HUMAN_REQUESTS)


@dataclass
class _Group:
    text: str  # the most recent wording
    count: int = 0
    last_at: datetime | None = None
    waiting: int = 0  # still handed over, no person answered yet


@dataclass
class AssistantStats:
    """What ``getAssistantStats`` answers."""

    since: datetime
    until: datetime
    messages: int
    answered_auto: int
    handed_over: int
    answered_human: int
    top_entries: list[dict] = field(default_factory=list)
    top_questions: list[dict] = field(default_factory=list)
    unanswered: list[dict] = field(default_factory=list)
    answer_times: dict = field(default_factory=dict)


def _seconds(values: list[float]) -> dict:
    """Count, median and 90th percentile (nearest rank) in seconds; nulls without data."""
    if not values:
        return {"count": 0, "median_seconds": None, "p90_seconds": None}
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * 90 // 100))  # ceil(0.9 n), nearest-rank
    return {
        "count": len(ordered),
        "median_seconds": round(statistics.median(ordered), 1),
        "p90_seconds": round(ordered[rank - 1], 1),
    }


def assistant_stats(*, actor: Membership, days: int, now: datetime) -> AssistantStats:
    """Statistics of the last ``days`` days (the caller checked ``VIEW_ASSISTANT_STATS``):

    * ``top_entries``: the FAQ entries the assistant answered with most (``answer_source``
      ``faq:<id>`` in the period), with their all-time ``times_served`` and helpful counts;
    * ``top_questions``: the most frequent member texts, grouped by normal form;
    * ``unanswered``: texts the assistant did not answer (handed over, or answered by a
      person), grouped the same way, most frequent first, with how many still wait: each is a
      suggested FAQ entry (requests for a person alone are left out);
    * ``answer_times``: median and 90th percentile from receiving a message to its answer, for
      the assistant's answers and for people's.

    Four queries whatever the volume (counts, top entries, their rows, the messages)."""
    since = now - timedelta(days=days)
    period = InboundMessage.objects.filter(
        community_id=actor.community_id, received_at__gte=since, received_at__lt=now
    )
    counts = period.aggregate(
        messages=Count("pk"),
        answered_auto=Count("pk", filter=Q(status=MessageStatus.ANSWERED_AUTO)),
        handed_over=Count("pk", filter=Q(status=MessageStatus.HANDED_OVER)),
        answered_human=Count("pk", filter=Q(status=MessageStatus.ANSWERED_HUMAN)),
    )
    served = list(
        period.filter(answer_source__startswith="faq:")
        .values("answer_source")
        .annotate(n=Count("pk"))
        .order_by("-n", "answer_source")[:TOP]
    )
    entry_ids = [row["answer_source"][4:] for row in served]
    entries = FaqEntry.objects.filter(community_id=actor.community_id, pk__in=entry_ids).in_bulk()
    top_entries = [
        {
            "entry_id": entry.pk,
            "question": entry.question,
            "served": row["n"],
            "times_served": entry.times_served,
            "helpful_yes": entry.helpful_yes,
            "helpful_no": entry.helpful_no,
        }
        for row in served
        if (entry := entries.get(row["answer_source"][4:])) is not None
    ]

    questions: dict[str, _Group] = {}
    unanswered: dict[str, _Group] = {}
    auto_times: list[float] = []
    human_times: list[float] = []
    rows = (
        period.filter(msg_type=MessageType.TEXT)
        .order_by("-received_at")
        .values_list("content", "status", "received_at", "answered_at")[:MESSAGES_READ]
    )
    for content, status, received_at, answered_at in rows:
        key = matching.normalize(content)
        if answered_at is not None and answered_at >= received_at:
            seconds = (answered_at - received_at).total_seconds()
            if status == MessageStatus.ANSWERED_AUTO:
                auto_times.append(seconds)
            elif status == MessageStatus.ANSWERED_HUMAN:
                human_times.append(seconds)
        if not key:
            continue
        group = questions.setdefault(key, _Group(text=content, last_at=received_at))
        group.count += 1
        if status in _NOT_ANSWERED_BY_ASSISTANT and key not in _ONLY_A_PERSON:
            waiting = unanswered.setdefault(key, _Group(text=content, last_at=received_at))
            waiting.count += 1
            waiting.waiting += status == MessageStatus.HANDED_OVER

    def top(groups: dict[str, _Group], *, with_waiting: bool = False) -> list[dict]:
        ordered = sorted(
            groups.items(), key=lambda kv: (-kv[1].count, -kv[1].last_at.timestamp(), kv[0])
        )
        out = []
        for key, group in ordered[:TOP]:
            item = {
                "text": group.text,
                "normalized": key,
                "count": group.count,
                "last_at": group.last_at,
            }
            if with_waiting:
                item["waiting"] = group.waiting
            out.append(item)
        return out

    return AssistantStats(
        since=since,
        until=now,
        top_entries=top_entries,
        top_questions=top(questions),
        unanswered=top(unanswered, with_waiting=True),
        answer_times={"auto": _seconds(auto_times), "human": _seconds(human_times)},
        **counts,
    )
