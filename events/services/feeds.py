"""Calendar feed addresses: issuing and revoking a member's secret ``.ics`` URL."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from community.authz import VISIBLE_STATUSES, Action, ensure
from community.hashing import sha256_hex
from community.models import Membership
from events.models_edges import CalendarFeedToken


def calendar_feed_issue(*, actor: Membership) -> str:
    """A new secret feed token for the member in their community (the raw value, shown once);
    the previous one stops working. Reading is enough (``VIEW``): a muted member still
    sees the calendar."""
    ensure(actor, Action.VIEW)
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeedToken.objects.update_or_create(
            community_id=actor.community_id,
            user_id=actor.user_id,
            defaults={
                "key_hash": sha256_hex(raw),
                "created_at": timezone.now(),
                "last_used_at": None,
            },
        )
    return raw


def calendar_feed_revoke(*, actor: Membership) -> bool:
    """Revoke the member's feed address (True when there was one)."""
    ensure(actor, Action.VIEW)
    deleted, _rows = CalendarFeedToken.objects.filter(
        community_id=actor.community_id, user_id=actor.user_id
    ).delete()
    return bool(deleted)


def calendar_feed_membership(*, raw: str) -> Membership | None:
    """The membership a feed token reads for, while it still sees the community; None for an
    unknown, revoked or no longer valid token. Marks the token used (at most once a minute
    of writes per feed: calendar apps poll)."""
    if not raw or len(raw) > 100:
        return None
    feed = CalendarFeedToken.objects.filter(key_hash=sha256_hex(raw)).first()
    if feed is None:
        return None
    membership = (
        Membership.objects.select_related("community", "user")
        .filter(community_id=feed.community_id, user_id=feed.user_id, status__in=VISIBLE_STATUSES)
        .first()
    )
    if membership is None:
        return None
    now = timezone.now()
    if feed.last_used_at is None or (now - feed.last_used_at).total_seconds() > 60:
        CalendarFeedToken.objects.filter(pk=feed.pk).update(last_used_at=now)
    return membership
