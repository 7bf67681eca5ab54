"""Roles: named jobs in a community (内容整理, 活动策划, ...) held by members for a term.

A :class:`Role` grants capabilities (``roles.capabilities.Capability``) on top of a member's
tier; ``community.authz`` turns them into permissions. A :class:`RoleAssignment` is one term of
one member in one role; it is never deleted, so the assignments of a role are its history (who
held it, from when, until when, why it ended and who ended it). A :class:`RoleVolunteer` is a
member's request to take a role, which an admin approves or refuses.

Every table carries ``community_id`` and its unique constraints include it (sharding by
community, see DESIGN.md).
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import PublicIdField
from roles.capabilities import CAPABILITY_VALUES, Capability

ROLE_NAME_MAX = 30


class Role(models.Model):
    """A named job in one community, the capabilities it grants, how many members may hold it
    at once (``max_holders``; empty: no limit) and how long one term lasts (``term_days``;
    empty: until ended).

    A role is deleted softly (``deleted_at``): its assignments are history and stay; deleting
    ends the open ones. A deleted role's name may be used again."""

    id = PublicIdField()
    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="roles"
    )
    name = models.CharField(_("name"), max_length=ROLE_NAME_MAX)
    description = models.TextField(_("description"), blank=True, default="")
    capabilities = models.JSONField(_("capabilities"), default=list, blank=True)
    max_holders = models.PositiveSmallIntegerField(
        _("maximum holders"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    term_days = models.PositiveSmallIntegerField(
        _("term length (days)"), null=True, blank=True, help_text=_("Empty: no end date.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"],
                condition=Q(deleted_at__isnull=True),
                name="role_name_unique_in_community",
            ),
            models.CheckConstraint(
                condition=Q(max_holders__isnull=True) | Q(max_holders__gte=1),
                name="role_max_holders_positive",
            ),
            models.CheckConstraint(
                condition=Q(term_days__isnull=True) | Q(term_days__gte=1),
                name="role_term_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def capability_set(self) -> frozenset[Capability]:
        return frozenset(Capability(c) for c in self.capabilities if c in CAPABILITY_VALUES)


class EndReason(models.TextChoices):
    """Why an assignment ended."""

    ENDED = "ended", _("Ended by an admin")
    TERM_EXPIRED = "term_expired", _("Term expired")
    RENEWED = "renewed", _("Renewed (a new term follows)")
    ROLE_DELETED = "role_deleted", _("Role deleted")
    LEFT = "left", _("Left the community")


class AssignmentQuerySet(models.QuerySet):
    """Which assignments grant their role *now*: state follows from the clock, so a term past
    its end grants nothing even before the sweep records its end."""

    def active(self, now: datetime | None = None) -> AssignmentQuerySet:
        now = now or timezone.now()
        return self.filter(ended_at__isnull=True, starts_at__lte=now).filter(
            Q(term_ends_at__isnull=True) | Q(term_ends_at__gt=now)
        )


class RoleAssignment(models.Model):
    """One term of one member in one role. Never deleted: ending sets ``ended_at``,
    ``end_reason`` and ``ended_by``; a renewal ends the term (``renewed``) and opens the next
    one (``renewed_from``).

    An assignment is *open* while ``ended_at`` is empty (at most one open assignment per member
    and role: a partial unique constraint) and *active* while open and before ``term_ends_at``
    (see :meth:`AssignmentQuerySet.active`)."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(Role, on_delete=models.RESTRICT, related_name="assignments")
    membership = models.ForeignKey(
        "community.Membership",
        on_delete=models.RESTRICT,
        related_name="role_assignments",
        verbose_name=_("holder"),
    )
    starts_at = models.DateTimeField(_("starts at"), default=timezone.now)
    term_ends_at = models.DateTimeField(_("term ends at"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        "community.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    # At most one renewal per term: a unique constraint with community_id (Citus), not a
    # one-to-one key (whose unique index could not hold it).
    renewed_from = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name=_("renewal of"),
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(
        _("end reason"), max_length=16, choices=EndReason.choices, blank=True, default=""
    )
    ended_by = models.ForeignKey(
        "community.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["-starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "role", "membership"],
                condition=Q(ended_at__isnull=True),
                name="role_assignment_one_open_per_member",
            ),
            models.UniqueConstraint(
                fields=["community", "renewed_from"], name="role_assignment_one_renewal"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, end_reason="")
                | Q(ended_at__isnull=False) & ~Q(end_reason=""),
                name="role_assignment_end_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(term_ends_at__isnull=True) | Q(term_ends_at__gt=models.F("starts_at")),
                name="role_assignment_term_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["membership", "ended_at"], name="role_assignment_member_open"),
            models.Index(
                fields=["community", "role", "ended_at"], name="role_assignment_role_open"
            ),
            models.Index(fields=["ended_at", "term_ends_at"], name="role_assignment_term"),
        ]

    def __str__(self) -> str:
        return f"{self.role_id} / {self.membership_id}"

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.ended_at is None
            and self.starts_at <= now
            and (self.term_ends_at is None or self.term_ends_at > now)
        )


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RoleVolunteer(models.Model):
    """A member offers to take a role; an admin approves (an assignment starts) or refuses.
    At most one pending offer per member and role (partial unique constraint); decided offers
    stay as history."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="volunteers")
    membership = models.ForeignKey(
        "community.Membership",
        on_delete=models.CASCADE,
        related_name="role_volunteers",
        verbose_name=_("member"),
    )
    message = models.CharField(_("message"), max_length=200, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "community.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    # At most one volunteer per assignment (a unique constraint with community_id, see above).
    assignment = models.ForeignKey(
        RoleAssignment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteerings",
        verbose_name=_("assignment"),
    )

    class Meta:
        verbose_name = _("role volunteer")
        verbose_name_plural = _("role volunteers")
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "role", "membership"],
                condition=Q(status="pending"),
                name="role_volunteer_one_pending_per_member",
            ),
            models.UniqueConstraint(
                fields=["community", "assignment"], name="role_volunteer_one_per_assignment"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in VolunteerStatus]),
                name="role_volunteer_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} → {self.role_id}"
