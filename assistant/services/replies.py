"""Answering stored messages and sending replies with customerServiceMessage.send.

Each step claims its work in a short transaction, commits, calls WeChat outside any
transaction, then records the outcome (never a network call while a transaction is open):

* :func:`message_answer` screens the text (msgSecCheck), asks ``assistant.answering.reply_for``
  and, in one transaction, either queues the assistant's reply or hands the conversation to
  the moderators (with the "a person will answer" notice, once per conversation per 48 hours).
  A risky text or one WeChat wants a human look at is never answered automatically.
* :func:`reply_send` sends one :class:`OutboundReply` at most once: ``pending`` -> ``sending``
  (committed) -> ``sent`` / ``failed`` / ``window_expired`` (45015, or our own clock past the
  48 hours). When WeChat certainly did not take it (HTTP 5xx, "system busy", no connection)
  it goes back to ``pending`` and the sweep tries again, at most :data:`MAX_SEND_ATTEMPTS`
  times; when the outcome is unknown (a timeout after sending) it is ``failed``
  (``unknown_outcome``) rather than risk a second copy.
* :func:`assistant_sweep` (the ``assistant-sweep`` job) re-queues messages left unanswered
  (workers or WeChat were down) and replies left pending."""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from assistant.answering import Reply, reply_for
from assistant.models import (
    REPLY_WINDOW,
    Conversation,
    ConversationState,
    InboundMessage,
    MessageStatus,
    MessageType,
    OutboundReply,
    ReplyKind,
    ReplyStatus,
    Screening,
)
from assistant.services.faq import faq_mark_served
from community.errors import ServiceNotConfigured
from community.locking import lock_rows
from community.services.content import PASS, UNCHECKED, content_verdict
from community.wechat import SecScene, WeChatError, get_client
from community.wechat.errors import ERRCODE_REPLY_WINDOW, ERRCODE_SYSTEM_BUSY

logger = logging.getLogger(__name__)

#: How often the answering of one message starts before it is handed over as it is (a text
#: WeChat could not screen in this many tries goes to a person instead of waiting forever).
MAX_ANSWER_ATTEMPTS = 5
MAX_SEND_ATTEMPTS = 5
#: Left alone this long, a received message or a pending reply is the sweep's.
SWEEP_GRACE = timedelta(minutes=2)
#: A reply still ``sending`` after this long lost its worker mid-call: outcome unknown.
SENDING_LEASE = timedelta(minutes=10)
SWEEP_BATCH = 500
NOTICE_SOURCE = "notice:hand_over"


def _notice_text() -> str:
    with override(settings.LANGUAGE_CODE):
        return _("Thank you for your message. A person will answer you here soon.")


