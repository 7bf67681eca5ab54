"""Reads of the dashboards: every figure of one community, in its own calendar.

Each function takes the community (and ``today``, its local date, so tests freeze the clock)
and answers with plain data (dicts and lists) the API, the admin and the CSV export share.
A fixed number of queries per figure, whatever the community's size; the per-day figures read
the ``(community, day)`` index of member-days."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractIsoWeekDay, TruncMonth, TruncWeek
from django.utils import timezone

from community.models import Community, Membership, MembershipStatus, Tier, User
from community.timezones import community_zone
from insights.models import (
    COUNTERS,
    CohortMonth,
    CommunityDay,
    HourActivity,
    InsightsSettings,
    MemberDay,
    MemberPeriod,
    MemberSummary,
)

SEGMENTS = ("new", "core", "casual", "dormant", "inactive")
#: Members of each segment the dashboard lists (all of them: the segment export).
SEGMENT_SAMPLE = 20
PRESENT = (MembershipStatus.ACTIVE, MembershipStatus.MUTED)


def insights_settings_for(community: Community) -> InsightsSettings:
    """The community's analytics rules (its defaults, unsaved, until an admin edits them)."""
    found = InsightsSettings.objects.filter(community_id=community.pk).first()
    return found or InsightsSettings(community=community)


def local_today(community: Community, now=None) -> date:
    return (now or timezone.now()).astimezone(community_zone(community)).date()


def _present(community: Community):
    return Membership.objects.filter(community_id=community.pk, status__in=PRESENT)


def present_count(community: Community) -> int:
    """Members present (active or muted)."""
    return _present(community).count()


def distinct_active(community: Community, start: date, end: date) -> int:
    """Members active on at least one day of ``[start, end]`` (local days)."""
    return _distinct_users(community, start, end)


def _distinct_users(community: Community, start: date, end: date) -> int:
    return (
        MemberDay.objects.filter(community_id=community.pk, day__gte=start, day__lte=end)
        .values("user_id")
        .distinct()
        .count()
    )


def active_on(*, community: Community, day: date) -> dict[str, int]:
    """DAU of ``day``, WAU and MAU of the 7 and 30 days ending on it, from member-days (the
    summary job's computation; three index range reads)."""
    return {
        "dau": MemberDay.objects.filter(community_id=community.pk, day=day).count(),
        "wau": _distinct_users(community, day - timedelta(days=6), day),
        "mau": _distinct_users(community, day - timedelta(days=29), day),
    }


def _summary_days(community: Community, start: date, today: date) -> dict[date, CommunityDay]:
    return {
        row.day: row
        for row in CommunityDay.objects.filter(
            community_id=community.pk, day__gte=start, day__lte=today
        )
    }


def active_members(
    *, community: Community, today: date, days: int = 30, summary: dict | None = None
) -> dict[str, Any]:
    """Daily, weekly (7 days) and monthly (30 days) active members up to ``today``, their
    ratio (DAU/MAU, "stickiness") and the daily series of the last ``days`` days.

    Read from the ``insights-daily`` job's :class:`CommunityDay` rows when today's exists
    (``as_of``: when it was computed; days of the series without a row are counted from
    member-days), else counted from member-days now (``as_of`` null)."""
    start = today - timedelta(days=days - 1)
    rows = summary if summary is not None else _summary_days(community, start, today)
    current = rows.get(today)
    if current is not None:
        missing = [
            start + timedelta(days=i) for i in range(days) if start + timedelta(days=i) not in rows
        ]
        per_day = {d: r.dau for d, r in rows.items()}
        if missing:
            per_day.update(
                MemberDay.objects.filter(community_id=community.pk, day__in=missing)
                .values("day")
                .annotate(n=Count("user_id"))
                .values_list("day", "n")
            )
        dau, wau, mau, members = current.dau, current.wau, current.mau, current.members
        as_of = current.computed_at
    else:
        per_day = dict(
            MemberDay.objects.filter(community_id=community.pk, day__gte=start, day__lte=today)
            .values("day")
            .annotate(n=Count("user_id"))
            .values_list("day", "n")
        )
        dau = per_day.get(today, 0)
        wau = _distinct_users(community, today - timedelta(days=6), today)
        mau = _distinct_users(community, today - timedelta(days=29), today)
        members = _present(community).count()
        as_of = None
    return {
        "day": today,
        "as_of": as_of,
        "members": members,
        "dau": dau,
        "wau": wau,
        "mau": mau,
        "dau_over_mau": round(dau / mau, 3) if mau else None,
        "series": [
            {
                "day": start + timedelta(days=i),
                "active": per_day.get(start + timedelta(days=i), 0),
                "wau": rows[start + timedelta(days=i)].wau
                if start + timedelta(days=i) in rows
                else None,
                "mau": rows[start + timedelta(days=i)].mau
                if start + timedelta(days=i) in rows
                else None,
            }
            for i in range(days)
        ],
    }


