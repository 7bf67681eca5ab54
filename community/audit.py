"""Who acted and why, for the audit log.

The audit log's rows are written by database triggers (django-pghistory, see
``moderation/audit_models.py``) whatever code makes the change; the triggers read the actor
and the reason from the pghistory *context* of the transaction. A service that changes a
member's tier or status, decides a case or an appeal, or changes the warning rule wraps its
work in :func:`audit_context`. Nested contexts join the outer one (one context per top-level
call), so the outer caller's actor and reason win: ``case_decide`` muting through
``membership_mute`` records the moderator and the case's reason."""

from __future__ import annotations

import pghistory

from community.models import Membership


def audit_context(*, actor: Membership | None, reason: str = "") -> pghistory.context:
    """The pghistory context naming ``actor``'s user and ``reason`` (``with audit_context(...):``).
    Inside an outer context, only keys the outer one lacks are added."""
    metadata: dict[str, str] = {}
    if actor is not None:
        metadata["actor"] = actor.user_id
    if reason:
        metadata["reason"] = reason
    current = getattr(pghistory.runtime._tracker, "value", None)
    if current is not None:
        metadata = {k: v for k, v in metadata.items() if k not in current.metadata}
    return pghistory.context(**metadata)
