"""URLs of the surveys app under /api/v1/."""

from django.urls import path

from surveys import api

urlpatterns = [
    path("surveys", api.MySurveysView.as_view(), name="my-surveys"),
    path(
        "communities/<str:community_id>/surveys",
        api.CommunitySurveysView.as_view(),
        name="community-surveys",
    ),
    path("surveys/<str:survey_id>", api.SurveyDetailView.as_view(), name="survey-detail"),
    path("surveys/<str:survey_id>/draft", api.DraftView.as_view(), name="survey-draft"),
    path("surveys/<str:survey_id>/submit", api.SubmitView.as_view(), name="survey-submit"),
    path("surveys/<str:survey_id>/response", api.MyResponseView.as_view(), name="survey-response"),
    path("surveys/<str:survey_id>/results", api.ResultsView.as_view(), name="survey-results"),
    path("surveys/<str:survey_id>/quiz", api.QuizView.as_view(), name="survey-quiz"),
    path("surveys/<str:survey_id>/quiz/start", api.QuizStartView.as_view(), name="quiz-start"),
    path("surveys/<str:survey_id>/quiz/result", api.QuizResultView.as_view(), name="quiz-result"),
    path(
        "surveys/<str:survey_id>/quiz/leaderboard",
        api.QuizLeaderboardView.as_view(),
        name="quiz-leaderboard",
    ),
]