def joins_per_week(*, community: Community, today: date, weeks: int = 12) -> list[dict[str, Any]]:
    """Members who joined (or came back) and members who left, were removed or banned, per
    week (weeks start on Monday; ``Membership.joined_at`` and ``left_at``, each read through
    its index); ``left_since``: of those who joined that week, how many are gone again."""
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=weeks - 1)
    zone = community_zone(community)
    since = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    rows = (
        Membership.objects.filter(community_id=community.pk, joined_at__gte=since)
        .exclude(status=MembershipStatus.PENDING)
        .annotate(week=TruncWeek("joined_at", tzinfo=zone))
        .values("week")
        .annotate(
            joins=Count("id"),
            gone=Count("id", filter=Q(status__in=[MembershipStatus.LEFT, MembershipStatus.BANNED])),
        )
    )
    found = {r["week"].date(): r for r in rows}
    leaves = {
        r["week"].date(): r["n"]
        for r in Membership.objects.filter(community_id=community.pk, left_at__gte=since)
        .annotate(week=TruncWeek("left_at", tzinfo=zone))
        .values("week")
        .annotate(n=Count("id"))
    }
    out = []
    for i in range(weeks):
        week = start + timedelta(weeks=i)
        row = found.get(week, {})
        out.append(
            {
                "week": week,
                "joins": row.get("joins", 0),
                "leaves": leaves.get(week, 0),
                "left_since": row.get("gone", 0),
            }
        )
    return out


def participation(
    *,
    community: Community,
    today: date,
    limit: int = 20,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
) -> list[dict[str, Any]]:
    """Participation rate of the latest polls, surveys and events (those created in
    ``[created_from, created_before)`` when given): who took part over the members present (a
    poll's own electorate when it recorded one), newest first."""
    from events.models import Event, RegistrationStatus
    from polls.models import Poll
    from surveys.models import Survey

    members = _present(community).count()
    created = Q()
    if created_from is not None:
        created &= Q(created_at__gte=created_from)
    if created_before is not None:
        created &= Q(created_at__lt=created_before)

    def rate(part: int, whole: int | None) -> float | None:
        return round(part / whole, 3) if whole else None

    rows: list[dict[str, Any]] = []
    for poll in (
        Poll.objects.filter(created, community_id=community.pk)
        .order_by("-created_at")[:limit]
        .only("id", "title", "created_at", "voter_count", "eligible_count")
    ):
        whole = poll.eligible_count or members
        rows.append(
            {
                "kind": "poll",
                "id": poll.pk,
                "title": poll.title,
                "created_at": poll.created_at,
                "participants": poll.voter_count,
                "rate": rate(poll.voter_count, whole),
            }
        )
    for survey in (
        Survey.objects.filter(created, community_id=community.pk)
        .order_by("-created_at")[:limit]
        .only("id", "title", "created_at", "submitted_count")
    ):
        rows.append(
            {
                "kind": "survey",
                "id": survey.pk,
                "title": survey.title,
                "created_at": survey.created_at,
                "participants": survey.submitted_count,
                "rate": rate(survey.submitted_count, members),
            }
        )
    events = (
        Event.objects.filter(created, community_id=community.pk)
        .order_by("-created_at")
        .annotate(
            people=Count(
                "registrations",
                filter=Q(
                    registrations__status__in=[
                        RegistrationStatus.CONFIRMED,
                        RegistrationStatus.WAITLISTED,
                    ]
                ),
            )
        )
        .only("id", "title", "created_at")[:limit]
    )
    for event in events:
        rows.append(
            {
                "kind": "event",
                "id": event.pk,
                "title": event.title,
                "created_at": event.created_at,
                "participants": event.people,
                "rate": rate(event.people, members),
            }
        )
    rows.sort(key=lambda r: r["created_at"], reverse=True)
    return rows[:limit]


