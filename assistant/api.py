"""The moderators' side of the assistant: the queue of conversations handed over to a
person, one conversation's messages, a reply within WeChat's 48-hour window, closing."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant import selectors, services
from assistant.models import Conversation
from assistant.serializers import (
    ConversationDetailOut,
    ConversationListIn,
    ConversationOut,
    ReplyIn,
    ReplyOut,
)
from community.authz import Action, require, visible_object
from community.errors import NotFound
from community.openapi import COMMUNITY_ID
from community.pagination import cursor_pagination
from community.throttling import WriteThrottle
from community.timezones import community_time

TAGS = ["assistant"]
_CONVERSATION_ID = OpenApiParameter(
    "conversation_id", str, OpenApiParameter.PATH, description=gettext_lazy("Conversation id")
)
WHO = gettext_lazy("Moderator tiers and above (403 `tier_too_low`).")


def _actor(user, conversation_id: str):
    found = visible_object(Conversation, user=user, object_id=conversation_id)
    if found is None:
        from django.utils.translation import gettext as _

        raise NotFound(_("Conversation not found."), code="conversation_not_found")
    return found[1]


class ConversationListView(GenericAPIView):
    serializer_class = ConversationOut
    pagination_class = cursor_pagination("-last_member_message_at", "id")

    @extend_schema(
        operation_id="listConversations",
        tags=TAGS,
        summary=gettext_lazy("Customer-service conversations"),
        description=gettext_lazy(
            "Conversations of members with the assistant, those waiting for a person by "
            "default, the latest member message first. Moderator tiers and above."
        ),
        parameters=[COMMUNITY_ID, ConversationListIn],
        responses={200: ConversationOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = require(request.user, community_id, Action.VIEW)
        params = ConversationListIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.conversation_list(viewer=viewer, state=params.validated_data.get("state"))
        )
        with community_time(viewer.community):
            return self.get_paginated_response(ConversationOut(page, many=True).data)


class ConversationDetailView(APIView):
    @extend_schema(
        operation_id="getConversation",
        tags=TAGS,
        summary=gettext_lazy("One customer-service conversation"),
        description=gettext_lazy(
            "The conversation with its latest messages and replies, oldest first. Moderator "
            "tiers and above."
        ),
        parameters=[_CONVERSATION_ID],
        responses={200: ConversationDetailOut},
    )
    def get(self, request, conversation_id: str):
        viewer = _actor(request.user, conversation_id)
        detail = selectors.conversation_detail(viewer=viewer, conversation_id=conversation_id)
        with community_time(viewer.community):
            return Response(ConversationDetailOut(detail).data)


class ConversationReplyView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="replyToConversation",
        tags=TAGS,
        summary=gettext_lazy("Answer a member"),
        description=gettext_lazy(
            "Sends a text to the member with WeChat's customer-service message, at once; "
            "`status` is `pending` when WeChat is down (sent later). 409 `window_expired` "
            "after the 48 hours that follow the member's last message. Moderator tiers and "
            "above."
        ),
        parameters=[_CONVERSATION_ID],
        request=ReplyIn,
        responses={201: ReplyOut},
        examples=[
            OpenApiExample(
                "Reply", request_only=True, value={"text": "周六的活动 7:30 在南门集合。"}
            )
        ],
    )
    def post(self, request, conversation_id: str):
        actor = _actor(request.user, conversation_id)
        data = ReplyIn(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.conversation_reply(
            actor=actor, conversation_id=conversation_id, text=data.validated_data["text"]
        )
        with community_time(actor.community):
            return Response(ReplyOut(reply).data, status=status.HTTP_201_CREATED)


class ConversationCloseView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="closeConversation",
        tags=TAGS,
        summary=gettext_lazy("Close a conversation"),
        description=gettext_lazy(
            "It leaves the queue; the member's next message starts afresh with the assistant. "
            "Moderator tiers and above."
        ),
        parameters=[_CONVERSATION_ID],
        request=None,
        responses={200: ConversationOut},
    )
    def post(self, request, conversation_id: str):
        actor = _actor(request.user, conversation_id)
        conversation = services.conversation_close(actor=actor, conversation_id=conversation_id)
        with community_time(actor.community):
            return Response(ConversationOut(conversation).data)
