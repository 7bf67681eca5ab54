"""The dashboard's summaries, written by the ``insights-daily`` job so a request reads a few
rows whatever the size of the community (50,000 members and 10 million member-days read as
fast, within a small factor, as 100 members: ``tests/benchmarks/bench_insights.py``).

Per community and run: today's :class:`~insights.models.CommunityDay` (DAU/WAU/MAU, members,
segment counts, the month's most active members), yesterday's once more (its day has ended),
any day of the last 30 without a row; every present member's
:class:`~insights.models.MemberSummary` (segment); the cohort table's running month, the month
before, and any missing month of the last six (:class:`~insights.models.CohortMonth`). Each
row is an upsert keyed by its unique constraint, so two runs at once write the same rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from community.models import Community
from insights import selectors
from insights.models import CohortMonth, CommunityDay, MemberSummary

#: Days of the active-members series (and the backfill of days without a row).
SERIES_DAYS = 30
_BATCH = 1000


def _upsert(model, keys: tuple[str, ...], columns: tuple[str, ...], rows: list[tuple]) -> None:
    table = model._meta.db_table
    names = ", ".join((*keys, *columns))
    marks = ", ".join(["%s"] * (len(keys) + len(columns)))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "  # noqa: S608 (names from model meta)
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(sql, rows[start : start + _BATCH])


def _days_to_compute(community: Community, today: date) -> list[date]:
    first = today - timedelta(days=SERIES_DAYS - 1)
    have = set(
        CommunityDay.objects.filter(
            community_id=community.pk, day__gte=first, day__lt=today - timedelta(days=1)
        ).values_list("day", flat=True)
    )
    missing = [first + timedelta(days=i) for i in range(SERIES_DAYS - 2)]
    return [d for d in missing if d not in have] + [today - timedelta(days=1), today]


def _months_to_compute(community: Community, today: date) -> list[tuple[date, date]]:
    """(cohort, month) pairs to (re)compute: the running month and the month before for every
    cohort, and every pair of the last six months without a row."""
    months = selectors.cohort_months(today)
    have = set(
        CohortMonth.objects.filter(community_id=community.pk, cohort__gte=months[0]).values_list(
            "cohort", "month"
        )
    )
    recent = set(months[-2:])
    return [
        (cohort, month)
        for cohort in months
        for month in months
        if month >= cohort and (month in recent or (cohort, month) not in have)
    ]


def community_summary_refresh(*, community: Community, now: datetime | None = None) -> date:
    """Recompute ``community``'s summaries as of ``now`` (its local today); returns today."""
    now = now or timezone.now()
    today = selectors.local_today(community, now)
    segments = selectors.member_segments_live(community=community, today=today)
    counts = {name: len(members) for name, members in segments.items()}
    top = [
        {"user_id": r["user_id"], "actions": r["actions"], "active_days": r["active_days"]}
        for r in selectors.top_members_live(community=community, today=today)
    ]
    members = selectors.present_count(community)
    day_rows = []
    for day in _days_to_compute(community, today):
        figures = selectors.active_on(community=community, day=day)
        is_today = day == today
        day_rows.append(
            (
                community.pk,
                day,
                members,
                figures["dau"],
                figures["wau"],
                figures["mau"],
                *((counts[s] for s in selectors.SEGMENTS) if is_today else (None,) * 5),
                top if is_today else [],
                now,
            )
        )
    cohort_rows = []
    pairs = _months_to_compute(community, today)
    cohorts = selectors.cohort_members(community=community, first=pairs[0][0] if pairs else today)
    for month in sorted({m for _c, m in pairs}):
        active = selectors.active_in_month(community=community, month=month, cohorts=cohorts)
        for cohort, m in pairs:
            if m == month:
                joined = sum(1 for c in cohorts.values() if c == cohort)
                cohort_rows.append(
                    (community.pk, cohort, month, joined, active.get(cohort, 0), now)
                )
    member_rows = [
        (
            community.pk,
            m["user_id"],
            m["membership_id"],
            name,
            m["active_days_30"],
            m["last_active_on"],
            now,
        )
        for name, rows in segments.items()
        for m in rows
    ]
    from django.db.models import JSONField

    json = JSONField().get_db_prep_value
    with transaction.atomic():
        _upsert(
            CommunityDay,
            ("community_id", "day"),
            (
                "members",
                "dau",
                "wau",
                "mau",
                *selectors.SEGMENTS,
                "top_members",
                "computed_at",
            ),
            [(*r[:-2], json(r[-2], connection, prepared=False), r[-1]) for r in day_rows],
        )
        _upsert(
            MemberSummary,
            ("community_id", "user_id"),
            ("membership_id", "segment", "active_days_30", "last_active_on", "computed_at"),
            member_rows,
        )
        # Members no longer present (left, removed, banned) leave the segments.
        MemberSummary.objects.filter(community_id=community.pk, computed_at__lt=now).delete()
        _upsert(
            CohortMonth,
            ("community_id", "cohort", "month"),
            ("joined", "active", "computed_at"),
            cohort_rows,
        )
    return today


def summaries_run(*, now: datetime | None = None) -> int:
    """The daily job's summary pass over every community; returns how many were refreshed."""
    now = now or timezone.now()
    done = 0
    for community in Community.objects.all().only("id", "name", "time_zone").order_by("id"):
        community_summary_refresh(community=community, now=now)
        done += 1
    return done