def heatmap(*, community: Community, today: date, weeks: int = 12) -> list[list[int]]:
    """Actions per weekday (Monday first) and local hour over the last ``weeks`` weeks: seven
    rows of 24 counts."""
    start = today - timedelta(weeks=weeks)
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        HourActivity.objects.filter(community_id=community.pk, day__gt=start, day__lte=today)
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values("weekday", "hour")
        .annotate(n=Sum("actions"))
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] = row["n"]
    return grid


def member_segments_live(*, community: Community, today: date) -> dict[str, list[dict[str, Any]]]:
    """Every present member in one segment (classified now: the summary job's computation), by the community's thresholds:
    ``new`` (joined within ``new_member_days``), ``core`` (active on at least ``core_min_days``
    of the last 30), ``casual`` (active within ``dormant_after_days``), ``dormant`` (not since,
    but within ``inactive_after_days``), ``inactive`` (longer)."""
    rules = insights_settings_for(community)
    zone = community_zone(community)
    active_days = dict(
        MemberDay.objects.filter(
            community_id=community.pk, day__gt=today - timedelta(days=30), day__lte=today
        )
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SEGMENTS}
    for m in (
        _present(community)
        .select_related("user")
        .only("id", "user_id", "user__nickname", "user__username", "joined_at", "last_active_at")
        .iterator(chunk_size=5000)
    ):
        last = m.last_active_at.astimezone(zone).date()
        idle = (today - last).days
        joined = m.joined_at.astimezone(zone).date()
        if (today - joined).days < rules.new_member_days:
            segment = "new"
        elif active_days.get(m.user_id, 0) >= rules.core_min_days:
            segment = "core"
        elif idle < rules.dormant_after_days:
            segment = "casual"
        elif idle < rules.inactive_after_days:
            segment = "dormant"
        else:
            segment = "inactive"
        out[segment].append(
            {
                "membership_id": m.pk,
                "user_id": m.user_id,
                "nickname": str(m.user),
                "last_active_on": last,
                "active_days_30": active_days.get(m.user_id, 0),
            }
        )
    return out


def _summary_segments(community: Community, current: CommunityDay | None) -> bool:
    return current is not None and current.core is not None


def member_segments(
    *, community: Community, today: date, limit: int | None = None, current=None
) -> dict[str, list[dict[str, Any]]]:
    """The members of each segment (at most ``limit`` each: dormant and inactive longest
    idle first, the others most recently active first): from the summary job's
    :class:`MemberSummary` rows when today's summary holds segments, else classified now."""
    if current is None:
        current = CommunityDay.objects.filter(community_id=community.pk, day=today).first()
    if not _summary_segments(community, current):
        live = member_segments_live(community=community, today=today)
        return {k: v[:limit] if limit else v for k, v in live.items()}
    out: dict[str, list[dict[str, Any]]] = {}
    for segment in SEGMENTS:
        order = "last_active_on" if segment in ("dormant", "inactive") else "-last_active_on"
        rows = (
            MemberSummary.objects.filter(community_id=community.pk, segment=segment)
            .select_related("user")
            .only(
                "user_id",
                "membership_id",
                "user__nickname",
                "user__username",
                "last_active_on",
                "active_days_30",
            )
            .order_by(order, "user_id")
        )
        if limit:
            rows = rows[:limit]
        out[segment] = [
            {
                "membership_id": r.membership_id,
                "user_id": r.user_id,
                "nickname": str(r.user),
                "last_active_on": r.last_active_on,
                "active_days_30": r.active_days_30,
            }
            for r in rows
        ]
    return out


def segment_counts(
    *, community: Community, today: date, days: int = 30, summary: dict | None = None
) -> dict[str, Any]:
    """Members per segment today and over the last ``days`` days (the days the summary job
    recorded them; ``null`` counts: not recorded)."""
    start = today - timedelta(days=days - 1)
    rows = summary if summary is not None else _summary_days(community, start, today)
    current = rows.get(today)
    if _summary_segments(community, current):
        now_counts = {s: getattr(current, s) for s in SEGMENTS}
    else:
        now_counts = {
            k: len(v) for k, v in member_segments_live(community=community, today=today).items()
        }
    series = []
    for i in range(days):
        day = start + timedelta(days=i)
        row = rows.get(day)
        series.append({"day": day, **{s: getattr(row, s) if row else None for s in SEGMENTS}})
    series[-1].update(now_counts)
    return {"today": now_counts, "series": series}


