"""Inactive members (僵尸粉), fairly: found by the community's rule, asked "还在吗?" once per
round, cleared by any activity, listed for the admin tiers after the grace period, removed in
bulk with a reason through the community's own membership service, welcome to come back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from community.audit import audit_context
from community.authz import Action, ensure
from community.errors import DomainError
from community.models import Community, Membership, MembershipStatus, Tier
from community.services.communities import membership_remove
from community.services.notifications import notification_enqueue, notification_enqueue_many
from community.text import member_text
from insights.models import InactiveRound, InsightsSettings, ProtectedMember

KIND = "still_here"
MAX_REMOVALS = 200


def _rules(community_ids) -> dict[str, InsightsSettings]:
    found = {
        s.community_id: s for s in InsightsSettings.objects.filter(community_id__in=community_ids)
    }
    return {cid: found.get(cid) or InsightsSettings(community_id=cid) for cid in community_ids}


def inactive_candidates(*, community: Community, rules: InsightsSettings, now: datetime):
    """Present members without activity for ``inactive_after_days`` and without an open round,
    except the owner, holders of an active role and protected members."""
    from roles.models import RoleAssignment

    roles = RoleAssignment.objects.active(now).filter(
        community_id=community.pk, membership_id=OuterRef("pk")
    )
    protected = ProtectedMember.objects.filter(
        community_id=community.pk, user_id=OuterRef("user_id")
    )
    open_round = InactiveRound.objects.filter(
        community_id=community.pk,
        membership_id=OuterRef("pk"),
        cleared_at__isnull=True,
        removed_at__isnull=True,
    )
    return (
        Membership.objects.filter(
            community_id=community.pk,
            status=MembershipStatus.ACTIVE,
            last_active_at__lt=now - timedelta(days=rules.inactive_after_days),
        )
        .exclude(tier=Tier.OWNER)
        .exclude(Exists(roles))
        .exclude(Exists(protected))
        .exclude(Exists(open_round))
    )


def inactive_rounds_run(*, now: datetime | None = None) -> dict[str, int]:
    """The daily pass: close the open rounds of members who were active since (any activity
    clears), then open a round for each new candidate and queue their "还在吗?" once (the
    outbox key names the round). Safe to run twice: a member has at most one open round."""
    now = now or timezone.now()
    cleared = InactiveRound.objects.filter(
        cleared_at__isnull=True,
        removed_at__isnull=True,
        membership__last_active_at__gt=F("last_active_at"),
    ).update(cleared_at=now)
    cleared += (
        InactiveRound.objects.filter(cleared_at__isnull=True, removed_at__isnull=True)
        .exclude(membership__status=MembershipStatus.ACTIVE)
        .update(cleared_at=now)
    )
    communities = list(Community.objects.all().only("id", "name", "time_zone"))
    rules = _rules([c.pk for c in communities])
    opened = 0
    for community in communities:
        candidates = inactive_candidates(
            community=community, rules=rules[community.pk], now=now
        ).values_list("pk", "user_id", "last_active_at")
        batch: list[tuple[str, str, datetime]] = []
        for row in candidates.iterator(chunk_size=ROUND_BATCH):
            batch.append(row)
            if len(batch) == ROUND_BATCH:
                opened += _rounds_open(community, batch, now)
                batch = []
        if batch:
            opened += _rounds_open(community, batch, now)
    return {"cleared": cleared, "opened": opened}


#: Rounds opened (and messages queued) per statement.
ROUND_BATCH = 500


def _rounds_open(community: Community, batch: list[tuple[str, str, datetime]], now) -> int:
    """Open a round for each ``(membership id, user id, last active)`` and queue their "还在吗?"
    (outbox key per round), in one transaction of two statements: a member whose round a
    parallel run opened first is skipped by ``ON CONFLICT DO NOTHING`` on the one-open-round
    constraint, and gets no second message."""
    table = InactiveRound._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s, %s, '')"] * len(batch))
    params: list = []
    for membership_id, user_id, last_active_at in batch:
        params += [community.pk, membership_id, user_id, now, last_active_at]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (community_id, membership_id, user_id, started_at, "  # noqa: S608
                f"last_active_at, reason) VALUES {rows} ON CONFLICT DO NOTHING "
                "RETURNING id, user_id",
                params,
            )
            opened = cursor.fetchall()
        if opened:
            notification_enqueue_many(
                community_id=community.pk,
                recipient_ids=[user_id for _id, user_id in opened],
                kind=KIND,
                object_key="inactive",
                dedupe_keys={user_id: f"{KIND}:{round_id}" for round_id, user_id in opened},
                data={
                    "thing1": community.name[:20],
                    "thing2": _("Still here? Open the group to say hi."),
                },
                page=f"pages/insights/still-here?id={community.pk}",
            )
    return len(opened)


def cleanup_list(*, actor: Membership, now: datetime | None = None):
    """The open rounds past the grace period of ``actor``'s community (admin tiers only),
    longest inactive first."""
    ensure(actor, Action.MANAGE_INACTIVE)
    now = now or timezone.now()
    rules = _rules([actor.community_id])[actor.community_id]
    return (
        InactiveRound.objects.filter(
            community_id=actor.community_id,
            cleared_at__isnull=True,
            removed_at__isnull=True,
            started_at__lte=now - timedelta(days=rules.grace_days),
            membership__status=MembershipStatus.ACTIVE,
            membership__last_active_at__lte=F("last_active_at"),
        )
        .select_related("user", "membership")
        .order_by("last_active_at", "pk")
    )


def cleanup_text(*, actor: Membership, now: datetime | None = None) -> str:
    """The clean-up list as text to remove the members by hand in WeChat (nicknames)."""
    rows = list(cleanup_list(actor=actor, now=now))
    lines = [_("Members to remove from the WeChat group (%(n)d):") % {"n": len(rows)}]
    lines += [f"{i}. {r.user}" for i, r in enumerate(rows, start=1)]
    return "\n".join(lines)


@dataclass
class RemovalResult:
    removed: list[str]
    skipped: list[str]


def inactive_remove(
    *, actor: Membership, membership_ids: list[str], reason: str, now: datetime | None = None
) -> RemovalResult:
    """Mark the listed members removed, each through the community's membership service (so
    its audit records the status change), the reason kept on their round. Only members of the
    clean-up list are removed; others (active meanwhile, not listed) are skipped."""
    ensure(actor, Action.MANAGE_INACTIVE)
    reason = member_text(reason, field="reason", max_length=200)
    ids = list(dict.fromkeys(membership_ids))
    if not ids or len(ids) > MAX_REMOVALS:
        raise DomainError(
            _("Name between 1 and %(n)d members.") % {"n": MAX_REMOVALS},
            code="invalid_membership_ids",
            field="membership_ids",
        )
    now = now or timezone.now()
    listed = {
        r.membership_id: r for r in cleanup_list(actor=actor, now=now).filter(membership_id__in=ids)
    }
    result = RemovalResult(removed=[], skipped=[])
    for membership_id in ids:
        round_ = listed.get(membership_id)
        if round_ is None:
            result.skipped.append(membership_id)
            continue
        # The audit log's status change names the admin and carries the reason.
        with transaction.atomic(), audit_context(actor=actor, reason=reason):
            membership_remove(actor=actor, target_id=membership_id, reason=reason)
            InactiveRound.objects.filter(pk=round_.pk).update(
                removed_at=now, removed_by_id=actor.user_id, reason=reason
            )
        result.removed.append(membership_id)
    return result


WELCOME_BACK = "welcome_back"


def inactive_member_returned(*, membership: Membership) -> InactiveRound | None:
    """A member removed by the clean-up came back (share card or invite code; the join
    service calls this inside its transaction, the membership row locked): their history was
    kept, the round records the return, and they get one "welcome back" message (outbox key
    per round, so once). None when their last leaving was not an inactive clean-up."""
    round_ = (
        InactiveRound.objects.filter(
            community_id=membership.community_id,
            membership_id=membership.pk,
            removed_at__isnull=False,
            returned_at__isnull=True,
        )
        .order_by("-removed_at")
        .first()
    )
    if round_ is None:
        return None
    round_.returned_at = timezone.now()
    round_.save(update_fields=["returned_at"])
    notification_enqueue(
        community=membership.community,
        recipient=membership.user,
        kind=WELCOME_BACK,
        object_key=f"inactive:{membership.pk}",
        dedupe_key=f"{WELCOME_BACK}:{round_.pk}",
        data={
            "thing1": membership.community.name[:20],
            "thing2": _("Welcome back! Your history is still here."),
        },
        page=f"pages/insights/still-here?id={membership.community_id}",
    )
    return round_


@dataclass
class StillHere:
    """What the "still there?" page shows a member: an open question, or a welcome back."""

    asked: bool
    asked_at: datetime | None
    welcome_back: bool


#: A member who came back sees the welcome on the page this long.
WELCOME_DAYS = 7


def still_here_state(*, membership: Membership, now: datetime | None = None) -> StillHere:
    """The member's own "still there?" state (the in-app page behind the subscribe message,
    for members who gave no consent for it)."""
    now = now or timezone.now()
    open_round = (
        InactiveRound.objects.filter(
            community_id=membership.community_id,
            membership_id=membership.pk,
            cleared_at__isnull=True,
            removed_at__isnull=True,
            membership__last_active_at__lte=F("last_active_at"),
        )
        .only("started_at")
        .first()
    )
    returned = InactiveRound.objects.filter(
        community_id=membership.community_id,
        membership_id=membership.pk,
        returned_at__gte=now - timedelta(days=WELCOME_DAYS),
    ).exists()
    return StillHere(
        asked=open_round is not None,
        asked_at=open_round.started_at if open_round else None,
        welcome_back=returned,
    )


def still_here_confirm(*, membership: Membership, now: datetime | None = None) -> StillHere:
    """ "I'm here": counts as a visit and closes the member's open round at once (any activity
    would, at the next daily run; the tap says so now). Idempotent."""
    from insights.recording import activity_record

    now = now or timezone.now()
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk, last_active_at__lt=now).update(
            last_active_at=now
        )
        InactiveRound.objects.filter(
            community_id=membership.community_id,
            membership_id=membership.pk,
            cleared_at__isnull=True,
            removed_at__isnull=True,
        ).update(cleared_at=now)
        activity_record(
            community_id=membership.community_id, user_id=membership.user_id, kind="visit"
        )
    return still_here_state(membership=membership, now=now)
