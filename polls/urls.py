"""URLs of the polls app under /api/v1/."""

urlpatterns: list = []
