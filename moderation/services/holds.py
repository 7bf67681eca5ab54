"""Content members do not see (hidden by a moderator, or waiting after WeChat's check)."""

from __future__ import annotations

from moderation.models import ContentHold


def content_hold(*, community_id: str, target_kind: str, target_id: str, why: str) -> None:
    """Hide a target from members; holding a held target again keeps the first reason.
    Call inside the transaction that creates or decides on the target."""
    ContentHold.objects.get_or_create(
        community_id=community_id,
        target_kind=target_kind,
        target_id=target_id,
        defaults={"why": why},
    )


def content_release(*, community_id: str, target_kind: str, target_id: str) -> None:
    """Show a held target again (a moderator restored it)."""
    ContentHold.objects.filter(
        community_id=community_id, target_kind=target_kind, target_id=target_id
    ).delete()


def content_is_held(*, community_id: str, target_kind: str, target_id: str) -> bool:
    return ContentHold.objects.filter(
        community_id=community_id, target_kind=target_kind, target_id=target_id
    ).exists()
