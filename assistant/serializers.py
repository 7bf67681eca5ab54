"""Input and output serializers of the assistant's moderator API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from assistant.models import ConversationState, MessageStatus, MessageType, ReplyKind, ReplyStatus
from assistant.models import Screening as ScreeningChoices
from assistant.services.queue import REPLY_TEXT_MAX


class PersonOut(serializers.Serializer):
    id = serializers.CharField()
    nickname = serializers.CharField()
    avatar_url = serializers.CharField()


class ConversationOut(serializers.Serializer):
    """A conversation as the queue shows it."""

    id = serializers.CharField()
    state = serializers.ChoiceField(choices=ConversationState.choices)
    member = PersonOut(source="user", allow_null=True)
    page = serializers.CharField(help_text=_("The page the member opened the chat from."))
    opened_at = serializers.DateTimeField()
    last_member_message_at = serializers.DateTimeField()
    window_ends_at = serializers.DateTimeField(
        help_text=_("After this time WeChat accepts no reply (48 hours after the last message).")
    )
    handed_over_at = serializers.DateTimeField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    assigned_to = PersonOut(allow_null=True)


class ConversationListIn(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=ConversationState.choices,
        required=False,
        help_text=_("Only this state (default: waiting for a person)."),
    )


class MessageOut(serializers.Serializer):
    id = serializers.CharField()
    msg_type = serializers.ChoiceField(choices=MessageType.choices)
    content = serializers.CharField()
    extra = serializers.DictField(
        child=serializers.CharField(), help_text=_("Image URL, shared page title and path.")
    )
    screening = serializers.ChoiceField(choices=ScreeningChoices.choices)
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    community_guessed = serializers.BooleanField(
        help_text=_("The member did not open the chat from this community: we chose it.")
    )
    sent_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    answer_source = serializers.CharField()


class ReplyOut(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=ReplyKind.choices)
    payload = serializers.DictField()
    author = PersonOut(allow_null=True, help_text=_("Empty: the assistant."))
    source = serializers.CharField()
    status = serializers.ChoiceField(choices=ReplyStatus.choices)
    error_code = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class ThreadItemOut(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=[("in", _("From the member")), ("out", _("To the member"))]
    )
    at = serializers.DateTimeField()
    message = MessageOut(required=False, help_text=_("When direction is in."))
    reply = ReplyOut(required=False, help_text=_("When direction is out."))


class ConversationDetailOut(serializers.Serializer):
    conversation = ConversationOut()
    thread = ThreadItemOut(many=True, help_text=_("The latest 100 items, oldest first."))


class ReplyIn(serializers.Serializer):
    text = serializers.CharField(max_length=REPLY_TEXT_MAX)
