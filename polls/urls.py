"""URLs of the polls app under /api/v1/."""

from django.urls import path

from polls import api

urlpatterns = [
    path("communities/<str:community_id>/polls", api.PollListView.as_view(), name="poll-list"),
    path("polls", api.MyOpenPollsView.as_view(), name="my-open-polls"),
    path("polls/<str:poll_id>", api.PollDetailView.as_view(), name="poll-detail"),
    path("polls/<str:poll_id>/page", api.PollPageView.as_view(), name="poll-page"),
    path("polls/<str:poll_id>/ballot", api.BallotView.as_view(), name="poll-ballot"),
    path("polls/<str:poll_id>/results", api.ResultsView.as_view(), name="poll-results"),
    path("polls/<str:poll_id>/voters", api.VotersView.as_view(), name="poll-voters"),
    path("polls/<str:poll_id>/non-voters", api.NonVotersView.as_view(), name="poll-non-voters"),
    path("polls/<str:poll_id>/options", api.OptionAddView.as_view(), name="poll-options"),
    path("polls/<str:poll_id>/close", api.CloseView.as_view(), name="poll-close"),
    path("polls/<str:poll_id>/ballot-box", api.BallotBoxView.as_view(), name="poll-ballot-box"),
    path("polls/<str:poll_id>/reopen", api.ReopenView.as_view(), name="poll-reopen"),
]
