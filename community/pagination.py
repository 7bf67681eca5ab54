"""Pagination classes shared by every list endpoint."""

from __future__ import annotations

from rest_framework import pagination


class _EnvelopeSchema:
    def get_paginated_response_schema(self, schema):
        """Every key of the envelope is always sent (``next``/``previous`` null at the ends):
        required in the contract."""
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = sorted(paginated["properties"])
        return paginated


class PageNumberPagination(_EnvelopeSchema, pagination.PageNumberPagination):
    """``?page=2&page_size=50`` (at most 100 per page)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(_EnvelopeSchema, pagination.CursorPagination):
    """Cursor pagination for feeds that grow while a member scrolls."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-created_at"
