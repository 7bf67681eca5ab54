"""Reads of the community core; the query shape of each list is decided here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from community.authz import VISIBLE_STATUSES, Action, can
from community.models import Membership, MembershipStatus, User


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    """The communities a user belongs to (including pending ones, so the mini-program can show
    "waiting for approval"), newest first."""
    from roles.selectors import with_active_roles  # roles builds on the community core

    return with_active_roles(
        Membership.objects.filter(
            user=user,
            status__in=[*VISIBLE_STATUSES, MembershipStatus.PENDING],
        )
        .select_related("community")
        .order_by("-joined_at")
    )


def member_list(
    *,
    viewer: Membership,
    search: str = "",
    status: str | None = None,
    tier: str | None = None,
) -> QuerySet[Membership]:
    """Members of the viewer's community. Ordinary members see active and muted members;
    moderators and above see every status and may filter by it. Each comes with the roles
    they hold now (one more query per page)."""
    qs = Membership.objects.filter(community_id=viewer.community_id).select_related("user")
    if can(viewer, Action.MODERATE):
        if status:
            qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=VISIBLE_STATUSES)
    if tier:
        qs = qs.filter(tier=tier)
    if search:
        qs = qs.filter(Q(user__nickname__icontains=search))
    from roles.selectors import with_active_roles  # roles builds on the community core

    return with_active_roles(qs.order_by("-joined_at", "pk"))


def active_member_count(*, community_id: str) -> int:
    """How many members are active right now (the electorate of a new poll)."""
    return Membership.objects.filter(
        community_id=community_id, status=MembershipStatus.ACTIVE
    ).count()
