"""Holding roles: assignment, end and renewal by the admin tiers, volunteering, and terms.

Terms follow the clock: an assignment past ``term_ends_at`` grants nothing from that moment
(``RoleAssignment.objects.active``), whether or not the sweep has recorded its end yet. The
sweep (``roles-terms`` in ``community.schedule``) records ends and reminds holders a week before,
once per term (outbox dedupe key).

Locks: the role row first (it serializes everything that changes who holds it, so
``max_holders`` is never exceeded under concurrency), then the assignment or volunteer row."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure, forget_role_capabilities
from community.errors import Conflict, NotFound
from community.locking import lock_rows
from community.models import Membership, MembershipStatus
from community.services.notifications import notification_enqueue
from community.text import member_text
from community.timezones import localize
from roles.models import EndReason, Role, RoleAssignment, RoleVolunteer, VolunteerStatus
from roles.services.roles import role_get

REMIND_BEFORE = timedelta(days=7)
NOTIFY_TERM_ENDING = "role_term_ending"


def _expire(*, role: Role, now: datetime) -> None:
    """Record the end of the role's terms that ran out (the clock already ended them)."""
    RoleAssignment.objects.filter(
        community_id=role.community_id, role=role, ended_at__isnull=True, term_ends_at__lte=now
    ).update(ended_at=F("term_ends_at"), end_reason=EndReason.TERM_EXPIRED)


def _assign(
    *, actor: Membership | None, role: Role, membership_id: str, now: datetime, **extra
) -> RoleAssignment:
    """Start a term of ``membership_id`` in ``role``. Call inside a transaction holding the
    role's row lock: the holder count read here stays true until commit."""
    target = (
        Membership.objects.filter(pk=membership_id, community_id=role.community_id)
        .select_related("user")
        .first()
    )
    if target is None:
        raise NotFound(_("Member not found."))
    if target.status != MembershipStatus.ACTIVE:
        raise Conflict(_("Only active members can hold a role."), code="not_active_member")
    _expire(role=role, now=now)
    holders = RoleAssignment.objects.filter(
        community_id=role.community_id, role=role, ended_at__isnull=True
    )
    if any(h == target.pk for h in holders.values_list("membership_id", flat=True)):
        raise Conflict(_("This member already holds this role."), code="already_holds_role")
    if role.max_holders is not None and holders.count() >= role.max_holders:
        raise Conflict(
            _("This role already has %(n)d holders, its maximum.") % {"n": role.max_holders},
            code="role_full",
        )
    term_ends_at = extra.pop("term_ends_at", None)
    if term_ends_at is None and role.term_days:
        term_ends_at = now + timedelta(days=role.term_days)
    assignment = RoleAssignment.objects.create(
        community_id=role.community_id,
        role=role,
        membership=target,
        starts_at=now,
        term_ends_at=term_ends_at,
        assigned_by_id=actor.pk if actor is not None else None,
        **extra,
    )
    # An offer the member made for this role is answered by the assignment.
    RoleVolunteer.objects.filter(
        community_id=role.community_id,
        role=role,
        membership=target,
        status=VolunteerStatus.PENDING,
    ).update(
        status=VolunteerStatus.APPROVED,
        decided_at=now,
        decided_by=actor.pk if actor is not None else None,
        assignment=assignment,
    )
    return assignment


def assignment_create(*, actor: Membership, role_id: str, member_id: str) -> RoleAssignment:
    """Give a member a role for one term (admins and the owner). Refused when the member
    holds it already (409 ``already_holds_role``, backed by a partial unique constraint) or
    the role is full (409 ``role_full``)."""
    ensure(actor, Action.MANAGE_ROLES)
    try:
        with transaction.atomic():
            role = role_get(actor=actor, role_id=role_id, lock=True)
            return _assign(actor=actor, role=role, membership_id=member_id, now=timezone.now())
    except IntegrityError as exc:
        raise Conflict(
            _("This member already holds this role."), code="already_holds_role"
        ) from exc


