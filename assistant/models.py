"""The assistant: messages members write to the mini-program's customer-service channel
(pushed to us by WeChat), the conversations they form, the replies we send with
``customerServiceMessage.send``, and the FAQ entries and keyword rules that answer them.

Why its own app: the customer-service channel is a subsystem with its own endpoint (WeChat's
message push), tables, queue for the moderators, API and admin; it reads events, rules and polls
for its live answers but writes nothing of theirs.

Every table carries ``community_id`` (the community the member came from, ``session-from``)
and its unique constraints include it, so the schema stays ready for Citus."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import OpaqueCharField, PublicIdField
from community.models import Community, Membership

#: WeChat lets us answer a member with ``customerServiceMessage.send`` only this long after
#: their last message (the 48-hour window).
REPLY_WINDOW = timedelta(hours=48)
QUESTION_MAX = 200
PATTERN_MAX = 200


class MessageType(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    MINIPROGRAMPAGE = "miniprogrampage", _("Mini-program page")
    EVENT = "event", _("Event")


class Screening(models.TextChoices):
    """WeChat's verdict on the text (``community.services.content``); ``pending`` until the
    answering task asked it."""

    PENDING = "pending", _("Not checked yet")
    PASS = "pass", _("Passed")  # noqa: S105 (a verdict, not a password)
    REVIEW = "review", _("Needs a human look")
    RISKY = "risky", _("Risky")
    UNCHECKED = "unchecked", _("Could not be checked")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received, not answered yet")
    ANSWERED_AUTO = "answered_auto", _("Answered by the assistant")
    HANDED_OVER = "handed_over", _("Handed over to a person")
    ANSWERED_HUMAN = "answered_human", _("Answered by a person")
    IGNORED = "ignored", _("Ignored")


class ConversationState(models.TextChoices):
    AUTO = "auto", _("Answered by the assistant")
    WAITING_FOR_HUMAN = "waiting_for_human", _("Waiting for a person")
    ANSWERED = "answered", _("Answered by a person")
    CLOSED = "closed", _("Closed")


class ReplyKind(models.TextChoices):
    TEXT = "text", _("Text")
    LINK = "link", _("Link")
    MINIPROGRAMPAGE = "miniprogrampage", _("Mini-program page")
    IMAGE = "image", _("Image")


class ReplyStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    WINDOW_EXPIRED = "window_expired", _("Too late: the 48-hour window had closed")


class Conversation(models.Model):
    """One member's thread with the community's customer service: every message they write
    from this community's pages joins it. ``last_member_message_at`` starts the 48-hour window
    in which we may answer; ``state`` says who answers next (the assistant, or a person: then
    it is in the moderators' queue). ``handover_notice_at`` records the last "a person will
    answer" notice, sent at most once per window."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    #: SHA-256 of the member's openid (``community.hashing``): the openid itself is on the user.
    openid_hash = OpaqueCharField(_("openid (hashed)"), max_length=64)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=ConversationState.choices,
        default=ConversationState.AUTO,
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned moderator"),
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    #: When the member last opened the chat from this community's contact button (WeChat's
    #: ``user_enter_tempsession`` event with its ``SessionFrom``), and from which page:
    #: messages that follow (they carry no ``SessionFrom``) go to that community.
    entered_at = models.DateTimeField(_("chat opened from here at"), null=True, blank=True)
    page = models.CharField(_("page"), max_length=200, blank=True, default="")
    last_member_message_at = models.DateTimeField(_("last message of the member"))
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handover_notice_at = models.DateTimeField(_("hand-over notice sent at"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first answer at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_member_message_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "openid_hash"], name="conversation_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in ConversationState]),
                name="conversation_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "state", "last_member_message_at"]),
            # Which community a member's next message goes to: where they entered last.
            models.Index(fields=["openid_hash", "-entered_at"], name="conversation_entered"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} / {self.id}"

    def window_ends_at(self):
        """When WeChat stops accepting our replies to this member."""
        return self.last_member_message_at + REPLY_WINDOW


class InboundMessage(models.Model):
    """A message a member wrote in the customer-service chat, pushed to us by WeChat.

    Stored first, in the push request's transaction, then answered by a task
    (``assistant.tasks``) and, when the workers were down, by the sweep job. WeChat retries a
    push it did not get "success" for: ``wechat_msg_id`` (``MsgId``, or
    ``FromUserName``+``CreateTime`` for events) is unique per community, so a retry is stored
    once and answered once."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    member = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    openid_hash = OpaqueCharField(_("openid (hashed)"), max_length=64)
    wechat_msg_id = OpaqueCharField(_("WeChat message id"), max_length=128)
    msg_type = models.CharField(
        _("message type"), max_length=20, choices=MessageType.choices, default=MessageType.TEXT
    )
    content = models.TextField(_("content"), blank=True, default="")
    #: What else the push carried: the image's ``PicUrl``/``MediaId``, a shared page's
    #: ``Title``/``PagePath``, an event's ``Event`` name.
    extra = models.JSONField(_("other fields"), default=dict, blank=True)
    session_from = models.CharField(_("session-from (raw)"), max_length=1000, blank=True)
    page = models.CharField(_("page"), max_length=200, blank=True, default="")
    #: True when ``session-from`` named no community of the member's and we chose it ourselves
    #: (the member's only, or most recently active, community).
    community_guessed = models.BooleanField(_("community guessed"), default=False)
    sent_at = models.DateTimeField(_("written at (WeChat's CreateTime)"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    screening = models.CharField(
        _("screening"), max_length=12, choices=Screening.choices, default=Screening.PENDING
    )
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.RECEIVED
    )
    #: How often the answering task started on it (the sweep gives up after a bound).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    #: ``faq:<id>``, ``rule:<id>``, ``live:<what>``, ``human:<user id>``, or ``none``.
    answer_source = models.CharField(_("answered from"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("message from a member")
        verbose_name_plural = _("messages from members")
        ordering = ["received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "wechat_msg_id"], name="inbound_message_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in MessageStatus]),
                name="inbound_message_status_valid",
            ),
        ]
        indexes = [
            # The sweep: received and not answered, oldest first.
            models.Index(
                fields=["received_at"],
                condition=Q(status="received"),
                name="inbound_message_unanswered",
            ),
            models.Index(fields=["conversation", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.msg_type} {self.id}"


class OutboundReply(models.Model):
    """A message we send a member with ``customerServiceMessage.send``: the assistant's answer
    (``author`` empty), the "a person will answer" notice, or a moderator's reply.

    Sent once: ``dedupe_key`` is unique per community; the sender claims the row
    (``pending`` -> ``sending``) and commits before it calls WeChat, then records ``sent``,
    ``failed`` (with WeChat's ``errcode``) or ``window_expired`` (45015: the 48 hours passed)."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="replies")
    in_reply_to = models.ForeignKey(
        InboundMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ReplyKind.choices)
    payload = models.JSONField(_("payload"), default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    source = models.CharField(_("answered from"), max_length=64, blank=True, default="")
    dedupe_key = OpaqueCharField(_("dedupe key"), max_length=128)
    status = models.CharField(
        _("status"), max_length=16, choices=ReplyStatus.choices, default=ReplyStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error_code = models.CharField(_("error code"), max_length=32, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["community", "dedupe_key"], name="outbound_reply_once"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ReplyStatus]),
                name="outbound_reply_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="outbound_reply_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class FaqStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class FaqEntry(models.Model):
    """A question members often ask and its answer, per community, written by the admin
    tiers and the content role. Published entries answer pushed messages (their keywords) and
    make the in-app FAQ; ``helpful_yes``/``helpful_no`` count the members' votes
    (:class:`FaqFeedback`) and ``times_served`` how often the assistant answered with it."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    question = models.CharField(_("question"), max_length=QUESTION_MAX)
    answer = models.TextField(_("answer"))
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=12, choices=FaqStatus.choices, default=FaqStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    helpful_yes = models.PositiveIntegerField(_("helpful"), default=0)
    helpful_no = models.PositiveIntegerField(_("not helpful"), default=0)
    times_served = models.PositiveIntegerField(_("times served"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["category", "question"]
        constraints = [
            models.UniqueConstraint(fields=["community", "question"], name="faq_entry_question"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in FaqStatus]),
                name="faq_entry_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "category"])]

    def __str__(self) -> str:
        return self.question


class FaqFeedback(models.Model):
    """A member's "was this helpful?" on an FAQ entry: one per member and entry (a second vote
    changes the first)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(FaqEntry, on_delete=models.CASCADE, related_name="feedback")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField(_("helpful"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("FAQ feedback")
        verbose_name_plural = _("FAQ feedback")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "entry", "member"], name="faq_feedback_one_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} / {self.member_id}"


class MatchKind(models.TextChoices):
    EXACT = "exact", _("Exactly the text")
    CONTAINS = "contains", _("Contains")
    REGEX = "regex", _("Regular expression")


class RuleReplyKind(models.TextChoices):
    TEXT = "text", _("Text")
    LINK = "link", _("Link")
    MINIPROGRAMPAGE = "miniprogrampage", _("Mini-program page")
    IMAGE = "image", _("Image")
    LIVE_NEXT_EVENT = "live_next_event", _("The next event (live)")
    LIVE_RULES = "live_rules", _("The group rules (live)")
    LIVE_OPEN_POLLS = "live_open_polls", _("The open polls (live)")
    FAQ = "faq", _("An FAQ entry")
    HAND_OVER = "hand_over", _("Hand over to a person")


class KeywordRule(models.Model):
    """A keyword rule of a community: when a message matches ``pattern`` (exactly, contains,
    or a regular expression run with a time limit), the assistant answers with the rule's
    reply. The enabled rule with the highest ``priority`` wins."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    match_kind = models.CharField(_("match"), max_length=12, choices=MatchKind.choices)
    pattern = models.CharField(_("pattern"), max_length=PATTERN_MAX)
    priority = models.IntegerField(_("priority"), default=0)
    reply_kind = models.CharField(_("reply"), max_length=20, choices=RuleReplyKind.choices)
    reply_text = models.TextField(_("reply text"), blank=True, default="")
    reply_title = models.CharField(_("reply title"), max_length=100, blank=True, default="")
    reply_page_path = models.CharField(_("page path"), max_length=200, blank=True, default="")
    reply_url = models.URLField(_("link URL"), max_length=500, blank=True, default="")
    reply_media_id = models.CharField(_("image media id"), max_length=128, blank=True, default="")
    faq = models.ForeignKey(
        FaqEntry,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("FAQ entry"),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("keyword rule")
        verbose_name_plural = _("keyword rules")
        ordering = ["-priority", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(match_kind__in=[m.value for m in MatchKind]),
                name="keyword_rule_match_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(reply_kind__in=[k.value for k in RuleReplyKind]),
                name="keyword_rule_reply_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(reply_kind="faq") | Q(faq__isnull=False),
                name="keyword_rule_faq_reply_has_entry",
            ),
        ]
        indexes = [models.Index(fields=["community", "enabled", "-priority"])]

    def __str__(self) -> str:
        return f"{self.match_kind}: {self.pattern}"
