"""Receiving a pushed message: which community it belongs to, storing it once, and queueing
its answer after commit.

``session-from`` (the contact button's ``session-from`` attribute, delivered by WeChat in the
``user_enter_tempsession`` event as ``SessionFrom``) is ``c=<community id>&p=<page path>``,
URL-encoded (``p`` optional), e.g. ``c=Ab3dEf5hJk7m&p=pages/events/index``. Messages carry no
``SessionFrom``: they go to the community the member last entered the chat from (within the
48-hour window), else to their only active community, else to their most recently active one
(``community_guessed``: the moderators see it). A member of no community is not stored: there is
nobody to answer for (logged without the openid)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

from django.db import transaction
from django.utils import timezone

from assistant.models import (
    REPLY_WINDOW,
    Conversation,
    ConversationState,
    InboundMessage,
    MessageStatus,
    MessageType,
)
from community.hashing import sha256_hex
from community.locking import lock_rows
from community.models import Membership, MembershipStatus, User

logger = logging.getLogger(__name__)

SESSION_FROM_MAX = 1000
ENTER_EVENT = "user_enter_tempsession"
_TYPES = {t.value for t in MessageType}


@dataclass(frozen=True)
class SessionFrom:
    """What the contact button's ``session-from`` says: the community id and the page."""

    community_id: str = ""
    page: str = ""


def session_from_parse(raw: str) -> SessionFrom:
    """``c=<community id>&p=<page>`` -> :class:`SessionFrom`; anything else is empty."""
    if not raw or len(raw) > SESSION_FROM_MAX:
        return SessionFrom()
    values = parse_qs(raw, max_num_fields=10)
    community_id = (values.get("c") or [""])[0][:16]
    page = (values.get("p") or [""])[0][:200]
    return SessionFrom(community_id=community_id, page=page)


def openid_hash(openid: str) -> str:
    """How an openid is stored on the assistant's rows (the user row keeps the openid)."""
    return sha256_hex(f"assistant-openid:{openid}")


