"""Reads of the group rules: the page the mini-program renders and the templates per kind."""

from __future__ import annotations

from typing import Any

from community.models import CommunityKind, Membership, RulesVersion
from community.rules_templates import TEMPLATES, rules_sections
from community.services.newcomers import first_steps


def rules_page(*, viewer: Membership) -> dict[str, Any]:
    """The community's rules as a page: its kind and purpose, the rules in sections, the
    current version with its change summary and date, whether the viewer accepted it, and the
    community's warning rule in one sentence (moderation's escalation, part of the rules).
    Two queries (the membership and community are loaded)."""
    from moderation.selectors import warning_rule_of, warning_rule_text  # builds on the core

    community = viewer.community
    current = (
        RulesVersion.objects.filter(community_id=community.pk, version=community.rules_version)
        .only("summary", "published_at")
        .first()
    )
    return {
        "community_id": community.pk,
        "name": community.name,
        "kind": community.kind,
        "kind_label": CommunityKind(community.kind).label,
        "purpose": community.purpose,
        "version": community.rules_version,
        "summary": current.summary if current else "",
        "published_at": current.published_at if current else None,
        "accepted": viewer.rules_accepted_version >= community.rules_version,
        "sections": rules_sections(community.rules_text),
        "first_steps": first_steps(),
        "warning_rule": warning_rule_text(warning_rule_of(community_id=community.pk)),
    }


def community_templates() -> list[dict[str, Any]]:
    """The suggestions offered at creation, one per kind (work, study, interest)."""
    return [
        {
            "kind": template.kind,
            "label": str(template.label),
            "purpose": template.purpose,
            "rules_text": template.rules_text,
            "sections": rules_sections(template.rules_text),
            "settings": template.settings,
        }
        for template in TEMPLATES
    ]
