"""What the assistant answers to a member's message (hand-over-only placeholder).

This first version hands every message over to a person; the matching of FAQ entries, keyword
rules and live answers replaces it (``assistant.matching``). The interface stays:
:func:`reply_for` returns a :class:`Reply`; ``kind == "hand_over"`` queues the conversation for
the moderators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from community.models import Community, Membership

#: Words with which a member asks for a person.
HUMAN_WORDS = ("人工", "转人工", "客服", "真人")


@dataclass(frozen=True)
class Reply:
    """An answer: ``kind`` is "text", "link", "miniprogrampage", "image" or "hand_over";
    ``payload`` is what ``customerServiceMessage.send`` needs for that kind; ``source`` names
    where it came from ("faq:<id>", "rule:<id>", "live:next_event", ..., "none")."""

    kind: str
    payload: dict
    source: str


def asks_for_person(text: str) -> bool:
    """True when the member asks for a person (人工, 转人工, 客服...)."""
    return any(word in text for word in HUMAN_WORDS)


def reply_for(
    *, community: Community, membership: Membership | None, text: str, now: datetime
) -> Reply:
    """The assistant's answer to ``text`` written in ``community``: for now always a hand-over
    ("person" when the member asked for one, else "none": nothing matched)."""
    return Reply(kind="hand_over", payload={}, source="person" if asks_for_person(text) else "none")
