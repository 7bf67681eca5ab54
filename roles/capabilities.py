"""The fixed catalogue of what a role may grant (no model imports: ``community.authz`` reads it).

A capability names one job a role holder may do on top of their tier. Which authorization
actions a capability opens is decided in one place, ``community.authz.CAPABILITY_ACTIONS``;
this module only names them. Extend the catalogue as the product grows (add a member here, a
label, and its actions in ``community.authz``)."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Capability(StrEnum):
    """One thing a role may do. Stored as its value in ``Role.capabilities``."""

    CREATE_POLLS = "create_polls"
    MANAGE_EVENTS = "manage_events"
    MANAGE_SURVEYS = "manage_surveys"
    MODERATE_CONTENT = "moderate_content"
    APPROVE_JOINS = "approve_joins"
    MANAGE_BOARDS = "manage_boards"
    VIEW_ANALYTICS = "view_analytics"
    PUBLISH_CONTENT = "publish_content"
    WELCOME_NEWCOMERS = "welcome_newcomers"

    @property
    def label(self) -> str:
        return str(CAPABILITY_LABELS[self])

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(c.value, CAPABILITY_LABELS[c]) for c in cls]


CAPABILITY_LABELS = {
    Capability.CREATE_POLLS: _("Create polls"),
    Capability.MANAGE_EVENTS: _("Manage events"),
    Capability.MANAGE_SURVEYS: _("Manage surveys"),
    Capability.MODERATE_CONTENT: _("Moderate content"),
    Capability.APPROVE_JOINS: _("Approve joins"),
    Capability.MANAGE_BOARDS: _("Manage boards"),
    Capability.VIEW_ANALYTICS: _("View analytics"),
    Capability.PUBLISH_CONTENT: _("Publish announcements"),
    Capability.WELCOME_NEWCOMERS: _("Welcome newcomers"),
}

#: The stored values of the catalogue (``value in Capability`` raises for a str on 3.11).
CAPABILITY_VALUES = frozenset(c.value for c in Capability)