def _assignment_locked(*, actor: Membership, assignment_id: str) -> RoleAssignment:
    """The assignment (of a live role of the actor's community) with its role locked first,
    then its own row. Call inside a transaction."""
    found = (
        RoleAssignment.objects.filter(pk=assignment_id, community_id=actor.community_id)
        .values_list("role_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound(_("Role assignment not found."))
    role = role_get(actor=actor, role_id=found, lock=True)
    assignment = lock_rows(
        RoleAssignment.objects.filter(pk=assignment_id, community_id=actor.community_id)
    ).get()
    assignment.role = role
    return assignment


@transaction.atomic
def assignment_end(*, actor: Membership, assignment_id: str) -> RoleAssignment:
    """End a term now (admins and the owner); it stays in the history with who ended it."""
    ensure(actor, Action.MANAGE_ROLES)
    assignment = _assignment_locked(actor=actor, assignment_id=assignment_id)
    now = timezone.now()
    if not assignment.is_active(now):
        raise Conflict(_("This term has already ended."), code="assignment_ended")
    assignment.ended_at = now
    assignment.end_reason = EndReason.ENDED
    assignment.ended_by_id = actor.pk
    assignment.save(update_fields=["ended_at", "end_reason", "ended_by"])
    return assignment


@transaction.atomic
def assignment_renew(*, actor: Membership, assignment_id: str) -> RoleAssignment:
    """Renew a term (admins and the owner): the current term ends (``renewed``) and a new one
    follows it, ending one role term later than the old end (or than now, if it had ended).
    Only the latest term of a holder may be renewed, and only for a role with a term length
    (409 ``not_renewable``); the history keeps both terms, linked by ``renewed_from``."""
    ensure(actor, Action.MANAGE_ROLES)
    old = _assignment_locked(actor=actor, assignment_id=assignment_id)
    role = old.role
    now = timezone.now()
    latest = (
        RoleAssignment.objects.filter(
            community_id=role.community_id, role=role, membership_id=old.membership_id
        )
        .order_by("-starts_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    renewable_end = old.end_reason in ("", EndReason.TERM_EXPIRED)
    if not role.term_days or latest != old.pk or not renewable_end:
        raise Conflict(_("This term cannot be renewed."), code="not_renewable")
    base = old.term_ends_at if old.term_ends_at and old.term_ends_at > now else now
    if old.ended_at is None:
        if old.is_active(now):
            old.ended_at, old.end_reason = now, EndReason.RENEWED
            old.ended_by_id = actor.pk
        else:
            old.ended_at, old.end_reason = old.term_ends_at, EndReason.TERM_EXPIRED
        old.save(update_fields=["ended_at", "end_reason", "ended_by"])
    renewed = _assign(
        actor=actor,
        role=role,
        membership_id=old.membership_id,
        now=now,
        term_ends_at=base + timedelta(days=role.term_days),
        renewed_from=old,
    )
    return renewed


def assignments_end_for_member(*, membership: Membership, reason: str = EndReason.LEFT) -> int:
    """End every open term of a member who left or was banned: a role does not wait for them
    to come back. Call inside the transaction that changes their status."""
    forget_role_capabilities(membership)
    return RoleAssignment.objects.filter(
        community_id=membership.community_id, membership=membership, ended_at__isnull=True
    ).update(ended_at=timezone.now(), end_reason=reason)


# --- volunteering ---------------------------------------------------------------------------
def volunteer_create(*, membership: Membership, role_id: str, message: str = "") -> RoleVolunteer:
    """A member offers to take a role; an admin approves or refuses. Offering again while an
    offer waits returns that offer (idempotent); holding the role already answers 409
    ``already_holds_role``. The message is read by the admins only."""
    ensure(membership, Action.PARTICIPATE)
    role = role_get(actor=membership, role_id=role_id)
    message = member_text(message or "", field="message", blank=True)
    if (
        RoleAssignment.objects.active()
        .filter(community_id=role.community_id, role=role, membership=membership)
        .exists()
    ):
        raise Conflict(_("You already hold this role."), code="already_holds_role")
    pending = RoleVolunteer.objects.filter(
        community_id=role.community_id,
        role=role,
        membership=membership,
        status=VolunteerStatus.PENDING,
    )
    existing = pending.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return RoleVolunteer.objects.create(
                community_id=role.community_id, role=role, membership=membership, message=message
            )
    except IntegrityError:  # the same offer arrived twice at once
        return pending.get()


def _volunteer_locked(*, actor: Membership, volunteer_id: str) -> RoleVolunteer:
    """The pending offer, with its role locked first. Call inside a transaction."""
    role_id = (
        RoleVolunteer.objects.filter(pk=volunteer_id, community_id=actor.community_id)
        .values_list("role_id", flat=True)
        .first()
    )
    if role_id is None:
        raise NotFound(_("Volunteer offer not found."))
    role = role_get(actor=actor, role_id=role_id, lock=True)
    volunteer = lock_rows(
        RoleVolunteer.objects.filter(pk=volunteer_id, community_id=actor.community_id)
    ).get()
    if volunteer.status != VolunteerStatus.PENDING:
        raise Conflict(_("This offer has already been answered."), code="volunteer_decided")
    volunteer.role = role
    return volunteer


@transaction.atomic
def volunteer_approve(*, actor: Membership, volunteer_id: str) -> RoleVolunteer:
    """Approve an offer: the member's term starts now (same rules as an assignment)."""
    ensure(actor, Action.MANAGE_ROLES)
    volunteer = _volunteer_locked(actor=actor, volunteer_id=volunteer_id)
    assignment = _assign(
        actor=actor,
        role=volunteer.role,
        membership_id=volunteer.membership_id,
        now=timezone.now(),
    )
    volunteer.refresh_from_db()
    volunteer.assignment = assignment
    return volunteer


@transaction.atomic
def volunteer_refuse(*, actor: Membership, volunteer_id: str) -> RoleVolunteer:
    """Refuse an offer; it stays in the history."""
    ensure(actor, Action.MANAGE_ROLES)
    volunteer = _volunteer_locked(actor=actor, volunteer_id=volunteer_id)
    volunteer.status = VolunteerStatus.REFUSED
    volunteer.decided_at = timezone.now()
    volunteer.decided_by_id = actor.pk
    volunteer.save(update_fields=["status", "decided_at", "decided_by"])
    return volunteer


def volunteer_withdraw(*, membership: Membership, role_id: str) -> None:
    """Withdraw my waiting offer for a role; a no-op when there is none."""
    ensure(membership, Action.VIEW)
    role = role_get(actor=membership, role_id=role_id)
    RoleVolunteer.objects.filter(
        community_id=role.community_id,
        role=role,
        membership=membership,
        status=VolunteerStatus.PENDING,
    ).update(status=VolunteerStatus.WITHDRAWN, decided_at=timezone.now())


# --- terms (clock-driven) -------------------------------------------------------------------
def assignments_expire_due(*, now: datetime | None = None) -> int:
    """Sweep: record the end of every term past its date (they already grant nothing)."""
    now = now or timezone.now()
    return RoleAssignment.objects.filter(ended_at__isnull=True, term_ends_at__lte=now).update(
        ended_at=F("term_ends_at"), end_reason=EndReason.TERM_EXPIRED
    )


def assignments_remind_due(*, now: datetime | None = None) -> int:
    """Sweep: remind each holder whose term ends within a week, once per term. The outbox's
    dedupe key (kind and assignment) makes a second run, or a second worker, queue nothing;
    ``reminded_at`` only keeps the sweep's candidate list short."""
    now = now or timezone.now()
    due = (
        RoleAssignment.objects.active(now)
        .filter(reminded_at__isnull=True, term_ends_at__lte=now + REMIND_BEFORE)
        .select_related("role", "community", "membership__user")
        .order_by("term_ends_at", "pk")[:500]
    )
    queued = 0
    for assignment in due:
        with transaction.atomic():
            sent = notification_enqueue(
                community=assignment.community,
                recipient=assignment.membership.user,
                kind=NOTIFY_TERM_ENDING,
                object_key=f"role_assignment:{assignment.pk}",
                data={
                    "thing1": assignment.role.name[:20],
                    "time2": localize(assignment.term_ends_at, assignment.community).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                },
                page=f"pages/roles/detail?id={assignment.role_id}",
            )
            RoleAssignment.objects.filter(pk=assignment.pk).update(reminded_at=now)
        queued += sent is not None
    return queued
