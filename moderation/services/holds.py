"""Content members do not see (hidden by a moderator, or waiting after WeChat's check)."""

from __future__ import annotations

from moderation.models import ContentHold, TargetKind
from moderation.screened import release_apply


def content_hold(
    *, community_id: str, target_kind: str, target_id: str, why: str, pending: dict | None = None
) -> ContentHold:
    """Hide a target from members. Holding a held target again keeps its reason, except that
    a moderator's "hide" makes it final (the re-check never releases what a moderator hid);
    a further held change (``pending``) joins the waiting one, the newer texts winning.
    Call inside the transaction that creates or decides on the target."""
    hold, created = ContentHold.objects.get_or_create(
        community_id=community_id,
        target_kind=target_kind,
        target_id=target_id,
        defaults={"why": why, "pending": pending or {}},
    )
    changed = []
    if not created and why == ContentHold.Why.HIDDEN and hold.why != why:
        hold.why = why
        changed.append("why")
    if not created and pending:
        hold.pending = {**hold.pending, **pending}
        changed.append("pending")
    if changed:
        hold.save(update_fields=changed)
    return hold


def content_release(*, community_id: str, target_kind: str, target_id: str) -> None:
    """Show a held target again (a moderator restored it, or WeChat's check passed on a
    re-check); a held change is applied now. A nickname is one text for every community of
    the member: released in one, it is released in all."""
    holds = ContentHold.objects.filter(target_kind=target_kind, target_id=target_id)
    if target_kind != TargetKind.NICKNAME:
        holds = holds.filter(community_id=community_id)
    hold = holds.filter(community_id=community_id).first()
    holds.delete()
    if hold is not None:  # after the delete: a released option joins its poll's order
        release_apply(target_kind=target_kind, target_id=target_id, pending=hold.pending)


def content_change_superseded(
    *, community_id: str, target_kind: str, target_id: str, fields: set[str]
) -> None:
    """A later change of ``fields`` passed the check and was applied: the held texts of those
    fields are out of date and would undo it when released, so they are dropped (and the
    hold with them once nothing waits)."""
    holds = ContentHold.objects.filter(target_kind=target_kind, target_id=target_id)
    if target_kind != TargetKind.NICKNAME:
        holds = holds.filter(community_id=community_id)
    for hold in holds:
        left = {k: v for k, v in hold.pending.items() if k not in fields}
        if not left:
            hold.delete()
        elif left != hold.pending:
            hold.pending = left
            hold.save(update_fields=["pending"])


def content_is_held(*, community_id: str, target_kind: str, target_id: str) -> bool:
    return ContentHold.objects.filter(
        community_id=community_id, target_kind=target_kind, target_id=target_id
    ).exists()
