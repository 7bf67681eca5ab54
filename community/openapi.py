"""OpenAPI plumbing: the schema class, the bearer auth scheme, extra error responses."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import permissions, serializers


class AutoSchema(StandardizedErrorsAutoSchema):
    """Documents 403 on every authenticated operation (muted members, tiers) and 404 on every
    operation with a path parameter (objects outside the member's communities)."""

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        # 409 and 503 are documented only where a view declares them (CONFLICT,
        # WECHAT_UNAVAILABLE); the library would otherwise add them to every operation.
        if status_code in {"409", "503"}:
            return False
        return super()._should_add_error_response(responses, status_code)

    def _should_add_http403_error_response(self) -> bool:
        return bool(self.get_auth()) or super()._should_add_http403_error_response()

    def _should_add_http404_error_response(self) -> bool:
        return "{" in self.path or super()._should_add_http404_error_response()


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "community.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Token from POST /api/v1/auth/wechat, sent as `Bearer <token>`.",
        }


class _Error(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse409Serializer(serializers.Serializer):
    """The object's state forbids the action now (closed, full, already decided)."""

    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = _Error(many=True)

    class Meta:
        ref_name = "ErrorResponse409"


class ErrorResponse503Serializer(serializers.Serializer):
    """WeChat is busy or unreachable: try again in a moment."""

    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = _Error(many=True)

    class Meta:
        ref_name = "ErrorResponse503"


# Integer bounds that come from the database backend's column sizes (PostgreSQL's smallint and
# integer, SQLite's 64-bit integers), not from a business rule: left out of the contract so it
# is the same whichever database generated it.
_STORAGE_BOUNDS = {
    -32768,
    32767,
    -2147483648,
    2147483647,
    -9223372036854775808,
    9223372036854775807,
}


def drop_storage_bounds(result, generator, request, public):
    """drf-spectacular postprocessing hook: remove database storage limits from integers."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "integer":
                for key in ("minimum", "maximum"):
                    if node.get(key) in _STORAGE_BOUNDS:
                        del node[key]
                if node.get("format") == "int64":
                    del node["format"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result.get("components", {}))
    walk(result.get("paths", {}))
    return result


CONFLICT = {409: ErrorResponse409Serializer}
WECHAT_UNAVAILABLE = {503: ErrorResponse503Serializer}


class SchemaViewPermission(permissions.BasePermission):
    """Swagger UI, Redoc and the schema: open with DEBUG, staff only in production."""

    def has_permission(self, request, view) -> bool:
        if settings.DEBUG:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