def cohort_months(today: date, months: int = 6) -> list[date]:
    """The first days of the last ``months`` months, oldest first."""
    out = [today.replace(day=1)]
    while len(out) < months:
        out.insert(0, (out[0] - timedelta(days=1)).replace(day=1))
    return out


def cohort_members(*, community: Community, first: date) -> dict[str, date]:
    """user id -> join month, of members who joined (or came back) since ``first``."""
    zone = community_zone(community)
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    return {
        user_id: joined.astimezone(zone).date().replace(day=1)
        for user_id, joined in Membership.objects.filter(
            community_id=community.pk, joined_at__gte=since
        )
        .exclude(status=MembershipStatus.PENDING)
        .values_list("user_id", "joined_at")
    }


def active_in_month(
    *, community: Community, month: date, cohorts: dict[str, date]
) -> dict[date, int]:
    """join month -> members of that cohort active in ``month`` (member-days, and rolled-up
    periods starting in it)."""
    end = (month + timedelta(days=32)).replace(day=1)
    users = set(
        MemberDay.objects.filter(community_id=community.pk, day__gte=month, day__lt=end)
        .values_list("user_id", flat=True)
        .distinct()
    )
    users |= set(
        MemberPeriod.objects.filter(
            community_id=community.pk, starts_on__gte=month, starts_on__lt=end
        )
        .values_list("user_id", flat=True)
        .distinct()
    )
    out: dict[date, int] = defaultdict(int)
    for user_id in users:
        cohort = cohorts.get(user_id)
        if cohort is not None and cohort <= month:
            out[cohort] += 1
    return out


def retention(*, community: Community, today: date, months: int = 6) -> list[dict[str, Any]]:
    """Cohorts by join month (the last ``months``): how many joined, and for each month since,
    the share of them active in that month. From the summary job's :class:`CohortMonth` rows
    when it has run this month, else counted now."""
    first = cohort_months(today, months)[0]
    stored = list(
        CohortMonth.objects.filter(community_id=community.pk, cohort__gte=first).values_list(
            "cohort", "month", "joined", "active"
        )
    )
    if stored and any(m == today.replace(day=1) for _c, m, _j, _a in stored):
        joined = {c: j for c, _m, j, _a in stored}
        active = {(c, m): a for c, m, _j, a in stored}
        out = []
        for cohort in cohort_months(today, months):
            n = joined.get(cohort, 0)
            out.append(
                {
                    "month": cohort,
                    "joined": n,
                    "active_share": [
                        round(active.get((cohort, m), 0) / n, 3) if n else None
                        for m in cohort_months(today, months)
                        if m >= cohort
                    ],
                }
            )
        return out
    return retention_live(community=community, today=today, months=months)


def retention_live(*, community: Community, today: date, months: int = 6) -> list[dict[str, Any]]:
    """:func:`retention` counted from member-days now."""
    first = cohort_months(today, months)[0]
    zone = community_zone(community)
    cohort_of: dict[str, date] = {}
    for user_id, joined in (
        Membership.objects.filter(community_id=community.pk)
        .exclude(status=MembershipStatus.PENDING)
        .filter(joined_at__date__gte=first)
        .values_list("user_id", "joined_at")
    ):
        cohort_of[user_id] = joined.astimezone(zone).date().replace(day=1)
    active: dict[date, set[str]] = defaultdict(set)
    for user_id, month in (
        MemberDay.objects.filter(community_id=community.pk, day__gte=first, user_id__in=cohort_of)
        .annotate(month=TruncMonth("day"))
        .values_list("user_id", "month")
        .distinct()
    ):
        active[month].add(user_id)
    for user_id, month in (
        MemberPeriod.objects.filter(
            community_id=community.pk, starts_on__gte=first, user_id__in=cohort_of
        )
        .annotate(month=TruncMonth("starts_on"))
        .values_list("user_id", "month")
        .distinct()
    ):
        active[month].add(user_id)
    cohorts: dict[date, list[str]] = defaultdict(list)
    for user_id, month in cohort_of.items():
        cohorts[month].append(user_id)
    out = []
    month = first
    while month <= today:
        members = set(cohorts.get(month, ()))
        rates = []
        later = month
        while later <= today:
            kept = len(members & active.get(later, set()))
            rates.append(round(kept / len(members), 3) if members else None)
            later = (later + timedelta(days=32)).replace(day=1)
        out.append({"month": month, "joined": len(members), "active_share": rates})
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def top_members(
    *, community: Community, today: date, limit: int = 10, current=None
) -> list[dict[str, Any]]:
    """The most active members of the month so far (for thanks): from today's summary when the
    job has computed it (nicknames read now), else summed now."""
    if current is None:
        current = CommunityDay.objects.filter(community_id=community.pk, day=today).first()
    if current is None:
        return top_members_live(community=community, today=today, limit=limit)
    rows = current.top_members[:limit]
    names = {
        u.pk: str(u)
        for u in User.objects.filter(pk__in=[r["user_id"] for r in rows]).only(
            "id", "nickname", "username"
        )
    }
    return [{**r, "nickname": names.get(r["user_id"], "")} for r in rows if r["user_id"] in names]


