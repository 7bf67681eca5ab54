"""OpenAPI plumbing: the schema class, the bearer auth scheme, extra error responses."""

from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from drf_standardized_errors.openapi_utils import (
    get_flat_serializer_fields,
    get_serializer_fields_with_error_codes,
)
from drf_standardized_errors.settings import package_settings as standardized_settings
from inflection import camelize
from rest_framework import permissions, serializers

from community import openapi_glossary as glossary
from community.error_serializers import error_serializer as _error_serializer
from community.raised_errors import ANY_ATTR, KEY, Derived, raised_errors

#: The community path parameter every ``communities/{community_id}/...`` operation declares.
COMMUNITY_ID = OpenApiParameter("community_id", str, OpenApiParameter.PATH)


class AutoSchema(StandardizedErrorsAutoSchema):
    """drf-standardized-errors' schema, with every status and ``code`` an operation can answer
    derived from its code (:mod:`community.raised_errors`) and published as per-operation
    components (``CastBallotErrorResponse409`` with its ``code`` enum): domain errors of
    the services, selectors and ``community.authz`` the handler reaches, service errors with
    ``field`` as 400 validation errors of that ``attr``, query-parameter validation errors, 413
    on operations with a body and 503 ``database_unavailable`` everywhere."""

    def _map_basic_serializer(self, serializer, direction):
        """In responses, every field is required: it is always sent.

        drf-spectacular marks a response field required only when the field is required as an
        *input* (``field.required``) or read-only. Output serializers are never inputs, so
        that rule left out every field with ``required=False`` and every ``ModelSerializer``
        field whose model field has a default (``voter_count``, ``tier``...), although DRF
        renders each of them in every answer (a nullable one as ``null``). A field that may
        really be absent from an answer is named in its serializer's
        ``Meta.optional_in_response``; the contract test compares real answers with these
        lists (``tests/contract/test_required_fields.py``)."""
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and schema.get("properties"):
            meta = getattr(serializer, "Meta", None)
            optional = set(getattr(meta, "optional_in_response", ()))
            required = [name for name in schema["properties"] if name not in optional]
            if required:
                schema["required"] = sorted(required)
        return schema

    def _derived(self) -> Derived:
        cache = self.__dict__.setdefault("_derived_cache", {})
        key = (type(self.view), self.method)
        if key not in cache:
            handler = getattr(type(self.view), self.method.lower(), None)
            cache[key] = raised_errors(handler, type(self.view))
        return cache[key]

    def _takes_body(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"} and (
            self.get_request_serializer() is not None
            or any(issubclass(s, serializers.BaseSerializer) for s in self._derived().serializers)
        )

    def _error_codes(self, status_code: str) -> set[str]:
        """Codes of a non-validation error ``status_code`` this operation can answer."""
        status = int(status_code)
        codes = set(self._derived().codes(status)) | set(_ALWAYS.get(status, ()))
        if status == 403 and super()._should_add_http403_error_response():
            codes.add("permission_denied")
        if status == 404 and super()._should_add_http404_error_response():
            codes.add("not_found")
        if status == 413 and self._takes_body():
            codes.add("request_too_large")
        if status == 415 and self._takes_body():
            # Bodies are JSON only (``SafeJSONParser``): a form-encoded or multipart body
            # answers 415 in the error shape.
            codes.add("unsupported_media_type")
        if status == 429 and super()._should_add_http429_error_response():
            codes.add("throttled")
        return codes

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code in responses:
            return False
        if status_code in {"400", "401"}:
            return super()._should_add_error_response(responses, status_code) or bool(
                status_code == "400" and self._derived().codes(400)
            )
        return bool(self._error_codes(status_code))

    def _component(self, suffix: str) -> str:
        return f"{camelize(self.get_operation_id())}{suffix}"

    def _get_error_response_serializer(self, status_code: str):
        if status_code in {"400", "401"}:
            return super()._get_error_response_serializer(status_code)
        enum = ServerErrorEnum if status_code.startswith("5") else ClientErrorEnum
        return _error_serializer(
            self._component(f"ErrorResponse{status_code}"),
            enum.choices,
            self._error_codes(status_code),
        )

    def _get_http400_serializer(self):
        proxy = super()._get_http400_serializer()
        client_codes = set(self._derived().codes(400))
        if self._should_add_parse_error_response():
            client_codes.add("parse_error")
        if client_codes:
            proxy.serializers[ClientErrorEnum.CLIENT_ERROR.value] = _error_serializer(
                self._component("ClientErrorResponse400"), ClientErrorEnum.choices, client_codes
            )
        return proxy

    def _should_add_validation_error_response(self) -> bool:
        return super()._should_add_validation_error_response() or bool(
            self._derived().validation_codes() or self._query_fields()
        )

    def _query_fields(self) -> list:
        """Fields of the serializers a read validates its query parameters with."""
        if self.method in {"PUT", "PATCH", "POST"}:
            return []
        fields = []
        for serializer in self._derived().serializers:
            fields.extend(get_flat_serializer_fields(serializer))
        return get_serializer_fields_with_error_codes(fields)

    def _determine_fields_with_error_codes(self):
        return super()._determine_fields_with_error_codes() + self._query_fields()

    def _get_validation_error_codes_by_field(self, data_fields) -> dict[str, set[str]]:
        by_field = super()._get_validation_error_codes_by_field(data_fields)
        derived = self._derived().validation_codes()
        anywhere = derived.pop(ANY_ATTR, set())
        for attr, codes in derived.items():
            by_field[attr].update(codes)
        if anywhere:
            # A service error whose field is computed: it names one of the operation's fields
            # (or an item of a JSON object field, ``answers.<key>``).
            sep = standardized_settings.NESTED_FIELD_SEPARATOR
            for data_field in data_fields:
                by_field[data_field.name].update(anywhere)
                if isinstance(data_field.field, serializers.JSONField | serializers.DictField):
                    by_field[f"{data_field.name}{sep}{KEY}"].update(anywhere)
        return by_field


