"""Input and output serializers of the FAQ, keyword-rule and statistics API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from assistant.matching import PATTERN_MAX
from assistant.models import QUESTION_MAX, FaqStatus, MatchKind, RuleReplyKind
from assistant.selectors_faq import SEARCH_MAX
from assistant.selectors_stats import DAYS_MAX
from assistant.services.faq import ANSWER_MAX, CATEGORY_MAX, KEYWORD_MAX, KEYWORDS_MAX
from assistant.services.rules import (
    MEDIA_ID_MAX,
    PAGE_PATH_MAX,
    PRIORITY_MAX,
    PRIORITY_MIN,
    TITLE_MAX,
    URL_MAX,
)
from community.api.serializers import MemberTextField

MATCH_HELP = _("How the pattern is compared: exactly, contained, or a regular expression.")
PATTERN_HELP = _(
    "The text (compared without spaces, punctuation and case) or the regular expression "
    "(validated when saved, run with a time limit)."
)
PRIORITY_HELP = _("Higher first; among equals the more specific rule (exact, longer) wins.")
REPLY_HELP = _("What the assistant answers with.")
REPLY_TEXT_HELP = _("The text of a text reply, or a link's description.")
REPLY_TITLE_HELP = _("Title of a link or mini-program page reply.")
PAGE_PATH_HELP = _("Mini-program page of a page reply (pages/index/index?x=1).")
URL_HELP = _("https address of a link reply.")
MEDIA_HELP = _("WeChat media id of an image reply, or a page reply's cover image.")
FAQ_ID_HELP = _("The FAQ entry an FAQ reply answers with; null otherwise.")
ENABLED_HELP = _("Disabled rules answer nothing.")


class FaqEntryOut(serializers.Serializer):
    """An FAQ entry as the in-app list and its page show it."""

    id = serializers.CharField()
    question = serializers.CharField(help_text=_("The question as members ask it."))
    answer = serializers.CharField(help_text=_("The answer (plain text, line breaks kept)."))
    keywords = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("Words that make the assistant answer with this entry."),
    )
    category = serializers.CharField(help_text=_("Category of the FAQ entry; empty: none."))
    status = serializers.ChoiceField(
        choices=FaqStatus.choices,
        help_text=_("Members only ever see published entries; drafts show to the FAQ writers."),
    )
    helpful_yes = serializers.IntegerField(help_text=_("Members who found it helpful."))
    helpful_no = serializers.IntegerField(help_text=_("Members who did not find it helpful."))
    times_served = serializers.IntegerField(
        help_text=_("How often the assistant answered a message with it.")
    )
    my_feedback = serializers.BooleanField(
        allow_null=True,
        help_text=_("My vote: true helpful, false not helpful, null: I have not voted."),
    )
    updated_at = serializers.DateTimeField()


class FaqEntryIn(serializers.Serializer):
    question = MemberTextField(
        max_length=QUESTION_MAX, help_text=_("The question as members ask it.")
    )
    answer = MemberTextField(
        multiline=True,
        max_length=ANSWER_MAX,
        help_text=_("The answer (plain text, line breaks kept)."),
    )
    keywords = serializers.ListField(
        child=MemberTextField(max_length=KEYWORD_MAX),
        max_length=KEYWORDS_MAX,
        required=False,
        help_text=_("Words that make the assistant answer with this entry."),
    )
    category = MemberTextField(
        max_length=CATEGORY_MAX,
        allow_blank=True,
        required=False,
        help_text=_("Category of the FAQ entry; empty: none."),
    )
    status = serializers.ChoiceField(
        choices=FaqStatus.choices,
        required=False,
        help_text=_("`published` (the default) or `draft`."),
    )


class FaqEntryUpdateIn(FaqEntryIn):
    question = MemberTextField(
        max_length=QUESTION_MAX, required=False, help_text=_("The question as members ask it.")
    )
    answer = MemberTextField(
        multiline=True,
        max_length=ANSWER_MAX,
        required=False,
        help_text=_("The answer (plain text, line breaks kept)."),
    )


class FaqListIn(serializers.Serializer):
    q = serializers.CharField(
        max_length=SEARCH_MAX,
        required=False,
        allow_blank=True,
        help_text=_("Search the question, answer and keywords."),
    )
    category = serializers.CharField(
        max_length=CATEGORY_MAX,
        required=False,
        allow_blank=True,
        help_text=_("Only entries of this category (empty: without a category)."),
    )
    status = serializers.ChoiceField(
        choices=FaqStatus.choices,
        required=False,
        help_text=_("Only entries of this status (FAQ writers; members see published ones)."),
    )


class FaqFeedbackIn(serializers.Serializer):
    helpful = serializers.BooleanField(help_text=_("Was this helpful?"))


class FaqCategoryOut(serializers.Serializer):
    category = serializers.CharField(help_text=_("Category of the FAQ entry; empty: none."))
    count = serializers.IntegerField(help_text=_("Published entries in it."))


class FaqCategoriesOut(serializers.Serializer):
    categories = FaqCategoryOut(many=True, help_text=_("Categories in alphabetical order."))


class KeywordRuleOut(serializers.Serializer):
    """A keyword rule with its reply."""

    id = serializers.CharField()
    match_kind = serializers.ChoiceField(choices=MatchKind.choices, help_text=MATCH_HELP)
    pattern = serializers.CharField(help_text=PATTERN_HELP)
    priority = serializers.IntegerField(help_text=PRIORITY_HELP)
    reply_kind = serializers.ChoiceField(choices=RuleReplyKind.choices, help_text=REPLY_HELP)
    reply_text = serializers.CharField(help_text=REPLY_TEXT_HELP)
    reply_title = serializers.CharField(help_text=REPLY_TITLE_HELP)
    reply_page_path = serializers.CharField(help_text=PAGE_PATH_HELP)
    reply_url = serializers.CharField(help_text=URL_HELP)
    reply_media_id = serializers.CharField(help_text=MEDIA_HELP)
    faq_id = serializers.CharField(allow_null=True, help_text=FAQ_ID_HELP)
    enabled = serializers.BooleanField(help_text=ENABLED_HELP)
    updated_at = serializers.DateTimeField()


class KeywordRuleIn(serializers.Serializer):
    match_kind = serializers.ChoiceField(choices=MatchKind.choices, help_text=MATCH_HELP)
    pattern = serializers.CharField(max_length=PATTERN_MAX, help_text=PATTERN_HELP)
    priority = serializers.IntegerField(
        min_value=PRIORITY_MIN, max_value=PRIORITY_MAX, required=False, help_text=PRIORITY_HELP
    )
    reply_kind = serializers.ChoiceField(choices=RuleReplyKind.choices, help_text=REPLY_HELP)
    reply_text = serializers.CharField(
        max_length=ANSWER_MAX, required=False, allow_blank=True, help_text=REPLY_TEXT_HELP
    )
    reply_title = serializers.CharField(
        max_length=TITLE_MAX, required=False, allow_blank=True, help_text=REPLY_TITLE_HELP
    )
    reply_page_path = serializers.CharField(
        max_length=PAGE_PATH_MAX, required=False, allow_blank=True, help_text=PAGE_PATH_HELP
    )
    reply_url = serializers.CharField(
        max_length=URL_MAX, required=False, allow_blank=True, help_text=URL_HELP
    )
    reply_media_id = serializers.CharField(
        max_length=MEDIA_ID_MAX, required=False, allow_blank=True, help_text=MEDIA_HELP
    )
    faq_id = serializers.CharField(
        max_length=32, required=False, allow_null=True, help_text=FAQ_ID_HELP
    )
    enabled = serializers.BooleanField(required=False, help_text=ENABLED_HELP)


class KeywordRuleUpdateIn(KeywordRuleIn):
    match_kind = serializers.ChoiceField(
        choices=MatchKind.choices, required=False, help_text=MATCH_HELP
    )
    pattern = serializers.CharField(max_length=PATTERN_MAX, required=False, help_text=PATTERN_HELP)
    reply_kind = serializers.ChoiceField(
        choices=RuleReplyKind.choices, required=False, help_text=REPLY_HELP
    )


class StatsIn(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=DAYS_MAX,
        required=False,
        default=30,
        help_text=_("The period: the last this many days (default 30)."),
    )


class TopEntryOut(serializers.Serializer):
    entry_id = serializers.CharField(help_text=_("FAQ entry id"))
    question = serializers.CharField(help_text=_("The question as members ask it."))
    served = serializers.IntegerField(help_text=_("Answers with it in the period."))
    times_served = serializers.IntegerField(
        help_text=_("How often the assistant answered a message with it.")
    )
    helpful_yes = serializers.IntegerField(help_text=_("Members who found it helpful."))
    helpful_no = serializers.IntegerField(help_text=_("Members who did not find it helpful."))


class QuestionGroupOut(serializers.Serializer):
    text = serializers.CharField(help_text=_("The latest wording members used."))
    normalized = serializers.CharField(
        help_text=_("The normal form the texts were grouped by (no spaces, punctuation, case).")
    )
    count = serializers.IntegerField(help_text=_("Messages in the period."))
    last_at = serializers.DateTimeField(help_text=_("The latest one (ISO 8601 with offset)."))


class UnansweredGroupOut(QuestionGroupOut):
    waiting = serializers.IntegerField(help_text=_("Of them, still waiting for a person."))


class AnswerTimeOut(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Answered messages in the period."))
    median_seconds = serializers.FloatField(
        allow_null=True, help_text=_("Median time to the answer in seconds; null: none.")
    )
    p90_seconds = serializers.FloatField(
        allow_null=True,
        help_text=_("90th percentile of the time to the answer in seconds; null: none."),
    )


class AnswerTimesOut(serializers.Serializer):
    auto = AnswerTimeOut(help_text=_("Answers by the assistant."))
    human = AnswerTimeOut(help_text=_("Answers by a person."))


class AssistantStatsOut(serializers.Serializer):
    since = serializers.DateTimeField(help_text=_("Start of the period (ISO 8601 with offset)."))
    until = serializers.DateTimeField(help_text=_("End of the period (ISO 8601 with offset)."))
    messages = serializers.IntegerField(help_text=_("Messages received in the period."))
    answered_auto = serializers.IntegerField(help_text=_("Of them, answered by the assistant."))
    handed_over = serializers.IntegerField(help_text=_("Of them, waiting for a person."))
    answered_human = serializers.IntegerField(help_text=_("Of them, answered by a person."))
    top_entries = TopEntryOut(many=True, help_text=_("FAQ entries answered with most."))
    top_questions = QuestionGroupOut(many=True, help_text=_("Texts members sent most."))
    unanswered = UnansweredGroupOut(
        many=True,
        help_text=_(
            "Texts the assistant could not answer, most frequent first: FAQ entries to write."
        ),
    )
    answer_times = AnswerTimesOut(help_text=_("Time from a message to its answer."))
