"""Authorization: the one place that answers "may this user do this in this community".

Every view and every admin page asks here. The rules:

* Only ``active`` and ``muted`` members see a community and its objects; everyone else
  (non-members, pending, banned, left) gets 404, never 403, so ids of other communities leak
  nothing.
* ``muted`` members may read but not write.
* Taking part (voting, answering, signing up) needs the current group rules accepted.
* Tiers are ordered member < moderator < admin < owner; an action on another member needs a
  strictly higher tier than theirs.
* Some actions concern one object (a poll; later an event, a task). Their tier is a floor that
  an *object rule* can lift: the poll's author manages their poll like a moderator would. Ask
  ``can(membership, Action.MANAGE_POLL, obj=poll)``; the rules per action live in
  ``_OBJECT_RULES`` below, in this one place. An object rule only replaces the tier: a muted
  member or one who has not accepted the current group rules is still refused a write.
* Read actions (``VIEW``, ``SEE_POLL_RESULTS``, ``SEE_POLL_VOTERS``) are open to muted members
  and do not need the group rules accepted: a mute stops writing, not reading.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

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
    # --- on one object (pass ``obj=``) ---
    MANAGE_POLL = "manage_poll"  # edit, close, reopen a poll, change its options
    ADD_POLL_OPTION = "add_poll_option"  # add an option to a poll
    SEE_POLL_RESULTS = "see_poll_results"  # results before the poll's visibility shows them
    SEE_POLL_VOTERS = "see_poll_voters"  # who voted what in a named poll
    CREATE_EVENT = "create_event"  # create a full event (moderators)
    CREATE_QUICK_EVENT = "create_quick_event"  # start a 接龙 (moderators; members if allowed)
    MANAGE_EVENT = "manage_event"  # edit, cancel an event, approve, see attendees, check in
    SEE_EVENT_ATTENDEES = "see_event_attendees"  # the attendee list of a full event


_MIN_TIER = {
    Action.VIEW: Tier.MEMBER,
    Action.PARTICIPATE: Tier.MEMBER,
    Action.CREATE_POLL: Tier.MODERATOR,
    Action.MODERATE: Tier.MODERATOR,
    Action.MANAGE: Tier.ADMIN,
    Action.MANAGE_POLL: Tier.MODERATOR,
    Action.ADD_POLL_OPTION: Tier.MODERATOR,
    Action.SEE_POLL_RESULTS: Tier.MODERATOR,
    Action.SEE_POLL_VOTERS: Tier.MODERATOR,
    Action.CREATE_EVENT: Tier.MODERATOR,
    Action.CREATE_QUICK_EVENT: Tier.MODERATOR,
    Action.MANAGE_EVENT: Tier.MODERATOR,
    Action.SEE_EVENT_ATTENDEES: Tier.MODERATOR,
}

READ_ACTIONS = frozenset(
    {Action.VIEW, Action.SEE_POLL_RESULTS, Action.SEE_POLL_VOTERS, Action.SEE_EVENT_ATTENDEES}
)

ObjectRule = Callable[[Membership, Any], bool]


def is_author(membership: Membership, obj: Any) -> bool:
    """The member wrote the object (a poll's ``author``): they run it."""
    return obj.author_id is not None and obj.author_id == membership.user_id


def poll_allows_member_options(membership: Membership, obj: Any) -> bool:
    """The poll lets every member add options."""
    return bool(obj.allow_member_options)


def poll_voters_visible(membership: Membership, obj: Any) -> bool:
    """The poll shows every member who voted what (its ``voters_visible`` setting)."""
    return bool(obj.voters_visible)


def is_organizer(membership: Membership, obj: Any) -> bool:
    """The member created the event or was added as one of its organizers."""
    return obj.is_organizer(membership.user_id)


def event_attendees_visible(membership: Membership, obj: Any) -> bool:
    """Every member sees who signed up: a quick 接龙 always, a full event when it says so."""
    return obj.mode == "quick" or bool(obj.attendees_visible)


# Who may do an object action below its tier floor: any rule that holds lets them.
# Later: ``MOVE_TASK: (is_assignee,)``.
_OBJECT_RULES: dict[Action, tuple[ObjectRule, ...]] = {
    Action.MANAGE_POLL: (is_author,),
    Action.ADD_POLL_OPTION: (is_author, poll_allows_member_options),
    Action.SEE_POLL_RESULTS: (is_author,),
    Action.SEE_POLL_VOTERS: (poll_voters_visible,),
    Action.MANAGE_EVENT: (is_organizer,),
    Action.SEE_EVENT_ATTENDEES: (is_organizer, event_attendees_visible),
}


def _required_tier(membership: Membership, action: Action) -> str:
    if action is Action.CREATE_POLL and membership.community.members_can_create_polls:
        return Tier.MEMBER
    if action is Action.CREATE_QUICK_EVENT and membership.community.members_can_create_events:
        return Tier.MEMBER
    return _MIN_TIER[action]


def _object_allows(membership: Membership, action: Action, obj: Any) -> bool:
    rules = _OBJECT_RULES.get(action, ())
    if not rules or obj is None or getattr(obj, "community_id", None) != membership.community_id:
        return False
    return any(rule(membership, obj) for rule in rules)


def _denial(membership: Membership, action: Action, obj: Any = None) -> Forbidden | None:
    """Why ``membership`` may not do ``action`` (to ``obj``), or None when it may."""
    reading = action in READ_ACTIONS
    if not reading and membership.status == MembershipStatus.MUTED:
        return Forbidden(_("You are muted in this community and cannot do this."), code="muted")
    required = _required_tier(membership, action)
    if membership.tier_rank < TIER_RANK[required] and not _object_allows(membership, action, obj):
        return Forbidden(
            _("Only members with the %(tier)s tier or higher can do this.")
            % {"tier": Tier(required).label},
            code="tier_too_low",
        )
    if reading:
        return None
    community = membership.community
    if community.rules_version and membership.rules_accepted_version < community.rules_version:
        return Forbidden(
            _("Please read and accept the group rules first."), code="rules_not_accepted"
        )
    return None


def can(membership: Membership | None, action: Action, *, obj: Any = None) -> bool:
    """True when the holder of ``membership`` may do ``action`` in its community (to ``obj``,
    an object of that community, for the object actions)."""
    if membership is None or membership.status not in VISIBLE_STATUSES:
        return False
    return _denial(membership, action, obj) is None


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


def ensure(membership: Membership | None, action: Action, *, obj: Any = None) -> Membership:
    """``membership`` when its holder may do ``action`` (to ``obj``); raises 404 when it cannot
    see its community and the precise 403 (muted, tier, rules) otherwise. For callers that
    loaded the membership together with the object (one query instead of two)."""
    if membership is None or membership.status not in VISIBLE_STATUSES:
        raise NotFound(_("Community not found."))
    denial = _denial(membership, action, obj)
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
