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
    opened_at = serializers.DateTimeField(help_text=_("When the conversation (re)started."))
    last_member_message_at = serializers.DateTimeField(
        help_text=_("The member's last message: the 48-hour window starts here.")
    )
    window_ends_at = serializers.DateTimeField(
        help_text=_("After this time WeChat accepts no reply (48 hours after the last message).")
    )
    handed_over_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When it was handed over to a person; null: never.")
    )
    first_response_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the member got the first answer; null: not yet.")
    )
    assigned_to = PersonOut(
        allow_null=True, help_text=_("The moderator who answers it; null: nobody yet.")
    )


class ConversationListIn(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=ConversationState.choices,
        required=False,
        help_text=_("Only this state (default: waiting for a person)."),
    )


class MessageOut(serializers.Serializer):
    id = serializers.CharField()
    msg_type = serializers.ChoiceField(choices=MessageType.choices, help_text=_("Kind of message."))
    content = serializers.CharField(help_text=_("The text the member wrote (text messages)."))
    extra = serializers.DictField(
        child=serializers.CharField(), help_text=_("Image URL, shared page title and path.")
    )
    screening = serializers.ChoiceField(
        choices=ScreeningChoices.choices, help_text=_("WeChat's content check of the text.")
    )
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    community_guessed = serializers.BooleanField(
        help_text=_("The member did not open the chat from this community: we chose it.")
    )
    sent_at = serializers.DateTimeField(help_text=_("When the member wrote it."))
    received_at = serializers.DateTimeField(help_text=_("When WeChat pushed it to us."))
    answered_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When an answer to it was sent; null: not yet.")
    )
    answer_source = serializers.CharField(
        help_text=_(
            "Where the answer came from: faq:<id>, rule:<id>, live:<what>, human:<user id>, "
            "person (handed over) or none; empty: not answered yet."
        )
    )


class ReplyOut(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=ReplyKind.choices)
    payload = serializers.DictField(
        help_text=_("What was sent, as WeChat's customer-service message of this kind takes it.")
    )
    author = PersonOut(allow_null=True, help_text=_("Empty: the assistant."))
    source = serializers.CharField(
        help_text=_("Where it came from (as `answer_source`; notice:hand_over for the notice).")
    )
    status = serializers.ChoiceField(choices=ReplyStatus.choices)
    error_code = serializers.CharField(
        help_text=_("WeChat's errcode (or our reason) when it was not sent; empty otherwise.")
    )
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When WeChat took it; null: not sent.")
    )


class ThreadItemOut(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=[("in", _("From the member")), ("out", _("To the member"))],
        help_text=_("in: a message from the member; out: a reply to them."),
    )
    at = serializers.DateTimeField(help_text=_("When it was received or queued."))
    message = MessageOut(required=False, help_text=_("When direction is in."))
    reply = ReplyOut(required=False, help_text=_("When direction is out."))


class ConversationDetailOut(serializers.Serializer):
    conversation = ConversationOut(help_text=_("The conversation."))
    thread = ThreadItemOut(many=True, help_text=_("The latest 100 items, oldest first."))


class ReplyIn(serializers.Serializer):
    text = serializers.CharField(
        max_length=REPLY_TEXT_MAX, help_text=_("The reply (plain text, sent as it is).")
    )
