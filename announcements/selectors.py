"""Reads of the announcements app: the members' list, the readers of one announcement, the
moderators' content calendar, the categories with my follow state."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from announcements.models import Announcement, AnnouncementRead, Category, CategoryUnfollow
from announcements.services.common import TARGET_KIND
from community.authz import VISIBLE_STATUSES
from community.models import Community, Membership
from community.selectors import active_member_count
from community.timezones import community_zone
from moderation.selectors import without_held


def category_list(*, viewer: Membership) -> QuerySet[Category]:
    """The community's categories in their order, each with ``following`` for the viewer."""
    return (
        Category.objects.filter(community_id=viewer.community_id)
        .annotate(
            following=~Exists(
                CategoryUnfollow.objects.filter(
                    community_id=viewer.community_id,
                    membership_id=viewer.pk,
                    category_id=OuterRef("pk"),
                )
            )
        )
        .order_by("position", "created_at", "id")
    )


def announcement_list(
    *, viewer: Membership, category_id: str | None = None, now: datetime | None = None
) -> QuerySet[Announcement]:
    """What members read: published, unexpired, not held announcements of the categories the
    viewer follows (and those without a category), pinned first then newest, each with my
    ``read``/``confirmed`` state. One query per page."""
    now = now or timezone.now()
    community_id = viewer.community_id
    mine = AnnouncementRead.objects.filter(
        community_id=community_id, announcement_id=OuterRef("pk"), membership_id=viewer.pk
    )
    qs = (
        Announcement.objects.filter(community_id=community_id, publish_at__lte=now)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exclude(
            category_id__in=CategoryUnfollow.objects.filter(
                community_id=community_id, membership_id=viewer.pk
            ).values("category_id")
        )
        .select_related("category")
        .annotate(
            read=Exists(mine),
            confirmed=Exists(mine.filter(confirmed_at__isnull=False)),
        )
    )
    if category_id:
        qs = qs.filter(category_id=category_id)
    return without_held(qs, community_id=community_id, target_kind=TARGET_KIND).order_by(
        "-pinned", "-publish_at", "id"
    )


def confirmed_by(*, viewer: Membership, announcement: Announcement) -> bool:
    """Whether ``viewer`` confirmed reading ``announcement``."""
    return AnnouncementRead.objects.filter(
        community_id=announcement.community_id,
        announcement=announcement,
        membership_id=viewer.pk,
        confirmed_at__isnull=False,
    ).exists()


def announcement_readers(*, announcement: Announcement) -> dict:
    """Who of the audience (members following its category) has read and confirmed the
    announcement and who has not: counts and the two lists of members. Three queries."""
    from announcements.services.announcements import audience_ids

    audience = set(audience_ids(announcement))
    reads = {
        row["membership__user_id"]: row
        for row in AnnouncementRead.objects.filter(
            community_id=announcement.community_id, announcement=announcement
        ).values("membership__user_id", "read_at", "confirmed_at")
    }
    members = (
        Membership.objects.filter(
            community_id=announcement.community_id,
            status__in=[str(s) for s in VISIBLE_STATUSES],
            user_id__in=audience | set(reads),
        )
        .select_related("user")
        .order_by("joined_at", "pk")
    )
    confirmed, not_confirmed = [], []
    for member in members:
        row = reads.get(member.user_id)
        entry = {
            "membership_id": member.pk,
            "nickname": member.user.nickname,
            "avatar_url": member.user.avatar_url,
            "read_at": row["read_at"] if row else None,
            "confirmed_at": row["confirmed_at"] if row else None,
        }
        (confirmed if row and row["confirmed_at"] else not_confirmed).append(entry)
    return {
        "audience_count": len(audience),
        "read_count": sum(1 for uid in audience if uid in reads),
        "confirmed_count": len(confirmed),
        "not_confirmed_count": len(not_confirmed),
        "confirmed": confirmed,
        "not_confirmed": not_confirmed,
    }


def iso_week_start(value: date) -> date:
    """The Monday of ``value``'s ISO week."""
    return value - timedelta(days=value.isoweekday() - 1)


def content_calendar(
    *, community: Community, first_week: date, weeks: int, now: datetime | None = None
) -> list[dict]:
    """The community's announcements by ISO week in its own time zone, from the week of
    ``first_week`` on for ``weeks`` weeks, scheduled and past alike, each with its read and
    confirmation counts and rates against the active members now. Two queries."""
    now = now or timezone.now()
    zone = community_zone(community)
    start = iso_week_start(first_week)
    begins = datetime.combine(start, time.min, tzinfo=zone)
    ends = datetime.combine(start + timedelta(weeks=weeks), time.min, tzinfo=zone)
    members = active_member_count(community_id=community.pk)
    posts = (
        Announcement.objects.filter(
            community_id=community.pk, publish_at__gte=begins, publish_at__lt=ends
        )
        .select_related("category")
        .annotate(
            read_count=Count("reads", distinct=True),
            confirmed_count=Count(
                "reads", filter=Q(reads__confirmed_at__isnull=False), distinct=True
            ),
        )
        .order_by("publish_at", "id")
    )
    by_week: dict[date, list[dict]] = {start + timedelta(weeks=index): [] for index in range(weeks)}
    for post in posts:
        local = post.publish_at.astimezone(zone)
        by_week[iso_week_start(local.date())].append(
            {
                "announcement": post,
                "status": post.status_at(now),
                "read_rate": round(post.read_count / members, 4) if members else 0.0,
                "confirmed_rate": (
                    round(post.confirmed_count / members, 4)
                    if members and post.requires_confirmation
                    else None
                ),
            }
        )
    out = []
    for monday, items in by_week.items():
        year, week, _weekday = monday.isocalendar()
        out.append(
            {
                "week": f"{year}-W{week:02d}",
                "starts_on": monday,
                "ends_on": monday + timedelta(days=6),
                "posts": items,
            }
        )
    return out
