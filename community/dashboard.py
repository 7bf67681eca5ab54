"""The back office's home dashboard: per community the staff user moderates, what needs a
moderator's eye today (open polls and their turnout, open surveys and their response rate,
upcoming events and their seats, overdue tasks) and the daily active members of the last 30
days (a chart drawn with the bundled Chart.js).

A selector: reads only, a fixed number of queries whatever the number of communities (one per
kind of row), so the admin home stays fast for a platform superuser too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from community.authz import admin_communities
from community.db_router import lagging_reads
from community.models import Community, Membership, MembershipStatus, User

ROWS_PER_KIND = 5  # per community and kind; the changelists hold the rest


def _percent(part: int, whole: int | None) -> int | None:
    if not whole:
        return None
    return min(100, round(100 * part / whole))


@dataclass
class CommunityDashboard:
    """One community's panel on the dashboard."""

    community: Community
    members: int = 0
    polls: list[dict] = field(default_factory=list)
    surveys: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    overdue_tasks: int = 0
    #: Daily active members of the last 30 days, oldest first: ``{"day": "2026-11-02", ...}``.
    activity: list[dict] = field(default_factory=list)

    @property
    def activity_script_id(self) -> str:
        """The id of the ``json_script`` element holding :attr:`activity` on the page."""
        return f"activity-{self.community.pk}"


def dashboard_for(*, user: User, now: datetime | None = None) -> list[CommunityDashboard]:
    """The panels of every community ``user`` may manage in the admin, by name."""
    from events.models import Event
    from insights.selectors import daily_active_series
    from polls.models import Poll, PollStatus
    from roles.models import Task
    from surveys.models import Survey, SurveyStatus

    now = now or timezone.now()
    communities = list(admin_communities(user).order_by("name", "id"))
    panels = {c.pk: CommunityDashboard(community=c) for c in communities}
    if not panels:
        return []
    ids = list(panels)

    # Participation figures may lag (community/db_router.py): the replica when there is one.
    with lagging_reads():
        members = (
            Membership.objects.filter(community_id__in=ids, status=MembershipStatus.ACTIVE)
            .values("community_id")
            .annotate(n=Count("id"))
        )
        for row in members:
            panels[row["community_id"]].members = row["n"]

        polls = Poll.objects.filter(community_id__in=ids).with_status(PollStatus.OPEN, now)
        for poll in polls.order_by("closes_at", "id").only(
            "id", "community_id", "title", "closes_at", "voter_count", "eligible_count"
        ):
            panel = panels[poll.community_id]
            if len(panel.polls) < ROWS_PER_KIND:
                panel.polls.append({"obj": poll, "voters": poll.voter_count})
        surveys = Survey.objects.filter(community_id__in=ids, status=SurveyStatus.PUBLISHED).filter(
            Q(closes_at__isnull=True) | Q(closes_at__gt=now)
        )
        for survey in surveys.order_by("closes_at", "id").only(
            "id", "community_id", "title", "closes_at", "submitted_count"
        ):
            panel = panels[survey.community_id]
            if len(panel.surveys) < ROWS_PER_KIND:
                panel.surveys.append({"obj": survey, "submitted": survey.submitted_count})
        events = Event.objects.filter(community_id__in=ids).upcoming_or_running(now)
        for event in events.order_by("starts_at", "id").only(
            "id", "community_id", "title", "starts_at", "capacity", "seats_taken", "waitlist_count"
        ):
            panel = panels[event.community_id]
            if len(panel.events) < ROWS_PER_KIND:
                panel.events.append({"obj": event})
        overdue = (
            Task.objects.filter(community_id__in=ids, due_at__lt=now, column__is_done=False)
            .values("community_id")
            .annotate(n=Count("id"))
        )
        for row in overdue:
            panels[row["community_id"]].overdue_tasks = row["n"]
        series = daily_active_series(communities=communities, now=now)
        for community_id, rows in series.items():
            panels[community_id].activity = [
                {"day": row["day"].isoformat(), "active": row["active"]} for row in rows
            ]

    for panel in panels.values():
        for row in panel.polls:
            poll = row["obj"]
            row["turnout"] = _percent(poll.voter_count, poll.eligible_count or panel.members)
        for row in panel.surveys:
            row["rate"] = _percent(row["submitted"], panel.members)
        for row in panel.events:
            event = row["obj"]
            row["seats"] = _percent(event.seats_taken, event.capacity)
    return [panels[c.pk] for c in communities]
