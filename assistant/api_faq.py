"""The FAQ API: members read and search the in-app FAQ and vote "was this helpful?"; the admin
tiers and holders of the publish-content capability write entries and keyword rules and read
the assistant's statistics."""

from __future__ import annotations

from dataclasses import asdict

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from assistant import selectors_faq, selectors_stats, services
from assistant.models import FaqEntry, KeywordRule
from assistant.serializers_faq import (
    AssistantStatsOut,
    FaqCategoriesOut,
    FaqEntryIn,
    FaqEntryOut,
    FaqEntryUpdateIn,
    FaqFeedbackIn,
    FaqListIn,
    KeywordRuleIn,
    KeywordRuleOut,
    KeywordRuleUpdateIn,
    StatsIn,
)
from community.authz import Action, ensure, require, visible_object
from community.errors import NotFound
from community.openapi import COMMUNITY_ID
from community.pagination import cursor_pagination
from community.throttling import WriteThrottle
from community.timezones import community_time

TAGS = ["assistant"]
_ENTRY_ID = OpenApiParameter(
    "entry_id", str, OpenApiParameter.PATH, description=gettext_lazy("FAQ entry id")
)
_RULE_ID = OpenApiParameter(
    "rule_id", str, OpenApiParameter.PATH, description=gettext_lazy("Keyword rule id")
)
WRITERS = gettext_lazy(
    "Admin tiers and holders of the publish-content capability (403 `tier_too_low`)."
)
SCREENED = gettext_lazy(
    "Texts pass WeChat's content check first: 400 `content_risky`, or `content_not_checked` "
    "when WeChat wants a review or cannot be reached (change it or try again later). "
)
ENTRY_EXAMPLE = OpenApiExample(
    "FAQ entry",
    request_only=True,
    value={
        "question": "怎么报名活动？",
        "answer": "在小程序「活动」页找到活动，点「报名」即可；满员后可以排队候补。",
        "keywords": ["报名", "接龙"],
        "category": "活动",
    },
)
RULE_EXAMPLE = OpenApiExample(
    "Keyword rule",
    request_only=True,
    value={
        "match_kind": "contains",
        "pattern": "几点集合",
        "priority": 10,
        "reply_kind": "live_next_event",
    },
)


def _entry(user, entry_id: str):
    found = visible_object(FaqEntry, user=user, object_id=entry_id)
    if found is None:
        raise NotFound(_("FAQ entry not found."), code="faq_entry_not_found")
    return found


def _rule(user, rule_id: str):
    found = visible_object(KeywordRule, user=user, object_id=rule_id)
    if found is None:
        raise NotFound(_("Keyword rule not found."), code="keyword_rule_not_found")
    return found


def _entry_out(viewer, entry_id: str) -> dict:
    entry = selectors_faq.faq_entry_for(viewer=viewer, entry_id=entry_id)
    with community_time(viewer.community):
        return FaqEntryOut(entry).data


