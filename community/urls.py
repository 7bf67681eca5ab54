"""Root URLs: the API under /api/v1/, the admin, the contract (Swagger UI, Redoc), the site
root and its favicon. Every other path under /api/ answers a JSON 404 (``ApiNotFoundView``)."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from assistant.views import push as wechat_push
from community.api.root import ApiIndexView, ApiNotFoundView, favicon, site_root
from community.health import LiveView, ReadyView

api_v1 = [
    path("", ApiIndexView.as_view(), name="api-index"),
    path("", include("community.api.urls")),
    path("", include("polls.urls")),
    path("", include("surveys.urls")),
    path("", include("events.urls")),
    path("", include("roles.urls")),
    path("", include("moderation.urls")),
    path("", include("insights.urls")),
    path("", include("announcements.urls")),
    path("", include("games.urls")),
    path("", include("assistant.urls_faq")),
    path("", include("assistant.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="community/redoc.html"),
        name="redoc",
    ),
    re_path(r"^api(?:/.*)?$", ApiNotFoundView.as_view(), name="api-not-found"),
    # For the load balancer (community/health.py); plain HTTP, any Accept (format=json too).
    # WeChat's message push for the assistant (not the API: WeChat calls it, plain text).
    path("wechat/push", wechat_push, name="wechat-push"),
    path("health/live", LiveView.as_view(), name="health-live"),
    path("health/ready", ReadyView.as_view(), name="health-ready"),
    path("i18n/", include("django.conf.urls.i18n")),  # the admin's language switch
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("", site_root, name="site-root"),
]
