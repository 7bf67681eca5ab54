"""The assistant in the back office: the moderators' queue of conversations, each with its
messages and replies and a form to answer the member (through the same service as the API)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistant.models import Conversation, ConversationState, InboundMessage, OutboundReply
from assistant.services import conversation_close, conversation_reply
from assistant.services.queue import REPLY_TEXT_MAX
from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and (
            request.user.is_superuser or admin_communities(request.user).exists()
        )


class MessageInline(_ReadOnlyInline):
    model = InboundMessage
    fields = ["received_at", "msg_type", "content", "screening", "status", "community_guessed"]
    readonly_fields = fields
    ordering = ["received_at"]
    verbose_name_plural = _("messages from the member")

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(msg_type="event")


class ReplyInline(_ReadOnlyInline):
    model = OutboundReply
    fields = ["created_at", "author", "kind", "payload", "status", "error_code", "sent_at"]
    readonly_fields = fields
    ordering = ["created_at"]
    verbose_name_plural = _("replies to the member")


class ConversationReplyForm(forms.ModelForm):
    """No field of the conversation is edited here: only a reply is written."""

    reply = forms.CharField(
        label=_("Reply to the member"),
        required=False,
        max_length=REPLY_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent with WeChat's customer-service message; only within 48 hours."),
    )

    class Meta:
        model = Conversation
        fields: list[str] = []

    def clean_reply(self):
        text = self.cleaned_data.get("reply", "").strip()
        if text and self.instance.pk and timezone.now() >= self.instance.window_ends_at():
            raise forms.ValidationError(
                _(
                    "More than 48 hours have passed since the member's last message: WeChat "
                    "no longer accepts a reply."
                ),
                code="window_expired",
            )
        return text


@admin.register(Conversation)
class ConversationAdmin(CommunityScopedAdmin):
    form = ConversationReplyForm
    moderate_action = Action.ANSWER_CONVERSATIONS
    list_display = [
        "id",
        "community",
        "user",
        "state",
        "last_member_message_at",
        "handed_over_at",
        "first_response_at",
        "assigned_to",
    ]
    list_filter = ["state", "community"]
    list_select_related = ["community", "user", "assigned_to"]
    ordering = ["-last_member_message_at"]
    readonly_fields = [
        "community",
        "user",
        "state",
        "page",
        "opened_at",
        "last_member_message_at",
        "window_ends",
        "handed_over_at",
        "first_response_at",
        "assigned_to",
    ]
    fields = [*readonly_fields, "reply"]
    inlines = [MessageInline, ReplyInline]
    actions = ["close_conversations"]

    @admin.display(description=_("WeChat accepts replies until"))
    def window_ends(self, obj: Conversation):
        return obj.window_ends_at() if obj.last_member_message_at else None

    def has_add_permission(self, request) -> bool:
        return False  # conversations start when a member writes, never in the back office

    def save_model(self, request, obj, form, change):
        """The reply goes through ``conversation_reply`` (sent by a task after the admin's
        transaction commits); the conversation's fields are not edited here."""
        text = form.cleaned_data.get("reply")
        if not text:
            return
        actor = admin_actor(request.user, obj.community)
        self.run_service(
            request,
            conversation_reply,
            actor=actor,
            conversation_id=obj.pk,
            text=text,
            send_now=False,
        )

    def save_related(self, request, form, formsets, change):
        """Messages and replies are read-only here: nothing of them is saved."""
        for formset in formsets:  # read by the change message
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=_("Close the selected conversations"))
    def close_conversations(self, request, queryset):
        self.run_for_each(
            request,
            queryset.exclude(state=ConversationState.CLOSED),
            conversation_close,
            id_argument="conversation_id",
            done_message=_("%(count)d conversations closed."),
        )


from assistant import admin_faq  # noqa: E402, F401 (registers FAQ entries, keyword rules, statistics)