def _sent_at(fields: dict[str, str], now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(fields.get("CreateTime", "")), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now


def _message_key(fields: dict[str, str]) -> str:
    """``MsgId``, or for events (no MsgId) the sender, time and event name."""
    msg_id = fields.get("MsgId") or fields.get("MsgID") or ""
    if msg_id:
        return msg_id[:128]
    parts = (fields.get("FromUserName", ""), fields.get("CreateTime", ""), fields.get("Event", ""))
    return "ev:" + sha256_hex("|".join(parts))[:60]


def _active_membership(user: User, community_id: str) -> Membership | None:
    return (
        Membership.objects.select_related("community")
        .filter(community_id=community_id, user=user, status=MembershipStatus.ACTIVE)
        .first()
    )


def _route(
    *, user: User, hashed: str, session: SessionFrom, now: datetime
) -> tuple[Membership | None, bool]:
    """The membership the message goes to, and whether we guessed its community."""
    if session.community_id:
        found = _active_membership(user, session.community_id)
        if found is not None:
            return found, False
    entered = (
        Conversation.objects.filter(
            openid_hash=hashed, entered_at__gte=now - REPLY_WINDOW, entered_at__isnull=False
        )
        .order_by("-entered_at")
        .values_list("community_id", flat=True)
        .first()
    )
    if entered:
        found = _active_membership(user, entered)
        if found is not None:
            return found, False
    memberships = list(
        Membership.objects.select_related("community")
        .filter(user=user, status=MembershipStatus.ACTIVE)
        .order_by("-last_active_at", "pk")[:2]
    )
    if not memberships:
        return None, False
    return memberships[0], len(memberships) > 1


def message_receive(
    *, fields: dict[str, str], now: datetime | None = None
) -> InboundMessage | None:
    """Store one decrypted push (its fields) and queue its answer after commit.

    Returns the stored message, the one stored before for a retried push (WeChat retries
    when we are slow; the message id is unique per community, so it is stored and answered
    once even when two retries arrive together), or None when it is not stored (no sender, or
    the sender is a member of no community). Call it outside any transaction: it commits."""
    now = now or timezone.now()
    openid = fields.get("FromUserName", "")
    if not openid:
        return None
    user = User.objects.filter(openid=openid).first()
    hashed = openid_hash(openid)
    msg_type = fields.get("MsgType", "")
    if msg_type not in _TYPES:
        msg_type = MessageType.EVENT if fields.get("Event") else MessageType.TEXT
    raw_session = fields.get("SessionFrom", "")[:SESSION_FROM_MAX]
    session = session_from_parse(raw_session)
    membership, guessed = (
        _route(user=user, hashed=hashed, session=session, now=now) if user else (None, False)
    )
    if membership is None:
        logger.info("assistant: a %s push from a member of no community, not stored", msg_type)
        return None
    sent_at = min(_sent_at(fields, now), now)
    entering = msg_type == MessageType.EVENT and fields.get("Event") == ENTER_EVENT
    extra = {
        key: fields[key]
        for key in ("PicUrl", "MediaId", "Title", "PagePath", "ThumbUrl", "Event")
        if fields.get(key)
    }
    candidate = InboundMessage(
        community=membership.community,
        member=membership,
        user=user,
        openid_hash=hashed,
        wechat_msg_id=_message_key(fields),
        msg_type=msg_type,
        content=fields.get("Content", "") if msg_type == MessageType.TEXT else "",
        extra=extra,
        session_from=raw_session,
        page=session.page or extra.get("PagePath", "")[:200],
        community_guessed=guessed,
        sent_at=sent_at,
        received_at=now,
        status=MessageStatus.IGNORED if msg_type == MessageType.EVENT else MessageStatus.RECEIVED,
    )
    with transaction.atomic():
        conversation = _conversation_for(membership=membership, user=user, hashed=hashed, now=now)
        candidate.conversation = conversation
        # ON CONFLICT DO NOTHING: a concurrent retry waits on the unique index, then skips.
        InboundMessage.objects.bulk_create([candidate], ignore_conflicts=True)
        stored = InboundMessage.objects.get(
            community=membership.community, wechat_msg_id=candidate.wechat_msg_id
        )
        if stored.pk != candidate.pk:
            return stored  # a retry: stored (and queued) before
        conversation = lock_rows(Conversation.objects.filter(pk=conversation.pk)).get()
        if entering:
            conversation.entered_at = now
            conversation.page = session.page
            conversation.save(update_fields=["entered_at", "page"])
        else:
            _conversation_touch(conversation, sent_at=sent_at, now=now)
        if stored.status == MessageStatus.RECEIVED:
            transaction.on_commit(lambda: _queue_answer(stored.pk))
    return stored


def _conversation_for(
    *, membership: Membership, user: User, hashed: str, now: datetime
) -> Conversation:
    """The member's conversation in this community, created on their first message."""
    Conversation.objects.bulk_create(
        [
            Conversation(
                community=membership.community,
                member=membership,
                user=user,
                openid_hash=hashed,
                opened_at=now,
                last_member_message_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    return Conversation.objects.get(community=membership.community, openid_hash=hashed)


def _conversation_touch(conversation: Conversation, *, sent_at: datetime, now: datetime) -> None:
    """A new message restarts the window. A closed conversation, or one whose window had
    passed, starts afresh with the assistant; a follow-up to a person's answer goes back to
    the people's queue; otherwise whoever answers keeps answering."""
    if conversation.state == ConversationState.CLOSED or conversation.window_ends_at() <= now:
        conversation.state = ConversationState.AUTO
        conversation.opened_at = now
        conversation.closed_at = None
    elif conversation.state == ConversationState.ANSWERED:
        conversation.state = ConversationState.WAITING_FOR_HUMAN
        conversation.handed_over_at = now
    conversation.last_member_message_at = max(conversation.last_member_message_at, sent_at)
    conversation.save(
        update_fields=[
            "state",
            "handed_over_at",
            "opened_at",
            "closed_at",
            "last_member_message_at",
        ]
    )


def _queue_answer(message_id: str) -> None:
    from assistant.tasks import assistant_answer

    assistant_answer.delay(message_id)
