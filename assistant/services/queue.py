"""The moderators' queue: conversations handed over to a person, answered by the moderator
tiers (API and admin) within WeChat's 48-hour window."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assistant.models import (
    Conversation,
    ConversationState,
    InboundMessage,
    MessageStatus,
    OutboundReply,
    ReplyKind,
    ReplyStatus,
)
from assistant.services.replies import _queue_reply, _queue_sends, reply_send
from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership

REPLY_TEXT_MAX = 2000


class WindowExpired(Conflict):
    """409 ``window_expired``: WeChat accepts replies only within 48 hours of the member's
    last message."""

    default_code = "window_expired"


def _window_expired() -> WindowExpired:
    return WindowExpired(
        _(
            "More than 48 hours have passed since the member's last message: WeChat no longer "
            "accepts a reply. The member can write again to reopen the conversation."
        )
    )


def _conversation(actor: Membership, conversation_id: str) -> Conversation:
    found = Conversation.objects.filter(pk=conversation_id, community_id=actor.community_id).first()
    if found is None:
        raise NotFound(_("Conversation not found."), code="conversation_not_found")
    return found


def conversation_reply(
    *,
    actor: Membership,
    conversation_id: str,
    text: str,
    now: datetime | None = None,
    send_now: bool = True,
) -> OutboundReply:
    """A moderator answers a member (text). Refused with 409 ``window_expired`` when the 48
    hours since the member's last message have passed (by our clock, or WeChat's 45015 when
    sending); the reply is then kept as ``window_expired``. The conversation becomes
    ``answered`` (assigned to the moderator if nobody was) and its waiting messages
    ``answered_human``. The reply is sent at once, after commit; when WeChat is down it stays
    ``pending`` and the sweep sends it later. Call outside a transaction; inside one (the
    admin's form), pass ``send_now=False``: a task sends it after commit."""
    ensure(actor, Action.ANSWER_CONVERSATIONS)
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Write a reply."), code="blank", field="text")
    if len(text) > REPLY_TEXT_MAX:
        raise DomainError(
            _("A reply has at most %(max)d characters.") % {"max": REPLY_TEXT_MAX},
            code="max_length",
            field="text",
        )
    _conversation(actor, conversation_id)
    with transaction.atomic():
        conversation = lock_rows(Conversation.objects.filter(pk=conversation_id)).get()
        if now >= conversation.window_ends_at():
            raise _window_expired()
        last = (
            InboundMessage.objects.filter(conversation=conversation)
            .exclude(msg_type="event")
            .order_by("-received_at")
            .first()
        )
        reply = _queue_reply(
            conversation,
            in_reply_to=last,
            kind=ReplyKind.TEXT,
            payload={"content": text},
            source=f"human:{actor.user_id}",
            dedupe_key=f"human:{secrets.token_hex(12)}",
            now=now,
            author=actor.user,
        )
        InboundMessage.objects.filter(
            conversation=conversation,
            status__in=[MessageStatus.HANDED_OVER, MessageStatus.RECEIVED],
            received_at__lte=now,
        ).update(status=MessageStatus.ANSWERED_HUMAN, answer_source=f"human:{actor.user_id}")
        conversation.state = ConversationState.ANSWERED
        if conversation.assigned_to_id is None:
            conversation.assigned_to = actor.user
        conversation.save(update_fields=["state", "assigned_to"])
        if not send_now:
            reply_id = reply.pk
            transaction.on_commit(lambda: _queue_sends([reply_id]))
    if not send_now:
        return reply
    reply = reply_send(reply_id=reply.pk)
    if reply.status == ReplyStatus.WINDOW_EXPIRED:
        raise _window_expired()
    return reply


def conversation_close(
    *, actor: Membership, conversation_id: str, now: datetime | None = None
) -> Conversation:
    """A moderator closes a conversation: it leaves the queue; the member's next message
    starts afresh with the assistant."""
    ensure(actor, Action.ANSWER_CONVERSATIONS)
    now = now or timezone.now()
    _conversation(actor, conversation_id)
    with transaction.atomic():
        conversation = lock_rows(Conversation.objects.filter(pk=conversation_id)).get()
        conversation.state = ConversationState.CLOSED
        conversation.closed_at = now
        conversation.save(update_fields=["state", "closed_at"])
    return conversation
