"""URLs of the lucky draws under /api/v1/."""

from django.urls import path

from games import api

urlpatterns = [
    path("communities/<str:community_id>/draws", api.DrawListView.as_view(), name="draw-list"),
    path("draws/<str:draw_id>", api.DrawDetailView.as_view(), name="draw-detail"),
    path("draws/<str:draw_id>/entry", api.DrawEntryView.as_view(), name="draw-entry"),
    path("draws/<str:draw_id>/draw", api.DrawNowView.as_view(), name="draw-now"),
    path("draws/<str:draw_id>/claim", api.ClaimView.as_view(), name="draw-claim"),
    path("draws/<str:draw_id>/publication", api.PublicationView.as_view(), name="draw-publication"),
    path("draws/<str:draw_id>/entries", api.EntryListView.as_view(), name="draw-entries"),
    path("draws/<str:draw_id>/entries.csv", api.EntryCsvView.as_view(), name="draw-entries-csv"),
]