def message_answer(*, message_id: str, now: datetime | None = None) -> InboundMessage | None:
    """Answer one stored message (the task's work; safe to run twice or concurrently: only
    the run that finds it still ``received`` records an answer). Returns the message, or
    None when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        message = lock_rows(
            InboundMessage.objects.filter(pk=message_id, status=MessageStatus.RECEIVED)
        ).first()
        if message is None:
            return None
        message.attempts += 1
        message.save(update_fields=["attempts"])
    message = InboundMessage.objects.select_related("community", "member", "user").get(
        pk=message_id
    )
    verdict = message.screening
    if verdict == Screening.PENDING:
        verdict = PASS
        if message.msg_type == MessageType.TEXT and message.content.strip() and message.user:
            verdict, _field = content_verdict(
                texts={"content": message.content}, user=message.user, scene=SecScene.COMMENT
            )
            if verdict == UNCHECKED and message.attempts < MAX_ANSWER_ATTEMPTS:
                logger.info("assistant: message %s not screened yet, kept", message.pk)
                return message  # WeChat unreachable: the sweep tries again
    reply: Reply | None = None
    if verdict == PASS and message.msg_type == MessageType.TEXT:
        try:
            reply = reply_for(
                community=message.community,
                membership=message.member,
                text=message.content,
                now=now,
            )
        except Exception:  # a broken rule or live answer must not leave the member unanswered
            logger.exception("assistant: answering message %s failed, handed over", message.pk)
            reply = Reply(kind="hand_over", payload={}, source="error")
    to_send: list[str] = []
    with transaction.atomic():
        locked = lock_rows(
            InboundMessage.objects.filter(pk=message_id, status=MessageStatus.RECEIVED)
        ).first()
        if locked is None:
            return None  # another run answered it meanwhile
        conversation = lock_rows(Conversation.objects.filter(pk=locked.conversation_id)).get()
        locked.screening = verdict
        people_handle_it = conversation.state in (
            ConversationState.WAITING_FOR_HUMAN,
            ConversationState.ANSWERED,
        )
        if people_handle_it or reply is None or reply.kind == "hand_over":
            source = reply.source if reply else f"screening:{verdict}"
            if people_handle_it and reply is not None:
                source = "person"
            to_send += _hand_over(conversation, locked, now=now, notify=verdict != "risky")
            locked.status = MessageStatus.HANDED_OVER
            locked.answer_source = source[:64]
        else:
            created = _queue_reply(
                conversation,
                in_reply_to=locked,
                kind=reply.kind,
                payload=reply.payload,
                source=reply.source,
                dedupe_key=f"answer:{locked.pk}",
                now=now,
            )
            to_send.append(created.pk)
            locked.status = MessageStatus.ANSWERED_AUTO
            locked.answer_source = reply.source[:64]
            # Once per message: the status guard above lets one run through.
            faq_mark_served(community_id=locked.community_id, source=reply.source)
        locked.save(update_fields=["screening", "status", "answer_source"])
        transaction.on_commit(lambda: _queue_sends(to_send))
    return locked


def _hand_over(
    conversation: Conversation, message: InboundMessage, *, now: datetime, notify: bool
) -> list[str]:
    """Put the conversation in the moderators' queue (the caller holds its row lock) and, once
    per 48 hours, queue the "a person will answer" notice. Returns the replies to send."""
    if conversation.state != ConversationState.WAITING_FOR_HUMAN:
        conversation.state = ConversationState.WAITING_FOR_HUMAN
        conversation.handed_over_at = now
    sent_lately = (
        conversation.handover_notice_at is not None
        and conversation.handover_notice_at > now - REPLY_WINDOW
    )
    to_send = []
    if notify and not sent_lately:
        conversation.handover_notice_at = now
        notice = _queue_reply(
            conversation,
            in_reply_to=message,
            kind=ReplyKind.TEXT,
            payload={"content": _notice_text()},
            source=NOTICE_SOURCE,
            dedupe_key=f"notice:{conversation.pk}:{now.isoformat()}",
            now=now,
        )
        to_send.append(notice.pk)
    conversation.save(update_fields=["state", "handed_over_at", "handover_notice_at"])
    return to_send


def _queue_reply(
    conversation: Conversation,
    *,
    in_reply_to: InboundMessage | None,
    kind: str,
    payload: dict,
    source: str,
    dedupe_key: str,
    now: datetime,
    author=None,
) -> OutboundReply:
    return OutboundReply.objects.create(
        community_id=conversation.community_id,
        conversation=conversation,
        in_reply_to=in_reply_to,
        kind=kind,
        payload=payload,
        source=source[:64],
        author=author,
        dedupe_key=dedupe_key[:128],
        created_at=now,
    )


def _queue_sends(reply_ids: list[str]) -> None:
    from assistant.tasks import assistant_send

    for reply_id in reply_ids:
        assistant_send.delay(reply_id)


def _wechat_message(reply: OutboundReply) -> tuple[str, dict]:
    """The ``msgtype`` and payload to send: a mini-program page without a cover image (its
    ``thumb_media_id`` is required) becomes a text with a link that opens the page."""
    payload = dict(reply.payload)
    if reply.kind != ReplyKind.MINIPROGRAMPAGE:
        return reply.kind, payload
    payload.setdefault("thumb_media_id", settings.ASSISTANT_THUMB_MEDIA_ID)
    if payload.get("thumb_media_id"):
        return reply.kind, payload
    title = html.escape(str(payload.get("title") or payload.get("pagepath", "")))
    path = html.escape(str(payload.get("pagepath", "")), quote=True)
    appid = html.escape(settings.WECHAT_APPID, quote=True)
    link = (
        f'<a href="#" data-miniprogram-appid="{appid}" data-miniprogram-path="{path}">{title}</a>'
    )
    return ReplyKind.TEXT, {"content": link}


def reply_send(*, reply_id: str, now: datetime | None = None) -> OutboundReply:
    """Send one reply at most once and record the outcome (see the module docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        reply = lock_rows(OutboundReply.objects.filter(pk=reply_id)).get()
        if reply.status != ReplyStatus.PENDING:
            return reply
        conversation = Conversation.objects.select_related("user").get(pk=reply.conversation_id)
        if now >= conversation.window_ends_at():
            reply.status = ReplyStatus.WINDOW_EXPIRED
            reply.error_code = "window_closed"
            reply.save(update_fields=["status", "error_code"])
            return reply
        openid = conversation.user.openid if conversation.user else None
        if not openid:
            reply.status = ReplyStatus.FAILED
            reply.error_code = "no_openid"
            reply.save(update_fields=["status", "error_code"])
            return reply
        reply.status = ReplyStatus.SENDING
        reply.claimed_at = now
        reply.attempts += 1
        reply.save(update_fields=["status", "claimed_at", "attempts"])
    kind, payload = _wechat_message(reply)
    outcome, code = ReplyStatus.SENT, ""
    try:
        get_client().send_customer_service_message(openid=openid, kind=kind, payload=payload)
    except ServiceNotConfigured:
        outcome, code = ReplyStatus.PENDING, "wechat_not_configured"
    except ValueError:
        outcome, code = ReplyStatus.FAILED, "bad_payload"
    except WeChatError as exc:
        code = str(exc.errcode)
        if exc.errcode == ERRCODE_REPLY_WINDOW:
            outcome = ReplyStatus.WINDOW_EXPIRED
        elif exc.transient and _not_taken(exc):
            outcome = ReplyStatus.PENDING
        elif exc.transient:
            outcome, code = ReplyStatus.FAILED, "unknown_outcome"
        else:
            outcome = ReplyStatus.FAILED
    if outcome == ReplyStatus.PENDING and reply.attempts >= MAX_SEND_ATTEMPTS:
        outcome = ReplyStatus.FAILED
    return _record(reply, outcome=outcome, code=code, now=timezone.now())


def _not_taken(exc: WeChatError) -> bool:
    """WeChat certainly did not send it: no connection, "system busy", or an HTTP 5xx."""
    return (
        exc.request_unsent
        or exc.errcode == ERRCODE_SYSTEM_BUSY
        or (exc.http_status is not None and exc.http_status >= 500)
    )


def _record(reply: OutboundReply, *, outcome: str, code: str, now: datetime) -> OutboundReply:
    with transaction.atomic():
        reply = lock_rows(OutboundReply.objects.filter(pk=reply.pk)).get()
        if reply.status != ReplyStatus.SENDING:
            return reply  # the sweep declared it lost meanwhile
        reply.status = outcome
        reply.error_code = code[:32]
        fields = ["status", "error_code"]
        if outcome == ReplyStatus.SENT:
            reply.sent_at = now
            fields.append("sent_at")
            if reply.source != NOTICE_SOURCE:
                _answered(reply, now=now)
        reply.save(update_fields=fields)
    if outcome != ReplyStatus.SENT:
        logger.info("assistant: reply %s %s (%s)", reply.pk, outcome, code or "-")
    return reply


def _answered(reply: OutboundReply, *, now: datetime) -> None:
    """Answer times: the message(s) answered by a sent reply, and the conversation's first
    answer."""
    Conversation.objects.filter(pk=reply.conversation_id, first_response_at__isnull=True).update(
        first_response_at=now
    )
    if reply.author_id is None and reply.in_reply_to_id:
        InboundMessage.objects.filter(pk=reply.in_reply_to_id, answered_at__isnull=True).update(
            answered_at=now
        )
    elif reply.author_id is not None:
        InboundMessage.objects.filter(
            conversation_id=reply.conversation_id,
            status=MessageStatus.ANSWERED_HUMAN,
            answered_at__isnull=True,
            received_at__lte=reply.created_at,
        ).update(answered_at=now)


def assistant_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The ``assistant-sweep`` job: queue again what the workers left (messages still
    ``received`` and replies still ``pending`` after :data:`SWEEP_GRACE`) and fail replies
    that lost their worker while ``sending``. Idempotent and safe to run twice at once: the
    work it queues claims each row under its lock."""
    now = now or timezone.now()
    cutoff = now - SWEEP_GRACE
    lost = OutboundReply.objects.filter(
        status=ReplyStatus.SENDING, claimed_at__lt=now - SENDING_LEASE
    ).update(status=ReplyStatus.FAILED, error_code="unknown_outcome")
    messages = list(
        InboundMessage.objects.filter(status=MessageStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    replies = list(
        OutboundReply.objects.filter(status=ReplyStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    from assistant.tasks import assistant_answer

    for message_id in messages:
        assistant_answer.delay(message_id)
    _queue_sends(replies)
    return {"messages": len(messages), "replies": len(replies), "lost": lost}
