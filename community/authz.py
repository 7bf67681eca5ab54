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
* Roles (``roles.Role``) lift the tier floor too: a member holding an *active* role (open, and
  its term not past its end by the clock) may do the actions its capabilities map to in
  ``CAPABILITY_ACTIONS`` below, the one place that says what a capability opens. A role never
  opens an action above the admin tier's floor and never ``MANAGE`` (changing tiers stays with
  the tiers); this is checked when this module loads. Like an object rule, a role replaces only
  the tier: muted members and those who have not accepted the rules are still refused.
  The holder's capabilities are read once per membership object, lazily, in one query, and only
  when the tier alone does not allow an action a capability could open (an admin's checks and
  every ``VIEW``/``PARTICIPATE`` check cost no query).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from community import member_store
from community.errors import Forbidden, NotFound
from community.models import Community, Membership, MembershipStatus, Tier, User
from community.models.communities import TIER_RANK
from roles.capabilities import CAPABILITY_VALUES, Capability

VISIBLE_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.MUTED)
_VISIBLE = tuple(str(status) for status in VISIBLE_STATUSES)

M = TypeVar("M", bound=Model)


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
    # --- opened by role capabilities too (see ``CAPABILITY_ACTIONS``) ---
    MANAGE_SURVEYS = "manage_surveys"  # author, publish, close surveys; reports and exports
    APPROVE_JOINS = "approve_joins"  # let pending members in
    MANAGE_BOARDS = "manage_boards"  # edit task boards, columns and every task (roles app)
    MODERATE_CONTENT = "moderate_content"  # hide reported content (the moderation app)
    VIEW_ANALYTICS = "view_analytics"  # participation dashboards (the insights app)
    VIEW_MEMBER_TIMELINE = "view_member_timeline"  # one member's activity (admin tiers only)
    MANAGE_INACTIVE = "manage_inactive"  # the inactive-member clean-up list (admin tiers only)
    MANAGE_ROLES = "manage_roles"  # define roles, assign, end, renew, decide on volunteers
    MOVE_TASK = "move_task"  # move a task on its board (board editors; its assignees)
    TICK_CHECKLIST = "tick_checklist"  # tick a task's checklist (board editors; its assignees)
    CREATE_EVENT = "create_event"  # create a full event (moderators)
    CREATE_QUICK_EVENT = "create_quick_event"  # start a 接龙 (moderators; members if allowed)
    MANAGE_EVENT = "manage_event"  # edit, cancel an event, approve, see attendees, check in
    SEE_EVENT_ATTENDEES = "see_event_attendees"  # the attendee list of a full event
    VIEW_AUDIT_LOG = "view_audit_log"  # the audit log of moderation, tiers, roles (admins)
    MANAGE_ANNOUNCEMENTS = "manage_announcements"  # write announcements, categories, reminders
    VIEW_CONTENT_CALENDAR = "view_content_calendar"  # scheduled and past posts with read rates
    VIEW_NEWCOMERS = "view_newcomers"  # the newcomers of the week (the welcome role)
    VIEW_WEEKLY_DIGEST = "view_weekly_digest"  # the Monday digest (insights; admin tiers only)
    CREATE_DRAW = "create_draw"  # start a lucky draw (admin tiers; the manage-events role)
    MANAGE_DRAW = "manage_draw"  # draw now, see the named entry list, export it (its organizer)
    MANAGE_FAQ = "manage_faq"  # write the assistant's FAQ entries and keyword rules
    VIEW_ASSISTANT_STATS = "view_assistant_stats"  # the assistant's statistics (top, unanswered)
    ANSWER_CONVERSATIONS = "answer_conversations"  # the assistant's hand-over queue


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
    Action.MANAGE_SURVEYS: Tier.MODERATOR,
    Action.APPROVE_JOINS: Tier.MODERATOR,
    Action.MANAGE_BOARDS: Tier.ADMIN,
    Action.MODERATE_CONTENT: Tier.MODERATOR,
    Action.VIEW_ANALYTICS: Tier.ADMIN,
    Action.VIEW_MEMBER_TIMELINE: Tier.ADMIN,
    Action.MANAGE_INACTIVE: Tier.ADMIN,
    Action.MANAGE_ROLES: Tier.ADMIN,
    Action.MOVE_TASK: Tier.ADMIN,
    Action.TICK_CHECKLIST: Tier.ADMIN,
    Action.CREATE_EVENT: Tier.MODERATOR,
    Action.CREATE_QUICK_EVENT: Tier.MODERATOR,
    Action.MANAGE_EVENT: Tier.MODERATOR,
    Action.SEE_EVENT_ATTENDEES: Tier.MODERATOR,
    Action.VIEW_AUDIT_LOG: Tier.ADMIN,
    Action.MANAGE_ANNOUNCEMENTS: Tier.ADMIN,
    Action.VIEW_CONTENT_CALENDAR: Tier.MODERATOR,
    Action.VIEW_NEWCOMERS: Tier.ADMIN,
    Action.VIEW_WEEKLY_DIGEST: Tier.ADMIN,
    Action.CREATE_DRAW: Tier.ADMIN,
    Action.MANAGE_DRAW: Tier.ADMIN,
    Action.MANAGE_FAQ: Tier.ADMIN,
    Action.VIEW_ASSISTANT_STATS: Tier.ADMIN,
    Action.ANSWER_CONVERSATIONS: Tier.MODERATOR,
}

