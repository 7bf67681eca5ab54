"""Reads of the roles app; the query shape of each list is decided here (never imports
services)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from community.authz import VISIBLE_STATUSES, Action, can, ensure, visible_membership
from community.errors import NotFound
from community.models import Membership, User
from moderation.selectors import without_held
from roles.models import Role, RoleAssignment, RoleVolunteer, VolunteerStatus

ACTIVE_ROLES_ATTR = "active_role_assignments"


def active_assignments() -> QuerySet[RoleAssignment]:
    """Terms that grant their role now (open, inside their term, role not deleted)."""
    return RoleAssignment.objects.active().filter(role__deleted_at__isnull=True)


def with_active_roles(qs: QuerySet[Membership]) -> QuerySet[Membership]:
    """Memberships with their active terms (and roles) prefetched in one more query, as
    ``active_role_assignments``: what profiles show."""
    return qs.prefetch_related(
        Prefetch(
            "role_assignments",
            queryset=active_assignments().select_related("role").order_by("role__created_at"),
            to_attr=ACTIVE_ROLES_ATTR,
        )
    )


def roles_of_membership(membership: Membership) -> list[RoleAssignment]:
    """The member's active terms: prefetched when the list asked for them, else one query."""
    prefetched = getattr(membership, ACTIVE_ROLES_ATTR, None)
    if prefetched is not None:
        return prefetched
    if membership.pk is None:
        return []
    rows = list(
        active_assignments()
        .filter(community_id=membership.community_id, membership_id=membership.pk)
        .select_related("role")
        .order_by("role__created_at")
    )
    setattr(membership, ACTIVE_ROLES_ATTR, rows)
    return rows


def role_list(*, viewer: Membership) -> QuerySet[Role]:
    """The live roles of the viewer's community with their current holders (one query for
    the roles, one for every holder of the page)."""
    holders = (
        active_assignments()
        .filter(community_id=viewer.community_id, membership__status__in=VISIBLE_STATUSES)
        .select_related("membership__user")
        .order_by("starts_at", "pk")
    )
    roles = Role.objects.filter(community_id=viewer.community_id, deleted_at__isnull=True)
    if not can(viewer, Action.MANAGE_ROLES):  # a role WeChat's check held: its admins only
        roles = without_held(roles, community_id=viewer.community_id, target_kind="role")
    return roles.prefetch_related(
        Prefetch("assignments", queryset=holders, to_attr="holders")
    ).order_by("created_at", "pk")


def my_pending_role_ids(*, viewer: Membership) -> set[str]:
    """Roles the viewer has offered to take and waits for an answer on."""
    return set(
        RoleVolunteer.objects.filter(
            community_id=viewer.community_id,
            membership_id=viewer.pk,
            status=VolunteerStatus.PENDING,
        ).values_list("role_id", flat=True)
    )


def role_for_member(
    *, user: User, role_id: str, action: Action = Action.VIEW
) -> tuple[Role, Membership]:
    """A live role and the user's membership in its community; 404 when the user cannot see
    that community (or the role is gone), 403 when they may not do ``action`` there."""
    community_id = (
        Role.objects.filter(pk=role_id, deleted_at__isnull=True)
        .values_list("community_id", flat=True)
        .first()
    )
    if community_id is None:
        raise NotFound(_("Role not found."))
    try:
        membership = visible_membership(user, community_id)
    except NotFound:
        raise NotFound(_("Role not found.")) from None
    ensure(membership, action)
    role = role_list(viewer=membership).filter(pk=role_id).first()
    if role is None:  # held back by moderation
        raise NotFound(_("Role not found."))
    return role, membership


def assignment_community(*, assignment_id: str) -> str | None:
    return (
        RoleAssignment.objects.filter(pk=assignment_id)
        .values_list("community_id", flat=True)
        .first()
    )


def volunteer_community(*, volunteer_id: str) -> str | None:
    return (
        RoleVolunteer.objects.filter(pk=volunteer_id).values_list("community_id", flat=True).first()
    )


def assignment_history(*, role: Role) -> QuerySet[RoleAssignment]:
    """Every term of a role, newest first: the role's history (never deleted)."""
    return (
        RoleAssignment.objects.filter(community_id=role.community_id, role=role)
        .select_related("role", "membership__user")
        .order_by("-starts_at", "-pk")
    )


def volunteer_list(*, role: Role, status: str | None = VolunteerStatus.PENDING):
    """Offers for a role, newest first (pending ones unless ``status`` says otherwise)."""
    qs = RoleVolunteer.objects.filter(community_id=role.community_id, role=role)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("membership__user").order_by("-created_at", "-pk")


def my_roles(*, user: User) -> QuerySet[RoleAssignment]:
    """My active terms across every community I can see, the soonest end first."""
    return (
        active_assignments()
        .filter(membership__user=user, membership__status__in=VISIBLE_STATUSES)
        .select_related("role", "community", "membership")
        .order_by("starts_at", "pk")
    )
