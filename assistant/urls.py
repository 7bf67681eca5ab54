"""URLs of the assistant app under /api/v1/ (WeChat's push is ``/wechat/push``, outside)."""

from django.urls import path

from assistant import api

urlpatterns = [
    path(
        "communities/<str:community_id>/conversations",
        api.ConversationListView.as_view(),
        name="conversation-list",
    ),
    path(
        "conversations/<str:conversation_id>",
        api.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<str:conversation_id>/replies",
        api.ConversationReplyView.as_view(),
        name="conversation-replies",
    ),
    path(
        "conversations/<str:conversation_id>/close",
        api.ConversationCloseView.as_view(),
        name="conversation-close",
    ),
]