#: Codes every operation can answer whatever its code: the database is unreachable.
_ALWAYS: dict[int, tuple[str, ...]] = {503: ("database_unavailable",)}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "community.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Token from POST /api/v1/auth/wechat, sent as `Bearer <token>`.",
        }


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


def _attr_pattern(attr: str) -> str | None:
    sep = standardized_settings.NESTED_FIELD_SEPARATOR
    parts = attr.split(sep)
    index = standardized_settings.LIST_INDEX_IN_API_SCHEMA
    if index not in parts and KEY not in parts:
        return None
    regex = {index: "[0-9]+", KEY: "[\\s\\S]*"}
    return "^" + re.escape(sep).join(regex.get(p, re.escape(p)) for p in parts) + "$"


def attr_placeholders_to_patterns(result, generator, request, public):
    """drf-spectacular postprocessing hook. drf-standardized-errors documents the ``attr`` of an
    error in a list item or object key as ``options.INDEX.label`` / ``answers.KEY``, but answers
    ``options.0.label`` / ``answers.q1``: publish such attrs as a pattern the answers match."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        attr = schema.get("properties", {}).get("attr")
        if not attr or len(attr.get("enum") or ()) != 1:
            continue
        pattern = _attr_pattern(attr["enum"][0])
        if pattern:
            schema["properties"]["attr"] = {
                "type": "string",
                "pattern": pattern,
                "description": f"{glossary.ERROR_FIELDS['attr']} `{attr['enum'][0]}`: {pattern}",
            }
    return result


class SchemaViewPermission(permissions.BasePermission):
    """Swagger UI, Redoc and the schema: open with DEBUG, staff only in production."""

    def has_permission(self, request, view) -> bool:
        if settings.DEBUG:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def _describe_enum(schema: dict) -> None:
    values = schema["enum"]
    if values == [None]:
        schema["description"] = str(glossary.NULL_ENUM)
        return
    labels = {}
    for line in (schema.get("description") or "").splitlines():
        match = re.match(r"^\* `(.*)` - (.*)$", line)
        if match:
            labels[match[1]] = match[2]
    lines = []
    for value in values:
        label = labels.get(str(value))
        if value in glossary.ENUM_VALUES and not _CJK.search(label or ""):
            label = str(glossary.ENUM_VALUES[value])
        lines.append(f"* `{value}` - {label}" if label else f"* `{value}`")
    schema["description"] = "\n".join(lines)


def _field_description(component: str, name: str, prop: dict) -> str | None:
    if "Error" in component and name in glossary.ERROR_FIELDS:
        return str(glossary.ERROR_FIELDS[name])
    for text in (
        glossary.COMPONENT_FIELDS.get(f"{component}.{name}"),
        glossary.FIELDS.get(name),
        prop.get("title"),
    ):
        if text:
            return str(text)
    return None


def _describe_properties(component: str, schema: dict) -> None:
    for name, prop in (schema.get("properties") or {}).items():
        existing = prop.get("description")
        if existing and "Error" in component and name in glossary.ERROR_FIELDS:
            if not _CJK.search(existing):
                # drf-standardized-errors lists the codes (or the attr) without saying what they are.
                prop["description"] = f"{glossary.ERROR_FIELDS[name]}\n\n{existing}"
        elif not existing:
            text = _field_description(component, name, prop)
            if text:
                if set(prop) == {"$ref"}:
                    # OpenAPI 3.0 ignores siblings of $ref: wrap it, as drf-spectacular does.
                    prop["allOf"] = [{"$ref": prop.pop("$ref")}]
                prop["description"] = text
        for nested in (prop, prop.get("items") or {}):
            if "properties" in nested:
                _describe_properties(component, nested)


def describe_contract(result, generator, request, public):
    """drf-spectacular postprocessing hook: describe, in the active language, what recurs across
    the contract and has no description of its own (:mod:`community.openapi_glossary`): fields
    by name, path and query parameters, our error shape, and enum values without a translated
    label. ``tests/contract/test_descriptions.py`` fails on anything still undescribed."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if "enum" in schema and not _CJK.search(schema.get("description") or ""):
            _describe_enum(schema)
        _describe_properties(name, schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", ()):
                text = glossary.PARAMETERS.get(parameter["name"])
                if text and not parameter.get("description"):
                    parameter["description"] = str(text)
    return result


_CJK = re.compile(r"[\u4e00-\u9fff]")
