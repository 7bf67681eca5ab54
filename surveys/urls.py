"""URLs of the surveys app under /api/v1/."""

urlpatterns: list = []
