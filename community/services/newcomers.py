"""Newcomers: the welcome message on joining and the first-week check-in, each exactly once
per membership (the outbox dedupe key names the membership, so leaving and coming back, a
second approval or a second run of the job queue nothing)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Membership, MembershipStatus
from community.services.notifications import notification_enqueue_many

NOTIFY_WELCOME = "newcomer_welcome"
NOTIFY_CHECK_IN = "newcomer_check_in"
#: The check-in is sent this long after joining, while the member is still in their first week.
CHECK_IN_AFTER = timedelta(days=3)
FIRST_WEEK = timedelta(days=7)


def first_steps() -> list[str]:
    """The three things a newcomer does first, in order (the welcome message and the rules
    page show them)."""
    return [
        _("Read and accept the group rules"),
        _("Set your nickname"),
        _("See the open polls and events"),
    ]


def newcomer_welcome(*, membership: Membership) -> bool:
    """Queue the welcome message (rules and the three first steps) to a member who just got in
    (joined an open community or was approved). Once per membership. True when queued now."""
    if membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.MUTED):
        return False
    community = membership.community
    queued = notification_enqueue_many(
        community_id=community.pk,
        recipient_ids=[membership.user_id],
        kind=NOTIFY_WELCOME,
        object_key=f"membership:{membership.pk}",
        data={
            "thing1": community.name[:20],
            "thing2": " / ".join(first_steps())[:20],
        },
        page=f"pages/community/welcome?id={community.pk}",
    )
    return bool(queued)


def newcomers_check_in_due(*, now: datetime | None = None) -> int:
    """Sweep: ask each member how their first week goes, ~3 days after they joined (while the
    week lasts), once per membership."""
    now = now or timezone.now()
    due = (
        Membership.objects.filter(
            status=MembershipStatus.ACTIVE,
            joined_at__lte=now - CHECK_IN_AFTER,
            joined_at__gt=now - FIRST_WEEK,
        )
        .select_related("community")
        .order_by("community_id", "pk")
    )
    by_community: dict[str, tuple[str, list[tuple[str, int]]]] = {}
    for membership in due:
        entry = by_community.setdefault(membership.community_id, (membership.community.name, []))
        entry[1].append((membership.pk, membership.user_id))
    queued = 0
    for community_id, (name, members) in by_community.items():
        with transaction.atomic():
            for membership_id, user_id in members:
                queued += len(
                    notification_enqueue_many(
                        community_id=community_id,
                        recipient_ids=[user_id],
                        kind=NOTIFY_CHECK_IN,
                        object_key=f"membership:{membership_id}",
                        data={
                            "thing1": name[:20],
                            "thing2": str(_("How is your first week going?"))[:20],
                        },
                        page=f"pages/community/home?id={community_id}",
                    )
                )
    return queued
