"""The addresses around the API: the index of ``/api/v1/``, JSON 404s for every other path
under ``/api/``, the site root and its favicon.

Every answer under ``/api/`` is JSON in the one error shape (a mini-program never has to parse
an HTML debug page); the site root is for people: the docs in development, a small status page
in production."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from community.errors import NotFound

FAVICON = Path(__file__).resolve().parent.parent / "static" / "community" / "favicon.ico"

#: The entry points of the API a client starts from: name -> (URL name, what it is).
RESOURCES: list[tuple[str, str, str]] = [
    ("login", "auth-wechat", "Sign in with the code of wx.login() (POST)."),
    ("me", "me", "My profile."),
    ("my_communities", "communities", "The communities I belong to."),
    ("join_by_invite", "community-join-invite", "Join a community with an invite code (POST)."),
    (
        "join_by_share_ticket",
        "community-join-share-ticket",
        "Join the community of a WeChat group from its share card (POST).",
    ),
    ("my_open_polls", "my-open-polls", "Open polls across my communities."),
    ("my_surveys", "my-surveys", "Open surveys across my communities."),
    ("subscriptions", "subscription-templates", "Subscribe-message templates to request."),
]


class ApiLinkOut(serializers.Serializer):
    name = serializers.CharField(help_text=gettext_lazy("Stable name of the resource."))
    href = serializers.URLField(help_text=gettext_lazy("Its absolute URL."))
    description = serializers.CharField()


class ApiIndexOut(serializers.Serializer):
    title = serializers.CharField()
    version = serializers.CharField()
    docs = serializers.URLField(
        help_text=gettext_lazy("Swagger UI (open with DEBUG, staff-only otherwise).")
    )
    redoc = serializers.URLField()
    schema = serializers.URLField(help_text=gettext_lazy("The OpenAPI contract (openapi.yaml)."))
    resources = ApiLinkOut(many=True)


class ApiIndexView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["meta"],
        operation_id="getApiIndex",
        summary=gettext_lazy("API index"),
        description=(
            gettext_lazy(
                "What this API offers, with links: the entry points a mini-program starts from, "
                "the docs and the contract. No sign-in needed."
            )
        ),
        responses={200: ApiIndexOut},
    )
    def get(self, request):
        def absolute(name: str) -> str:
            return request.build_absolute_uri(reverse(name))

        body = {
            "title": settings.SPECTACULAR_SETTINGS["TITLE"],
            "version": settings.SPECTACULAR_SETTINGS["VERSION"],
            "docs": absolute("swagger-ui"),
            "redoc": absolute("redoc"),
            "schema": absolute("schema"),
            "resources": [
                {"name": name, "href": absolute(url_name), "description": description}
                for name, url_name, description in RESOURCES
            ],
        }
        return Response(ApiIndexOut(body).data)


@extend_schema(exclude=True)
class ApiNotFoundView(APIView):
    """Any path under ``/api/`` that names no operation (a typo, a trailing slash, an old
    version): 404 ``not_found`` in the error shape, whatever the method."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def _not_found(self, request, *args, **kwargs):
        raise NotFound(
            _("There is no API operation at this address (check the path and its trailing slash).")
        )

    get = post = put = patch = delete = head = options = _not_found


@require_safe
def site_root(request: HttpRequest) -> HttpResponse:
    """``/``: the API docs in development, a small status page in production."""
    if settings.DEBUG:
        return redirect("swagger-ui")
    return TemplateResponse(
        request,
        "community/status.html",
        {"title": settings.SPECTACULAR_SETTINGS["TITLE"], "api": reverse("api-index")},
    )


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    """``/favicon.ico``, from the package itself (browsers ask for it on every page, the admin
    included; no collected static files or web server rule needed)."""
    return FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
