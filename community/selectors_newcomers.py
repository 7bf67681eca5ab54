"""Reads about newcomers: who joined this week, for the welcome role and the admin tiers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from community.authz import VISIBLE_STATUSES
from community.models import Membership

WEEK = timedelta(days=7)


def newcomers_of_the_week(*, viewer: Membership, now: datetime | None = None) -> QuerySet:
    """Members who joined in the last seven days (active or muted), newest first, with their
    user and whether they accepted the current rules (the welcomer's first question)."""
    now = now or timezone.now()
    return (
        Membership.objects.filter(
            community_id=viewer.community_id,
            status__in=[str(s) for s in VISIBLE_STATUSES],
            joined_at__gt=now - WEEK,
        )
        .select_related("user", "community")
        .order_by("-joined_at", "pk")
    )