class FaqListView(GenericAPIView):
    serializer_class = FaqEntryOut
    pagination_class = cursor_pagination("created_at", "id")
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listFaqEntries",
        tags=TAGS,
        summary=gettext_lazy("The FAQ"),
        description=gettext_lazy(
            "The community's FAQ entries, oldest first, with the helpful counts and my vote; "
            "search with `q`, filter by `category`. Members see published entries; the FAQ "
            "writers also drafts. Cursor-paginated."
        ),
        parameters=[COMMUNITY_ID, FaqListIn],
        responses={200: FaqEntryOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = require(request.user, community_id, Action.VIEW)
        filters = FaqListIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors_faq.faq_list(viewer=viewer, **filters.validated_data)
        page = self.paginate_queryset(qs)
        with community_time(viewer.community):
            return self.get_paginated_response(FaqEntryOut(page, many=True).data)

    @extend_schema(
        operation_id="createFaqEntry",
        tags=TAGS,
        summary=gettext_lazy("Add an FAQ entry"),
        description=format_lazy(
            "{}{}{}",
            gettext_lazy(
                "Published at once unless `status` is `draft`; the assistant answers with it "
                "when a message contains the question or a keyword. 409 `faq_question_taken` "
                "for a question the community has. "
            ),
            SCREENED,
            WRITERS,
        ),
        parameters=[COMMUNITY_ID],
        request=FaqEntryIn,
        responses={201: FaqEntryOut},
        examples=[ENTRY_EXAMPLE],
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        data = FaqEntryIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.faq_entry_create(actor=actor, **data.validated_data)
        return Response(_entry_out(actor, entry.pk), status=status.HTTP_201_CREATED)


class FaqDetailView(GenericAPIView):
    serializer_class = FaqEntryOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getFaqEntry",
        tags=TAGS,
        summary=gettext_lazy("An FAQ entry"),
        description=gettext_lazy("With the helpful counts and my vote."),
        parameters=[_ENTRY_ID],
        responses={200: FaqEntryOut},
    )
    def get(self, request, entry_id: str):
        _found, viewer = _entry(request.user, entry_id)
        ensure(viewer, Action.VIEW)
        return Response(_entry_out(viewer, entry_id))

    @extend_schema(
        operation_id="updateFaqEntry",
        tags=TAGS,
        summary=gettext_lazy("Edit an FAQ entry"),
        description=format_lazy("{}{}", SCREENED, WRITERS),
        parameters=[_ENTRY_ID],
        request=FaqEntryUpdateIn,
        responses={200: FaqEntryOut},
    )
    def patch(self, request, entry_id: str):
        _found, actor = _entry(request.user, entry_id)
        data = FaqEntryUpdateIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.faq_entry_update(actor=actor, entry_id=entry_id, **data.validated_data)
        return Response(_entry_out(actor, entry_id))

    @extend_schema(
        operation_id="deleteFaqEntry",
        tags=TAGS,
        summary=gettext_lazy("Delete an FAQ entry"),
        description=format_lazy(
            "{}{}",
            gettext_lazy("With its votes and the keyword rules that answer with it. "),
            WRITERS,
        ),
        parameters=[_ENTRY_ID],
        responses={204: None},
    )
    def delete(self, request, entry_id: str):
        _found, actor = _entry(request.user, entry_id)
        services.faq_entry_delete(actor=actor, entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FaqFeedbackView(GenericAPIView):
    serializer_class = FaqEntryOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="setMyFaqFeedback",
        tags=TAGS,
        summary=gettext_lazy("Was this helpful?"),
        description=gettext_lazy(
            "My vote on a published entry: one per member, a new vote replaces mine, the same "
            "vote again changes nothing. Answers the entry with its counts."
        ),
        parameters=[_ENTRY_ID],
        request=FaqFeedbackIn,
        responses={200: FaqEntryOut},
    )
    def put(self, request, entry_id: str):
        _found, membership = _entry(request.user, entry_id)
        data = FaqFeedbackIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.faq_feedback_set(
            membership=membership, entry_id=entry_id, helpful=data.validated_data["helpful"]
        )
        with community_time(membership.community):
            return Response(FaqEntryOut(entry).data)


class FaqCategoriesView(GenericAPIView):
    serializer_class = FaqCategoriesOut
    pagination_class = None

    @extend_schema(
        operation_id="listFaqCategories",
        tags=TAGS,
        summary=gettext_lazy("FAQ categories"),
        description=gettext_lazy(
            "The categories of the published entries with how many each holds (empty: "
            "entries without one), for the filter of the in-app FAQ. Not paginated: a "
            "community has a handful."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: FaqCategoriesOut},
    )
    def get(self, request, community_id: str):
        viewer = require(request.user, community_id, Action.VIEW)
        categories = selectors_faq.faq_categories(viewer=viewer)
        return Response(FaqCategoriesOut({"categories": categories}).data)


class KeywordRuleListView(GenericAPIView):
    serializer_class = KeywordRuleOut
    pagination_class = cursor_pagination("-priority", "created_at", "id")
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listKeywordRules",
        tags=TAGS,
        summary=gettext_lazy("Keyword rules"),
        description=format_lazy(
            "{}{}",
            gettext_lazy("Highest priority first. Cursor-paginated. "),
            WRITERS,
        ),
        parameters=[COMMUNITY_ID],
        responses={200: KeywordRuleOut(many=True)},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE_FAQ)
        page = self.paginate_queryset(selectors_faq.keyword_rule_list(actor=actor))
        with community_time(actor.community):
            return self.get_paginated_response(KeywordRuleOut(page, many=True).data)

    @extend_schema(
        operation_id="createKeywordRule",
        tags=TAGS,
        summary=gettext_lazy("Add a keyword rule"),
        description=format_lazy(
            "{}{}{}",
            gettext_lazy(
                "A regular expression is refused (400 on `pattern`) when it does not compile "
                "(`pattern_invalid`), matches every message (`pattern_matches_empty`) or runs "
                "too long on test texts (`pattern_too_slow`); each reply kind needs its fields "
                "(text: `reply_text`; link: `reply_title`, `reply_url`; mini-program page: "
                "`reply_title`, `reply_page_path`, `reply_media_id`; image: `reply_media_id`; "
                "FAQ: `faq_id`). "
            ),
            SCREENED,
            WRITERS,
        ),
        parameters=[COMMUNITY_ID],
        request=KeywordRuleIn,
        responses={201: KeywordRuleOut},
        examples=[RULE_EXAMPLE],
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        data = KeywordRuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.keyword_rule_create(actor=actor, **data.validated_data)
        with community_time(actor.community):
            return Response(KeywordRuleOut(rule).data, status=status.HTTP_201_CREATED)


class KeywordRuleDetailView(GenericAPIView):
    serializer_class = KeywordRuleOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getKeywordRule",
        tags=TAGS,
        summary=gettext_lazy("A keyword rule"),
        description=WRITERS,
        parameters=[_RULE_ID],
        responses={200: KeywordRuleOut},
    )
    def get(self, request, rule_id: str):
        rule, actor = _rule(request.user, rule_id)
        ensure(actor, Action.MANAGE_FAQ)
        with community_time(actor.community):
            return Response(KeywordRuleOut(rule).data)

    @extend_schema(
        operation_id="updateKeywordRule",
        tags=TAGS,
        summary=gettext_lazy("Edit a keyword rule"),
        description=format_lazy(
            "{}{}{}",
            gettext_lazy("Checked as when it was added. "),
            SCREENED,
            WRITERS,
        ),
        parameters=[_RULE_ID],
        request=KeywordRuleUpdateIn,
        responses={200: KeywordRuleOut},
    )
    def patch(self, request, rule_id: str):
        _found, actor = _rule(request.user, rule_id)
        data = KeywordRuleUpdateIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = services.keyword_rule_update(actor=actor, rule_id=rule_id, **data.validated_data)
        with community_time(actor.community):
            return Response(KeywordRuleOut(rule).data)

    @extend_schema(
        operation_id="deleteKeywordRule",
        tags=TAGS,
        summary=gettext_lazy("Delete a keyword rule"),
        description=WRITERS,
        parameters=[_RULE_ID],
        responses={204: None},
    )
    def delete(self, request, rule_id: str):
        _found, actor = _rule(request.user, rule_id)
        services.keyword_rule_delete(actor=actor, rule_id=rule_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssistantStatsView(GenericAPIView):
    serializer_class = AssistantStatsOut

    @extend_schema(
        operation_id="getAssistantStats",
        tags=TAGS,
        summary=gettext_lazy("Assistant statistics"),
        description=format_lazy(
            "{}{}",
            gettext_lazy(
                "Over the last `days` days: the FAQ entries answered with most, the texts "
                "members sent most and those the assistant could not answer (grouped without "
                "spaces, punctuation and case: suggested FAQ entries), and the median and 90th "
                "percentile time to an answer, by the assistant and by a person. "
            ),
            WRITERS,
        ),
        parameters=[COMMUNITY_ID, StatsIn],
        responses={200: AssistantStatsOut},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW_ASSISTANT_STATS)
        data = StatsIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        stats = selectors_stats.assistant_stats(
            actor=actor, days=data.validated_data["days"], now=timezone.now()
        )
        with community_time(actor.community):
            return Response(AssistantStatsOut(asdict(stats)).data)
