"""The one pagination of every list: a cursor (infinite scroll in the mini-program), one
envelope ``{"next", "previous", "results"}``.

A cursor never skips or repeats an item when rows are added while a member scrolls, and costs
no ``COUNT(*)``. Each list names its order with :func:`cursor_pagination`; the first field of
the order must never be null (the cursor is its value)."""

from __future__ import annotations

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """``?cursor=...&page_size=50`` (at most 100 per page), newest first unless a list says
    otherwise."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-created_at"

    def get_paginated_response_schema(self, schema):
        """Every key of the envelope is always sent (``next``/``previous`` null at the ends):
        required in the contract."""
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = sorted(paginated["properties"])
        return paginated


def cursor_pagination(*ordering: str) -> type[CursorPagination]:
    """The cursor pagination of a list ordered by ``ordering`` (``"-joined_at", "pk"``)."""
    return type(
        "CursorPagination", (CursorPagination,), {"ordering": ordering, "__module__": __name__}
    )
