"""URLs of the FAQ, keyword rules and statistics under /api/v1/."""

from django.urls import path

from assistant import api_faq

urlpatterns = [
    path(
        "communities/<str:community_id>/faq-entries",
        api_faq.FaqListView.as_view(),
        name="faq-entry-list",
    ),
    path(
        "communities/<str:community_id>/faq-categories",
        api_faq.FaqCategoriesView.as_view(),
        name="faq-category-list",
    ),
    path("faq-entries/<str:entry_id>", api_faq.FaqDetailView.as_view(), name="faq-entry-detail"),
    path(
        "faq-entries/<str:entry_id>/feedback",
        api_faq.FaqFeedbackView.as_view(),
        name="faq-entry-feedback",
    ),
    path(
        "communities/<str:community_id>/keyword-rules",
        api_faq.KeywordRuleListView.as_view(),
        name="keyword-rule-list",
    ),
    path(
        "keyword-rules/<str:rule_id>",
        api_faq.KeywordRuleDetailView.as_view(),
        name="keyword-rule-detail",
    ),
    path(
        "communities/<str:community_id>/assistant-stats",
        api_faq.AssistantStatsView.as_view(),
        name="assistant-stats",
    ),
]