#: What each role capability opens, in this one place. A capability only lifts the tier floor
#: of these actions; it never opens ``MANAGE``/``MANAGE_ROLES`` or anything above the admin
#: tier's floor (asserted below).
CAPABILITY_ACTIONS: dict[Capability, frozenset[Action]] = {
    Capability.CREATE_POLLS: frozenset({Action.CREATE_POLL}),
    Capability.MANAGE_SURVEYS: frozenset({Action.MANAGE_SURVEYS}),
    Capability.APPROVE_JOINS: frozenset({Action.APPROVE_JOINS}),
    Capability.MANAGE_EVENTS: frozenset(
        {
            Action.CREATE_EVENT,
            Action.CREATE_QUICK_EVENT,
            Action.MANAGE_EVENT,
            Action.SEE_EVENT_ATTENDEES,
            # lucky draws are run at events: the event planners run them too
            Action.CREATE_DRAW,
            Action.MANAGE_DRAW,
        }
    ),
    Capability.MANAGE_BOARDS: frozenset(
        {Action.MANAGE_BOARDS, Action.MOVE_TASK, Action.TICK_CHECKLIST}
    ),
    Capability.MODERATE_CONTENT: frozenset({Action.MODERATE_CONTENT}),
    Capability.VIEW_ANALYTICS: frozenset({Action.VIEW_ANALYTICS}),
    Capability.PUBLISH_CONTENT: frozenset(
        {
            Action.MANAGE_ANNOUNCEMENTS,
            Action.VIEW_CONTENT_CALENDAR,
            Action.MANAGE_FAQ,
            Action.VIEW_ASSISTANT_STATS,
        }
    ),
    Capability.WELCOME_NEWCOMERS: frozenset({Action.VIEW_NEWCOMERS}),
}

#: Actions no role may open, whatever the catalogue says: they change who may do what.
TIER_ONLY_ACTIONS = frozenset({Action.MANAGE, Action.MANAGE_ROLES})

#: The reverse: which capabilities open an action.
_CAPABILITIES_FOR: dict[Action, frozenset[Capability]] = {
    action: frozenset(c for c, actions in CAPABILITY_ACTIONS.items() if action in actions)
    for action in {a for actions in CAPABILITY_ACTIONS.values() for a in actions}
}


def _check_capability_actions() -> None:
    """A role never grants more than the admin tier can do, nor the power to change tiers."""
    assert set(CAPABILITY_ACTIONS) == set(Capability), "every capability maps to its actions"
    for capability, actions in CAPABILITY_ACTIONS.items():
        for action in actions:
            assert action not in TIER_ONLY_ACTIONS, f"{capability} must not open {action}"
            assert TIER_RANK[_MIN_TIER[action]] <= TIER_RANK[Tier.ADMIN], (
                f"{capability} opens {action}, above the admin tier"
            )


_check_capability_actions()

