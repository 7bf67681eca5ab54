"""Reads of the assistant's conversations for the moderators' queue (never imports services)."""

from __future__ import annotations

from django.db.models import QuerySet

from assistant.models import Conversation, ConversationState, InboundMessage, OutboundReply
from community.authz import Action, ensure
from community.errors import NotFound
from community.models import Membership

#: At most this many of the latest messages and replies show in one conversation.
THREAD_LIMIT = 100


def conversation_list(*, viewer: Membership, state: str | None = None) -> QuerySet[Conversation]:
    """The community's conversations, those waiting for a person by default, most recent
    member message first; member and assignee loaded."""
    ensure(viewer, Action.ANSWER_CONVERSATIONS)
    queryset = Conversation.objects.filter(community_id=viewer.community_id).select_related(
        "user", "assigned_to"
    )
    return queryset.filter(state=state or ConversationState.WAITING_FOR_HUMAN)


def conversation_detail(*, viewer: Membership, conversation_id: str) -> dict:
    """One conversation with its latest messages and replies in time order."""
    ensure(viewer, Action.ANSWER_CONVERSATIONS)
    conversation = (
        Conversation.objects.select_related("user", "assigned_to")
        .filter(pk=conversation_id, community_id=viewer.community_id)
        .first()
    )
    if conversation is None:
        from django.utils.translation import gettext as _

        raise NotFound(_("Conversation not found."), code="conversation_not_found")
    messages = list(
        InboundMessage.objects.filter(
            community_id=viewer.community_id, conversation=conversation
        ).order_by("-received_at")[:THREAD_LIMIT]
    )
    replies = list(
        OutboundReply.objects.filter(community_id=viewer.community_id, conversation=conversation)
        .select_related("author")
        .order_by("-created_at")[:THREAD_LIMIT]
    )
    thread = [{"direction": "in", "at": m.received_at, "message": m} for m in messages]
    thread += [{"direction": "out", "at": r.created_at, "reply": r} for r in replies]
    thread.sort(key=lambda item: item["at"])
    return {"conversation": conversation, "thread": thread[-THREAD_LIMIT:]}
