"""Recording activity: one call from each source's service, after its write succeeded.

The choice: the hot path writes nothing to the database. ``activity_record`` adds one to a
field of one Redis hash (``HINCRBY``, one round trip, after the caller's commit); the
``insights-flush`` job (``community/schedule.py``) renames the hash away and adds its counts
into :class:`~insights.models.MemberDay` and :class:`~insights.models.HourActivity` with
``INSERT ... ON CONFLICT DO UPDATE`` (``insights.activity_store``), and moves each member's
``last_active_at`` forward. The buffer's field carries the UTC hour only; the flush turns it into
the community's local day and hour, so the hot path needs no time zone (no query).

Recording never fails the caller: with no Redis configured (development) or Redis down, the
counts go straight into the same upsert (one cheap statement), and if that fails too the error
is logged and swallowed -- the vote was cast."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from community.redis_clients import redis_client
from insights.models import KIND_COLUMNS

log = logging.getLogger(__name__)

BUFFER_KEY = "insights:activity"
FLUSHING_KEY = "insights:activity:flushing"
FLUSH_LOCK_KEY = "insights:activity:flush-lock"


def buffer_client():
    """The Redis client of the activity buffer, or None when none is configured."""
    url = getattr(settings, "INSIGHTS_REDIS_URL", "")
    return redis_client(url) if url else None


def buffer_field(*, community_id: str, user_id: str, kind: str, at: datetime) -> str:
    """``community|user|kind|hours since the epoch (UTC)``."""
    return f"{community_id}|{user_id}|{kind}|{int(at.timestamp()) // 3600}"


def parse_field(field: str) -> tuple[str, str, str, datetime]:
    community_id, user_id, kind, hour = field.split("|")
    return community_id, user_id, kind, datetime.fromtimestamp(int(hour) * 3600, tz=UTC)


def _record_now(community_id: str, user_id: str, kind: str) -> None:
    now = timezone.now()
    field = buffer_field(community_id=community_id, user_id=user_id, kind=kind, at=now)
    client = buffer_client()
    if client is not None:
        try:
            client.hincrby(BUFFER_KEY, field, 1)
            return
        except Exception:  # noqa: BLE001 (Redis down or slow: count through the database)
            log.warning("activity buffer unavailable; recording directly", exc_info=True)
    try:
        from insights.activity_store import counts_apply

        counts_apply({field: 1})
    except Exception:  # noqa: BLE001 (recording never fails what was recorded)
        log.exception("activity not recorded: %s", field)


def activity_record(*, community_id: str, user_id: str, kind: str) -> None:
    """Count one ``kind`` of activity of ``user_id`` in ``community_id`` -- after the current
    transaction commits (at once outside one), so a rolled-back action counts nothing. Call it
    right after the write that is the activity."""
    if kind not in KIND_COLUMNS:
        raise ValueError(f"unknown activity kind {kind!r}")
    transaction.on_commit(lambda: _record_now(community_id, user_id, kind), robust=True)


def activity_flush() -> int:
    """Move the buffered counts into the database; returns the number of buffer fields. One
    flush at a time (a Redis lock); a flush that failed after renaming the buffer is resumed by
    the next one (the renamed hash is kept until its counts are committed)."""
    client = buffer_client()
    if client is None:
        return 0
    from insights.activity_store import counts_apply

    if not client.set(FLUSH_LOCK_KEY, "1", nx=True, ex=600):
        return 0
    try:
        if not client.exists(FLUSHING_KEY):
            if not client.exists(BUFFER_KEY):
                return 0
            client.rename(BUFFER_KEY, FLUSHING_KEY)
        raw = client.hgetall(FLUSHING_KEY)
        counts = {k.decode(): int(v) for k, v in raw.items()}
        counts_apply(counts)
        client.delete(FLUSHING_KEY)
        return len(counts)
    finally:
        client.delete(FLUSH_LOCK_KEY)