def top_members_live(*, community: Community, today: date, limit: int = 10) -> list[dict[str, Any]]:
    """The most active members of the month so far (for thanks): actions summed, visits not
    counted (opening the mini-program is not taking part)."""
    first = today.replace(day=1)
    weights = sum((F(c) for c in COUNTERS if c != "visits"), start=0)
    rows = (
        MemberDay.objects.filter(community_id=community.pk, day__gte=first, day__lte=today)
        .values("user_id", "user__nickname", "user__username")
        .annotate(actions=Sum(weights), days=Count("id"))
        .filter(actions__gt=0)
        .order_by("-actions", "user_id")[:limit]
    )
    return [
        {
            "user_id": r["user_id"],
            "nickname": r["user__nickname"] or r["user__username"],
            "actions": r["actions"],
            "active_days": r["days"],
        }
        for r in rows
    ]


def member_timeline(*, community: Community, user_id: str, today: date, days: int = 90) -> dict:
    """One member's activity: their member-days of the last ``days`` days (newest first) and
    the rolled-up weeks and months before."""
    day_rows = list(
        MemberDay.objects.filter(
            community_id=community.pk, user_id=user_id, day__gt=today - timedelta(days=days)
        )
        .order_by("-day")
        .values("day", *COUNTERS)
    )
    periods = list(
        MemberPeriod.objects.filter(community_id=community.pk, user_id=user_id)
        .order_by("-starts_on")
        .values("grain", "starts_on", "active_days", *COUNTERS)[:104]
    )
    return {"days": day_rows, "periods": periods}


def admins_of(community: Community):
    """The admin tiers of a community (admins and the owner), present."""
    return _present(community).filter(tier__in=[Tier.ADMIN, Tier.OWNER])


def daily_active_series(
    *, communities: list[Community], now=None, days: int = 30
) -> dict[str, list[dict[str, Any]]]:
    """Daily active members of the last ``days`` days of each community (its own calendar,
    up to its today), in one query whatever the number of communities: the admin home's
    activity chart."""
    todays = {c.pk: local_today(c, now) for c in communities}
    if not todays:
        return {}
    start = min(todays.values()) - timedelta(days=days - 1)
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for community_id, day, n in (
        MemberDay.objects.filter(community_id__in=list(todays), day__gte=start)
        .values("community_id", "day")
        .annotate(n=Count("user_id"))
        .values_list("community_id", "day", "n")
    ):
        counts[community_id][day] = n
    out = {}
    for community_id, today in todays.items():
        first = today - timedelta(days=days - 1)
        out[community_id] = [
            {
                "day": first + timedelta(days=i),
                "active": counts[community_id].get(first + timedelta(days=i), 0),
            }
            for i in range(days)
        ]
    return out


def dashboard(*, community: Community, today: date) -> dict[str, Any]:
    """Every figure of the dashboard: the summary rows read once, each figure from them (or
    counted now where the job has not run yet). Queries and time independent of the number of
    members and member-days once the summary job has run."""
    start = today - timedelta(days=29)
    summary = _summary_days(community, start, today)
    current = summary.get(today)
    return {
        "active": active_members(community=community, today=today, summary=summary),
        "joins": joins_per_week(community=community, today=today),
        "participation": participation(community=community, today=today),
        "heatmap": heatmap(community=community, today=today),
        "segments": member_segments(
            community=community, today=today, limit=SEGMENT_SAMPLE, current=current
        ),
        "segment_counts": segment_counts(community=community, today=today, summary=summary),
        "retention": retention(community=community, today=today),
        "top_members": top_members(community=community, today=today, current=current),
    }
