"""Hand-written SQL of activity recording: the upserts that add counts into member-days and
hourly counters, and the move of ``last_active_at``. Portable between PostgreSQL and SQLite
(both have ``INSERT ... ON CONFLICT DO UPDATE``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection, transaction

from community.models import Community, Membership
from community.timezones import zone_named
from insights.models import COUNTERS, KIND_COLUMNS, HourActivity, MemberDay

_BATCH = 1000


def _member_day_sql() -> str:
    table = MemberDay._meta.db_table
    columns = ", ".join(COUNTERS)
    marks = ", ".join(["%s"] * (3 + len(COUNTERS)))
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in COUNTERS)
    return (
        f"INSERT INTO {table} (community_id, user_id, day, {columns}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT (community_id, user_id, day) DO UPDATE SET {updates}"
    )


def _hour_sql() -> str:
    table = HourActivity._meta.db_table
    return (
        f"INSERT INTO {table} (community_id, day, hour, actions) VALUES (%s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (community_id, day, hour) DO UPDATE SET actions = {table}.actions + EXCLUDED.actions"
    )


def _last_active_sql() -> str:
    table = Membership._meta.db_table
    return (
        f"UPDATE {table} SET last_active_at = %s "  # noqa: S608
        "WHERE community_id = %s AND user_id = %s AND last_active_at < %s"
    )


def member_days_add(rows: Iterable[tuple[str, str, date, dict[str, int]]]) -> int:
    """Add ``(community_id, user_id, day, {column: n})`` counts into member-days."""
    params = [
        (community_id, user_id, day, *(counts.get(c, 0) for c in COUNTERS))
        for community_id, user_id, day, counts in rows
    ]
    sql = _member_day_sql()
    with connection.cursor() as cursor:
        for start in range(0, len(params), _BATCH):
            cursor.executemany(sql, params[start : start + _BATCH])
    return len(params)


def counts_apply(counts: dict[str, int]) -> None:
    """Apply buffered counts (``recording.buffer_field`` -> n) in one transaction: member-days
    and hours in each community's local calendar, and ``last_active_at`` moved forward."""
    from insights.recording import parse_field

    parsed = [(*parse_field(field), n) for field, n in counts.items() if n]
    if not parsed:
        return
    zones = {
        pk: zone_named(name)
        for pk, name in Community.objects.filter(pk__in={p[0] for p in parsed}).values_list(
            "pk", "time_zone"
        )
    }
    days: dict[tuple[str, str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    hours: dict[tuple[str, date, int], int] = defaultdict(int)
    last: dict[tuple[str, str], datetime] = {}
    for community_id, user_id, kind, at, n in parsed:
        zone = zones.get(community_id)
        if zone is None or kind not in KIND_COLUMNS:
            continue  # the community was deleted meanwhile; an unknown kind from an old release
        local = at.astimezone(zone)
        days[(community_id, user_id, local.date())][KIND_COLUMNS[kind]] += n
        hours[(community_id, local.date(), local.hour)] += n
        key = (community_id, user_id)
        if key not in last or last[key] < at:
            last[key] = at
    with transaction.atomic():
        member_days_add((c, u, d, counts) for (c, u, d), counts in days.items())
        with connection.cursor() as cursor:
            cursor.executemany(_hour_sql(), [(c, d, h, n) for (c, d, h), n in hours.items()])
            cursor.executemany(_last_active_sql(), [(at, c, u, at) for (c, u), at in last.items()])