READ_ACTIONS = frozenset(
    {
        Action.VIEW,
        Action.SEE_POLL_RESULTS,
        Action.SEE_POLL_VOTERS,
        Action.SEE_EVENT_ATTENDEES,
        Action.VIEW_AUDIT_LOG,
        Action.VIEW_ANALYTICS,
        Action.VIEW_MEMBER_TIMELINE,
        Action.VIEW_CONTENT_CALENDAR,
        Action.VIEW_NEWCOMERS,
        Action.VIEW_WEEKLY_DIGEST,
        Action.VIEW_ASSISTANT_STATS,
    }
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


def is_assignee(membership: Membership, obj: Any) -> bool:
    """The member is assigned to the task (or to the checklist item, or its task)."""
    return membership.user_id in obj.assignee_user_ids()


def is_organizer(membership: Membership, obj: Any) -> bool:
    """The member created the event or was added as one of its organizers."""
    return obj.is_organizer(membership.user_id)


def event_attendees_visible(membership: Membership, obj: Any) -> bool:
    """Every member sees who signed up: a quick 接龙 always, a full event when it says so."""
    return obj.mode == "quick" or bool(obj.attendees_visible)


def is_draw_organizer(membership: Membership, obj: Any) -> bool:
    """The member created the lucky draw."""
    return obj.organizer_id is not None and obj.organizer_id == membership.user_id


# Who may do an object action below its tier floor: any rule that holds lets them.
_OBJECT_RULES: dict[Action, tuple[ObjectRule, ...]] = {
    Action.MOVE_TASK: (is_assignee,),
    Action.TICK_CHECKLIST: (is_assignee,),
    Action.MANAGE_POLL: (is_author,),
    Action.ADD_POLL_OPTION: (is_author, poll_allows_member_options),
    Action.SEE_POLL_RESULTS: (is_author,),
    Action.SEE_POLL_VOTERS: (poll_voters_visible,),
    Action.MANAGE_EVENT: (is_organizer,),
    Action.SEE_EVENT_ATTENDEES: (is_organizer, event_attendees_visible),
    Action.MANAGE_DRAW: (is_draw_organizer,),
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


def role_capabilities(membership: Membership) -> frozenset[Capability]:
    """The capabilities of the member's active roles, read in one query and kept on the
    membership object (``forget_role_capabilities`` after changing them in the same request).
    An assignment past its term's end grants nothing even before the sweep records its end."""
    cached = getattr(membership, "_role_capabilities", None)
    if cached is not None:
        return cached
    if membership.pk is None:  # a superuser's unsaved stand-in: the owner tier, no roles
        caps: frozenset[Capability] = frozenset()
    else:
        from roles.models import RoleAssignment  # the app registry is ready by the first check

        rows = (
            RoleAssignment.objects.active()
            .filter(
                community_id=membership.community_id,
                membership_id=membership.pk,
                role__deleted_at__isnull=True,
            )
            .values_list("role__capabilities", flat=True)
        )
        caps = frozenset(Capability(c) for row in rows for c in row or () if c in CAPABILITY_VALUES)
    membership._role_capabilities = caps
    return caps


def forget_role_capabilities(membership: Membership) -> None:
    """Drop the capabilities cached on ``membership`` (its roles changed)."""
    membership.__dict__.pop("_role_capabilities", None)


def _role_allows(membership: Membership, action: Action) -> bool:
    capabilities = _CAPABILITIES_FOR.get(action)
    if not capabilities:
        return False
    return not capabilities.isdisjoint(role_capabilities(membership))


def is_muted_now(membership: Membership) -> bool:
    """Muted, and the mute has not ended: a timed mute ends by itself at ``muted_until``."""
    if membership.status != MembershipStatus.MUTED:
        return False
    return membership.muted_until is None or membership.muted_until > timezone.now()


def _denial(membership: Membership, action: Action, obj: Any = None) -> Forbidden | None:
    """Why ``membership`` may not do ``action`` (to ``obj``), or None when it may."""
    reading = action in READ_ACTIONS
    if not reading and is_muted_now(membership):
        return Forbidden(_("You are muted in this community and cannot do this."), code="muted")
    required = _required_tier(membership, action)
    if (
        membership.tier_rank < TIER_RANK[required]
        and not _object_allows(membership, action, obj)
        and not _role_allows(membership, action)
    ):
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
    """The user's membership in a community they can see, with its community and ``user``
    loaded (one query); 404 otherwise."""
    if not user.is_authenticated:
        raise NotFound(_("Community not found."))
    membership = member_store.membership_of(
        community_id=community_id, user_id=user.pk, statuses=_VISIBLE
    )
    if membership is None:
        raise NotFound(_("Community not found."))
    membership.user = user
    return membership


def visible_object(model: type[M], *, user: User, object_id: str) -> tuple[M, Membership] | None:
    """An object of a community the user can see (a poll, a survey, later an event), with
    that community and the user's membership loaded, in one query; None when the object does
    not exist or the user may not see its community (the caller answers 404 in its own
    words). Check what they may do with :func:`ensure`, which costs no query."""
    if not user.is_authenticated:
        return None
    hold_kind = getattr(model, "hold_kind", None)
    found = member_store.object_with_membership(
        model, object_id=object_id, user_id=user.pk, statuses=_VISIBLE, hold_kind=hold_kind
    )
    if found is None:
        return None
    found[1].user = user
    if hold_kind and found[0].held and not may_see_held(found[1], found[0]):
        return None  # held back by moderation: as invisible as another community's object
    return found


def may_see_held(membership: Membership, obj: Any) -> bool:
    """Held content (WeChat's check said "review" or could not be reached, or a moderator hid
    it) shows only to its author and to those who moderate the community's content; to
    everyone else it does not exist (404). Models that can be held name their moderation
    kind in ``hold_kind`` and ``visible_object`` applies this rule."""
    author_id = getattr(obj, "author_id", None)
    return (author_id is not None and author_id == membership.user_id) or can(
        membership, Action.MODERATE_CONTENT
    )


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
