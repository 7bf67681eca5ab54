"""Moderation services: reports, cases and the decisions on them, warnings and their rule,
appeals."""

from moderation.services.appeals import appeal_create, appeal_decide
from moderation.services.cases import case_decide, report_create
from moderation.services.holds import content_hold, content_is_held, content_release
from moderation.services.warnings import warning_rule_update

__all__ = [
    "appeal_create",
    "appeal_decide",
    "case_decide",
    "content_hold",
    "content_is_held",
    "content_release",
    "report_create",
    "warning_rule_update",
]
