"""Old detail rolled up: member-days into weeks, weeks into months, totals unchanged."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from insights.models import COUNTERS, Grain, MemberDay, MemberPeriod

#: Member-days are kept this long (the dashboards' daily figures, the segments, the timeline).
DAY_RETENTION = timedelta(days=180)
#: Weeks are kept this long, then rolled into months (the cohort table reads months).
WEEK_RETENTION = timedelta(days=730)


def _period_sql() -> str:
    table = MemberPeriod._meta.db_table
    columns = ", ".join((*COUNTERS, "active_days"))
    marks = ", ".join(["%s"] * (4 + len(COUNTERS) + 1))
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in (*COUNTERS, "active_days"))
    return (
        f"INSERT INTO {table} (community_id, user_id, grain, starts_on, {columns}) "  # noqa: S608
        f"VALUES ({marks}) ON CONFLICT (community_id, user_id, grain, starts_on) "
        f"DO UPDATE SET {updates}"
    )


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _add_periods(grain: str, rows) -> int:
    params = [
        (
            r["community_id"],
            r["user_id"],
            grain,
            _as_date(r["period"]),
            *(r[c] or 0 for c in COUNTERS),
            r["days"] or 0,
        )
        for r in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_period_sql(), params)
    return len(params)


def activity_rollup(*, now: datetime | None = None) -> tuple[int, int]:
    """Roll whole weeks of member-days older than :data:`DAY_RETENTION` into week rows, and
    weeks older than :data:`WEEK_RETENTION` into month rows (a week counts in the month it
    starts in). Idempotent: the rolled-up rows are deleted in the same transaction. Returns
    (weeks written, months written)."""
    today = timezone.localdate(now or timezone.now())
    day_cutoff = today - DAY_RETENTION
    day_cutoff -= timedelta(days=day_cutoff.weekday())  # whole weeks only
    week_cutoff = today - WEEK_RETENTION
    week_cutoff = week_cutoff.replace(day=1)  # whole months only
    sums = {c: Sum(c) for c in COUNTERS}
    with transaction.atomic():
        old_days = MemberDay.objects.filter(day__lt=day_cutoff)
        weeks = _add_periods(
            Grain.WEEK,
            old_days.annotate(period=TruncWeek("day"))
            .values("community_id", "user_id", "period")
            .annotate(**sums, days=Count("id")),
        )
        old_days.delete()
        old_weeks = MemberPeriod.objects.filter(grain=Grain.WEEK, starts_on__lt=week_cutoff)
        months = _add_periods(
            Grain.MONTH,
            old_weeks.annotate(period=TruncMonth("starts_on"))
            .values("community_id", "user_id", "period")
            .annotate(**sums, days=Sum("active_days")),
        )
        old_weeks.delete()
    return weeks, months
