"""Authorization: the one place that answers "may this user do this in this community".

Every view and every admin page asks here. The rules:

* Only ``active`` and ``muted`` members see a community and its objects; everyone else
  (non-members, pending, banned, left) gets 404, never 403, so ids of other communities leak
  nothing.
* ``muted`` members may read but not write.
* Taking part (voting, answering, signing up) needs the current group rules accepted.
* Tiers are ordered member < moderator < admin < owner; an action on another member needs a
  strictly higher tier than theirs.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from community.errors import Forbidden, NotFound
from community.models import Community, Membership, MembershipStatus, Tier, User
from community.models.communities import TIER_RANK

VISIBLE_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.MUTED)


class Action(StrEnum):
    """What a member may want to do in a community."""

    VIEW = "view"  # read the community, its members and objects
    PARTICIPATE = "participate"  # vote, answer, sign up, edit own profile in it
    CREATE_POLL = "create_poll"  # create a poll (moderators; members when the community allows)
    MODERATE = "moderate"  # approve joins, mute/ban, close others' polls, see who has not voted
    MANAGE = "manage"  # change tiers, edit the community, regenerate the invite code


_MIN_TIER = {
    Action.VIEW: Tier.MEMBER,
    Action.PARTICIPATE: Tier.MEMBER,
    Action.CREATE_POLL: Tier.MODERATOR,
    Action.MODERATE: Tier.MODERATOR,
    Action.MANAGE: Tier.ADMIN,
}


def _denial(membership: Membership, action: Action) -> Forbidden | None:
    """Why ``membership`` may not do ``action``, or None when it may."""
    if action is Action.VIEW:
        return None
    if membership.status == MembershipStatus.MUTED:
        return Forbidden(_("You are muted in this community and cannot do this."), code="muted")
    if action is Action.CREATE_POLL and membership.community.members_can_create_polls:
        required = Tier.MEMBER
    else:
        required = _MIN_TIER[action]
    if membership.tier_rank < TIER_RANK[required]:
        return Forbidden(
            _("Only a %(tier)s or above can do this.") % {"tier": Tier(required).label},
            code="tier_too_low",
        )
    community = membership.community
    if community.rules_version and membership.rules_accepted_version < community.rules_version:
        return Forbidden(
            _("Please read and accept the group rules first."), code="rules_not_accepted"
        )
    return None


def can(membership: Membership | None, action: Action) -> bool:
    """True when the holder of ``membership`` may do ``action`` in its community."""
    if membership is None or membership.status not in VISIBLE_STATUSES:
        return False
    return _denial(membership, action) is None


def visible_membership(user: User, community_id: str) -> Membership:
    """The user's membership in a community they can see; 404 otherwise."""
    if not user.is_authenticated:
        raise NotFound(_("Community not found."))
    membership = (
        Membership.objects.select_related("community")
        .filter(community_id=community_id, user=user, status__in=VISIBLE_STATUSES)
        .first()
    )
    if membership is None:
        raise NotFound(_("Community not found."))
    return membership


def ensure(membership: Membership | None, action: Action) -> Membership:
    """``membership`` when its holder may do ``action``; raises 404 when it cannot see its
    community and the precise 403 (muted, tier, rules) otherwise. For callers that loaded the
    membership together with the object (one query instead of two)."""
    if membership is None or membership.status not in VISIBLE_STATUSES:
        raise NotFound(_("Community not found."))
    denial = _denial(membership, action)
    if denial is not None:
        raise denial
    return membership


def require(user: User, community_id: str, action: Action) -> Membership:
    """The user's membership if they may do ``action``; raises 404 (cannot see) or 403."""
    return ensure(visible_membership(user, community_id), action)


def require_over(actor: Membership, target: Membership, action: Action) -> None:
    """``actor`` may do ``action`` to another member only with a strictly higher tier."""
    denial = _denial(actor, action)
    if denial is not None:
        raise denial
    if actor.pk == target.pk:
        raise Forbidden(_("You cannot do this to yourself."), code="self_action")
    if actor.tier_rank <= target.tier_rank:
        raise Forbidden(_("You can only manage members below your own tier."), code="tier_too_low")


def admin_communities(user: User) -> QuerySet[Community]:
    """Communities a staff user may manage in the Django admin: all for a superuser, otherwise
    those where they are an active moderator or above."""
    if user.is_superuser:
        return Community.objects.all()
    if not (user.is_active and user.is_staff):
        return Community.objects.none()
    return Community.objects.filter(
        memberships__user=user,
        memberships__status=MembershipStatus.ACTIVE,
        memberships__tier__in=[Tier.MODERATOR, Tier.ADMIN, Tier.OWNER],
    ).distinct()


def admin_actor(user: User, community: Community) -> Membership | None:
    """The membership a staff user acts with in the admin: their own active one, or for a
    superuser without one, an unsaved owner-tier stand-in (superusers run the platform)."""
    membership = (
        Membership.objects.select_related("community", "user")
        .filter(community=community, user=user, status=MembershipStatus.ACTIVE)
        .first()
    )
    if membership is None and user.is_superuser:
        membership = Membership(
            community=community,
            user=user,
            tier=Tier.OWNER,
            status=MembershipStatus.ACTIVE,
            rules_accepted_version=community.rules_version,
        )
        membership.pk = None
    return membership
