"""Reads of the weekly digest: the figures the admin tiers get every Monday morning (the
subscribe message and the in-app page share them), in the community's own calendar.

"Last week" is the full ISO week (Monday to Sunday) before the week of ``now``; the digest of
a week is named by the ISO week it is sent in (``2026-W49``), which is also its outbox key."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from community.models import Community
from community.timezones import community_zone
from insights import selectors
from insights.models import InactiveRound

UPCOMING_DAYS = 7
ROWS = 10  # events and overdue tasks listed (the counts cover all of them)


def digest_week(today: date) -> str:
    """The ISO week ``today`` falls in, as ``YYYY-Www``: the digest's name and outbox key."""
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def _local_midnight(community: Community, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=community_zone(community))


def weekly_digest(*, community: Community, now: datetime | None = None) -> dict[str, Any]:
    """Active members of last week and the trend against the week before, participation of
    the polls, surveys and events created last week, events starting in the next 7 days, open
    tasks past their due time and the inactive-member candidates."""
    from events.models import Event
    from roles.models import Task

    now = now or timezone.now()
    today = selectors.local_today(community, now)
    this_monday = today - timedelta(days=today.weekday())
    last_monday = this_monday - timedelta(days=7)
    active = selectors.distinct_active(community, last_monday, this_monday - timedelta(days=1))
    before = selectors.distinct_active(
        community, last_monday - timedelta(days=7), last_monday - timedelta(days=1)
    )
    upcoming = (
        Event.objects.filter(
            community_id=community.pk,
            starts_at__gte=now,
            starts_at__lt=now + timedelta(days=UPCOMING_DAYS),
        )
        .upcoming_or_running(now)
        .order_by("starts_at", "id")
        .only("id", "title", "starts_at", "capacity", "seats_taken")
    )
    overdue = Task.objects.filter(
        community_id=community.pk, due_at__lt=now, column__is_done=False
    ).order_by("due_at", "id")
    rules = selectors.insights_settings_for(community)
    rounds = InactiveRound.objects.filter(
        community_id=community.pk, cleared_at__isnull=True, removed_at__isnull=True
    )
    return {
        "week": digest_week(today),
        "week_starts_on": last_monday,
        "week_ends_on": this_monday - timedelta(days=1),
        "members": selectors.present_count(community),
        "active_members": active,
        "active_members_before": before,
        "active_change": active - before,
        "participation": selectors.participation(
            community=community,
            today=today,
            created_from=_local_midnight(community, last_monday),
            created_before=_local_midnight(community, this_monday),
        ),
        "upcoming_events": [
            {
                "id": e.pk,
                "title": e.title,
                "starts_at": e.starts_at,
                "capacity": e.capacity,
                "seats_taken": e.seats_taken,
            }
            for e in upcoming[:ROWS]
        ],
        "overdue_task_count": overdue.count(),
        "overdue_tasks": [
            {"id": t.pk, "title": t.title, "due_at": t.due_at}
            for t in overdue.only("id", "title", "due_at")[:ROWS]
        ],
        "inactive_candidates": rounds.count(),
        "inactive_to_clean_up": rounds.filter(
            started_at__lte=now - timedelta(days=rules.grace_days),
            membership__last_active_at__lte=F("last_active_at"),
        ).count(),
    }
