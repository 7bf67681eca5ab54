"""Moderation services: reports, cases and the decisions on them."""

from moderation.services.cases import case_decide, report_create
from moderation.services.holds import content_hold, content_is_held, content_release

__all__ = [
    "case_decide",
    "content_hold",
    "content_is_held",
    "content_release",
    "report_create",
]
