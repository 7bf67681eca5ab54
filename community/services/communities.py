"""Joining, leaving and running a community."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.audit import audit_context
from community.authz import Action, ensure, is_muted_now, require_over
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.locking import lock_rows
from community.models import (
    Community,
    CommunityKind,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Tier,
    User,
    WeChatSession,
)
from community.models.communities import new_invite_code
from community.rules_templates import BY_KIND
from community.services.content import (
    PASS,
    content_change_passed,
    content_hold_for_review,
    content_screen,
)
from community.services.newcomers import newcomer_welcome
from community.services.rules import rules_version_record
from community.services.tokens import tokens_revoke_all
from community.text import member_text
from community.timezones import time_zone_clean
from community.wechat import decrypt_data
from insights.recording import activity_record

ACTIVITY_GRANULARITY = timedelta(minutes=5)
LEAVABLE_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.MUTED, MembershipStatus.PENDING)
_KEEP = object()


def _join(*, community: Community, user: User, via_group: bool) -> Membership:
    """Join as ``user`` (the audit log names them as who acted); see :func:`_join_as`."""
    with audit_context(actor=Membership(user_id=user.pk)):
        return _join_as(community=community, user=user, via_group=via_group)


def _join_as(*, community: Community, user: User, via_group: bool) -> Membership:
    """Create or revive ``user``'s membership. Call inside a transaction.

    The rule for coming back (by invite code or share card alike): a sanction outlives leaving.
    A banned member cannot re-join (403 ``banned``); a member who left while muted comes back
    muted (``muted_at`` is kept, and a mute's end, once mutes have one, with it), or pending in
    an approval community and muted once approved. Only a moderator's restore lifts a mute.
    Anyone else comes back as a plain member (their former tier is not restored)."""
    if community.join_policy == JoinPolicy.INVITE and via_group:
        raise Forbidden(
            _("This community can only be joined with an invite code."), code="invite_only"
        )
    status = (
        MembershipStatus.PENDING
        if community.join_policy == JoinPolicy.APPROVAL
        else MembershipStatus.ACTIVE
    )
    membership = lock_rows(
        Membership.objects.filter(community=community, user=user).select_related("community")
    ).first()
    now = timezone.now()
    if membership is None:
        try:
            with transaction.atomic():  # a savepoint: the same member may be joining twice at once
                membership = Membership.objects.create(
                    community=community, user=user, status=status, joined_at=now, last_active_at=now
                )
            membership.community = community
            newcomer_welcome(membership=membership)
            return membership
        except IntegrityError:
            # The other request committed first; its row is now visible (READ COMMITTED).
            membership = lock_rows(
                Membership.objects.select_related("community").filter(
                    community=community, user=user
                )
            ).get()
    if membership.status == MembershipStatus.BANNED:
        raise Forbidden(_("You have been banned from this community."), code="banned")
    if membership.status == MembershipStatus.LEFT:
        if status == MembershipStatus.ACTIVE and membership.muted_at is not None:
            status = MembershipStatus.MUTED
        membership.status = status
        membership.tier = Tier.MEMBER
        membership.joined_at = now
        membership.last_active_at = now  # coming back is activity (the inactive rule restarts)
        membership.save(update_fields=["status", "tier", "joined_at", "last_active_at"])
        from insights.services.inactive import inactive_member_returned  # builds on the core

        inactive_member_returned(membership=membership)
    # Once per membership: a member who comes back is not welcomed a second time.
    newcomer_welcome(membership=membership)
    return membership


@transaction.atomic
def community_create(
    *, community: Community, owner: User | None = None, kind: str | None = None
) -> Community:
    """Create a community (an unsaved instance; from a share ticket or the admin), make
    ``owner`` its owner, and give it the suggested roles (内容整理, 活动策划, 新人欢迎, 秩序维护),
    which its admins may edit or delete.

    ``kind`` (work, study, interest) applies that kind's suggestions
    (``community.rules_templates``) to what the instance leaves empty or at its default: the
    purpose, the rules (published as version 1, which the owner accepts) and the join and
    creation settings."""
    from announcements.services import categories_create_defaults  # builds on the core
    from roles.services import roles_create_suggested  # roles builds on the community core

    if kind is not None:
        template = BY_KIND.get(kind)
        if template is None:
            raise DomainError(_("Unknown kind of group."), code="invalid_kind", field="kind")
        community.kind = kind
        community.purpose = community.purpose or template.purpose
        if not community.rules_text:
            community.rules_text = template.rules_text
        for name, value in template.settings.items():
            if getattr(community, name) == Community._meta.get_field(name).get_default():
                setattr(community, name, value)
        if community.rules_text and not community.rules_version:
            community.rules_version = 1
    community.save(force_insert=True)
    if community.rules_version:
        rules_version_record(community=community)
    if owner is not None:
        Membership.objects.create(
            community=community,
            user=owner,
            tier=Tier.OWNER,
            rules_accepted_version=community.rules_version,
        )
    roles_create_suggested(community=community)
    categories_create_defaults(community=community)
    return community


def community_join_by_share_ticket(*, user: User, encrypted_data: str, iv: str) -> Membership:
    """Join the community bound to the WeChat group the member opened the mini-program from.

    The client sends ``encryptedData``/``iv`` from ``wx.getGroupEnterInfo`` (or
    ``wx.getShareInfo``); we decrypt it with the member's stored session_key and trust the
    ``openGId`` only when the watermark names our appid. The first member to arrive from a group
    that has no community yet creates it and becomes its owner."""
    session = WeChatSession.objects.filter(user=user).first()
    if session is None:
        raise DomainError(
            _("Please sign in with WeChat again before joining."), code="no_wechat_session"
        )
    payload = decrypt_data(
        session_key=session.session_key,
        encrypted_data=encrypted_data,
        iv=iv,
        appid=settings.WECHAT_APPID,
    )
    open_gid = payload.get("openGId")
    if not isinstance(open_gid, str) or not open_gid:
        raise DomainError(_("The share information does not name a WeChat group."), code="no_group")
    for _attempt in range(2):
        try:
            with transaction.atomic():
                community = Community.objects.filter(open_gid=open_gid).first()
                if community is None:
                    community = community_create(
                        community=Community(
                            name=_("WeChat group %(suffix)s") % {"suffix": open_gid[-4:]},
                            open_gid=open_gid,
                        ),
                        owner=user,
                    )
                    return Membership.objects.get(community=community, user=user)
                return _join(community=community, user=user, via_group=True)
        except IntegrityError:
            # Another member created the community for this group at the same moment: join it.
            continue
    raise Conflict(_("Please try again."), code="retry")


@transaction.atomic
def community_join_by_invite(*, user: User, invite_code: str) -> Membership:
    """Join with an invite code (typed in or scanned from a share QR code)."""
    community = Community.objects.filter(invite_code=invite_code.strip()).first()
    if community is None:
        raise NotFound(_("No community has this invite code."), code="invalid_invite_code")
    return _join(community=community, user=user, via_group=False)


@transaction.atomic
def community_leave(*, membership: Membership) -> None:
    """Leave a community. The owner must hand ownership over first.

    Leaving keeps a mute (``muted_at`` is not touched, so re-joining brings it back) and is
    refused to a banned member (404, as for anyone who cannot see the community): a ban made
    while the leave was in flight wins, because the update only applies to a row that is still
    active, muted or pending when it runs. Leaving twice is a no-op."""
    with audit_context(actor=membership):
        left = (
            Membership.objects.filter(pk=membership.pk, status__in=LEAVABLE_STATUSES)
            .exclude(tier=Tier.OWNER)
            .update(status=MembershipStatus.LEFT, tier=Tier.MEMBER, left_at=timezone.now())
        )
        if left:
            _end_roles(membership)
            return
    current = Membership.objects.filter(pk=membership.pk).values("status", "tier").first()
    if current and current["tier"] == Tier.OWNER:
        raise Conflict(
            _("The owner cannot leave. Make another member the owner first."),
            code="owner_cannot_leave",
        )
    if current and current["status"] == MembershipStatus.LEFT:
        return
    raise NotFound(_("Community not found."))


def community_accept_rules(*, membership: Membership, version: int) -> Membership:
    """Record that the member accepted the group rules at ``version`` (the current one).

    Only someone who sees the community (an active or muted member) accepts its rules; anyone
    else gets 404 like everywhere else."""
    ensure(membership, Action.VIEW)
    community = membership.community
    if version != community.rules_version:
        raise Conflict(
            _("The group rules have changed. Please read the current version."),
            code="rules_version_changed",
        )
    membership.rules_accepted_version = version
    membership.save(update_fields=["rules_accepted_version"])
    return membership


#: What ``community_update`` may change, and which of it is text WeChat screens first.
COMMUNITY_EDITABLE = {
    "name",
    "description",
    "rules_text",
    "kind",
    "purpose",
    "join_policy",
    "members_can_create_polls",
    "members_can_create_events",
    "time_zone",
}
COMMUNITY_SCREENED = ("name", "description", "purpose", "rules_text")


def community_update(*, actor: Membership, rules_summary: str = "", **fields) -> Community:
    """Edit a community's name, description, rules, join policy, poll creation setting or
    time zone (admins and the owner).

    Changing the rules text bumps its version, so every member is asked to accept it again
    (the editor accepts it by editing) and records the version with its change summary
    (``rules_summary``, shown to members with it; see ``community.services.rules``). New text
    (the summary too) is screened by WeChat's content check before the transaction opens: no
    lock is held during that HTTP call. Risky refuses; texts WeChat wants reviewed, or could
    not check, wait in the moderation queue and the old ones stay until they are released (a
    released rules text bumps the version then, without a summary). The row is then locked
    (``FOR NO KEY UPDATE``, so joins and new polls pointing at it are not held up) and the
    values compared again, so two editors at once each bump the rules version once."""
    ensure(actor, Action.MANAGE)
    if "kind" in fields and fields["kind"] not in CommunityKind.values:
        raise DomainError(_("Unknown kind of group."), code="invalid_kind", field="kind")
    rules_summary = member_text(
        rules_summary or "", field="rules_summary", multiline=True, blank=True, max_length=500
    )
    # Texts are published in ``community.text``'s normal form (the admin reaches here without
    # the API's serializer).
    for name in set(COMMUNITY_SCREENED) & set(fields):
        fields[name] = member_text(
            fields[name], field=name, multiline=name != "name", blank=name != "name"
        )
    if "time_zone" in fields:
        # Every time members read is shown in this zone: a name that does not load is refused.
        fields["time_zone"] = time_zone_clean(fields["time_zone"])
    for name in fields:
        if name not in COMMUNITY_EDITABLE:
            raise DomainError(_("This field cannot be changed."), field=name)
    current = Community.objects.get(pk=actor.community_id)
    texts = {
        name: fields[name]
        for name in COMMUNITY_SCREENED
        if name in fields and getattr(current, name) != fields[name]
    }
    # New texts WeChat did not pass wait in the moderation queue (``community_texts``) while
    # members see the old ones; the rest of the change is applied at once.
    screened = dict(texts)
    if rules_summary and "rules_text" in texts:
        screened["rules_summary"] = rules_summary
    verdict = content_screen(texts=screened, user=actor.user)
    held = {name: fields.pop(name) for name in texts} if verdict != PASS else {}
    if "rules_text" in held and rules_summary:
        held["rules_summary"] = rules_summary  # recorded with the version when released
    with transaction.atomic():
        community = lock_rows(Community.objects.filter(pk=actor.community_id)).get()
        changed = [name for name, value in fields.items() if getattr(community, name) != value]
        for name in changed:
            setattr(community, name, fields[name])
        if "rules_text" in changed:
            community.rules_version += 1
            changed.append("rules_version")
        if changed:
            community.full_clean()
            community.save(update_fields=changed)
            if "rules_version" in changed:
                rules_version_record(community=community, summary=rules_summary)
                Membership.objects.filter(pk=actor.pk).update(
                    rules_accepted_version=community.rules_version
                )
                actor.rules_accepted_version = community.rules_version
        where = {"community_id": community.pk, "target_id": community.pk}
        if held:
            content_hold_for_review(
                verdict=verdict,
                target_kind="community_texts",
                author_id=actor.user_id,
                pending=held,
                **where,
            )
        elif texts:
            # A held rules text that is overtaken takes its held summary with it.
            passed = set(texts) | ({"rules_summary"} if "rules_text" in texts else set())
            content_change_passed(target_kind="community_texts", fields=passed, **where)
    actor.community = community
    return community


def community_texts_release(*, target_id: str, pending: dict) -> None:
    """Apply a held change of the community's texts once a moderator or WeChat's re-check
    released it (inside the releasing transaction), as :func:`community_update` would have:
    a new rules text bumps the version, is recorded in the history with the summary held
    with it, and asks every member to accept the rules again."""
    values = dict(pending)
    summary = values.pop("rules_summary", "")
    community = lock_rows(Community.objects.filter(pk=target_id)).first()
    if community is None:
        return
    changed = [name for name, value in values.items() if getattr(community, name) != value]
    for name in changed:
        setattr(community, name, values[name])
    if "rules_text" in changed:
        community.rules_version += 1
        changed.append("rules_version")
    if changed:
        community.save(update_fields=changed)
    if "rules_version" in changed:
        rules_version_record(community=community, summary=summary)


def community_regenerate_invite(*, actor: Membership) -> Community:
    """Replace the invite code; the old one stops working at once. Admins and the owner only
    (``Action.MANAGE``): the service checks its actor itself, whoever calls it."""
    ensure(actor, Action.MANAGE)
    community = actor.community
    community.invite_code = new_invite_code()
    community.save(update_fields=["invite_code"])
    return community


def _lock_pair(actor: Membership, target_id: str) -> tuple[Membership, Membership]:
    """Lock the actor's and the target's membership rows in primary-key order (no deadlocks)
    and return fresh copies. Call inside a transaction."""
    ids = sorted({target_id} if actor.pk is None else {actor.pk, target_id})
    rows = {
        m.pk: m
        for m in lock_rows(
            Membership.objects.select_related("community", "user").filter(
                community_id=actor.community_id, pk__in=ids
            )
        )
    }
    if target_id not in rows:
        raise NotFound(_("Member not found."))
    # A superuser acting from the admin without a membership holds an unsaved stand-in.
    fresh_actor = actor if actor.pk is None else rows.get(actor.pk)
    if fresh_actor is None or fresh_actor.status != MembershipStatus.ACTIVE:
        raise Forbidden(_("You can no longer manage this community."), code="not_active")
    return fresh_actor, rows[target_id]


@transaction.atomic
def membership_change_tier(*, actor: Membership, target_id: str, tier: str) -> Membership:
    """Change a member's tier. Admins manage tiers below their own; making someone the owner
    transfers ownership (only the owner may), and the old owner becomes an admin."""
    with audit_context(actor=actor):
        return _change_tier(actor=actor, target_id=target_id, tier=tier)


def _change_tier(*, actor: Membership, target_id: str, tier: str) -> Membership:
    actor, target = _lock_pair(actor, target_id)
    if tier not in Tier.values:
        raise DomainError(_("Unknown tier."), field="tier")
    if target.status not in (MembershipStatus.ACTIVE, MembershipStatus.MUTED):
        raise Conflict(_("Only current members can get a tier."), code="not_a_member")
    require_over(actor, target, Action.MANAGE)
    if tier == Tier.OWNER:
        if actor.tier != Tier.OWNER:
            raise Forbidden(_("Only the owner can hand over ownership."), code="tier_too_low")
        if actor.pk is None:
            Membership.objects.filter(community_id=actor.community_id, tier=Tier.OWNER).update(
                tier=Tier.ADMIN
            )
        else:
            actor.tier = Tier.ADMIN
            actor.save(update_fields=["tier"])
    elif Membership(tier=tier).tier_rank >= actor.tier_rank:
        raise Forbidden(_("You can only give tiers below your own."), code="tier_too_low")
    target.tier = tier
    target.save(update_fields=["tier"])
    return target


def _end_roles(membership: Membership) -> None:
    """A member who leaves or is banned holds no role any more (the terms end, as history)."""
    from roles.services import assignments_end_for_member

    assignments_end_for_member(membership=membership)


def _set_status(
    *,
    actor: Membership,
    target_id: str,
    status: str,
    allowed_from: set[str],
    muted_at: datetime | None | object = _KEEP,
    muted_until: datetime | None | object = _KEEP,
    action: Action = Action.MODERATE,
) -> Membership:
    with audit_context(actor=actor):
        return _set_status_as(
            actor=actor,
            target_id=target_id,
            status=status,
            allowed_from=allowed_from,
            muted_at=muted_at,
            muted_until=muted_until,
            action=action,
        )


def _set_status_as(
    *,
    actor: Membership,
    target_id: str,
    status: str,
    allowed_from: set[str],
    muted_at: datetime | None | object,
    muted_until: datetime | None | object,
    action: Action,
) -> Membership:
    actor, target = _lock_pair(actor, target_id)
    # Muting again is refused while a mute runs; a timed mute that has ended may be renewed.
    if target.status not in allowed_from or (
        status == MembershipStatus.MUTED and is_muted_now(target)
    ):
        raise Conflict(
            _("This member's status is %(status)s; the action does not apply.")
            % {"status": target.get_status_display()},
            code="wrong_status",
        )
    if action is Action.APPROVE_JOINS:
        # A pending member has no standing yet: anyone allowed to approve joins (a moderator,
        # or the holder of a role with that capability) lets them in, whatever the tiers.
        ensure(actor, action)
        if actor.pk == target.pk:
            raise Forbidden(_("You cannot do this to yourself."), code="self_action")
    else:
        require_over(actor, target, action)
    target.status = status
    fields = ["status"]
    if muted_at is not _KEEP:
        target.muted_at = muted_at
        fields.append("muted_at")
    if muted_until is not _KEEP:
        target.muted_until = muted_until
        fields.append("muted_until")
    target.save(update_fields=fields)
    return target


@transaction.atomic
def membership_approve(*, actor: Membership, target_id: str) -> Membership:
    """Let a pending member in: active, or muted when they had left while muted (a mute
    outlives leaving and coming back)."""
    target = _set_status(
        actor=actor,
        target_id=target_id,
        status=MembershipStatus.ACTIVE,
        allowed_from={MembershipStatus.PENDING},
        action=Action.APPROVE_JOINS,
    )
    if target.muted_at is not None:
        target.status = MembershipStatus.MUTED
        target.save(update_fields=["status"])
    newcomer_welcome(membership=target)
    return target


@transaction.atomic
def membership_mute(
    *, actor: Membership, target_id: str, until: datetime | None = None
) -> Membership:
    """Mute a member: they keep reading but cannot vote, answer or post. The mute is recorded
    apart from the status (``muted_at``) so that leaving and re-joining does not lift it.
    ``until`` makes it end by itself (derived from the clock in authz); a member whose timed
    mute has ended may be muted again."""
    target = _set_status(
        actor=actor,
        target_id=target_id,
        status=MembershipStatus.MUTED,
        allowed_from={MembershipStatus.ACTIVE, MembershipStatus.MUTED},
        muted_at=timezone.now(),
        muted_until=until,
    )
    return target


def membership_mute_by_rule(*, target: Membership, until: datetime) -> bool:
    """Mute ``target`` until ``until`` by the community's own rule (warnings that escalate),
    not by a moderator's tier: the caller has checked its actor. Call inside a transaction
    holding ``target``'s row lock (``lock_rows``), the row just read under it.

    A mute that runs already and ends later (or never) is kept; a shorter one is extended. A
    banned member is left alone. A member who left or waits for approval keeps the mute for
    their return (``muted_at``, as a moderator's mute). False when nothing changed."""
    if target.status == MembershipStatus.BANNED:
        return False
    running = is_muted_now(target)
    if running and (target.muted_until is None or target.muted_until >= until):
        return False
    if not running:
        target.muted_at = timezone.now()
    if target.status in (MembershipStatus.ACTIVE, MembershipStatus.MUTED):
        target.status = MembershipStatus.MUTED
    target.muted_until = until
    target.save(update_fields=["status", "muted_at", "muted_until"])
    return True


def membership_unmute_by_rule(*, target: Membership, until: datetime | None) -> bool:
    """Lift the mute that ends at ``until`` when it is still the one in force (an appeal
    overturned the decision that gave it); a later or different mute stays. Call inside a
    transaction holding ``target``'s row lock. False when nothing changed."""
    if target.muted_at is None or target.muted_until != until:
        return False
    if target.status == MembershipStatus.MUTED:
        target.status = MembershipStatus.ACTIVE
    target.muted_at = None
    target.muted_until = None
    target.save(update_fields=["status", "muted_at", "muted_until"])
    return True


@transaction.atomic
def membership_ban(*, actor: Membership, target_id: str) -> Membership:
    """Ban a member: the community disappears for them and every token of theirs is revoked
    (their other communities work again after a silent re-login)."""
    target = _set_status(
        actor=actor,
        target_id=target_id,
        status=MembershipStatus.BANNED,
        allowed_from={MembershipStatus.ACTIVE, MembershipStatus.MUTED, MembershipStatus.PENDING},
    )
    target.left_at = timezone.now()
    target.save(update_fields=["left_at"])
    _end_roles(target)
    tokens_revoke_all(user=target.user)
    return target


@transaction.atomic
def membership_restore(*, actor: Membership, target_id: str) -> Membership:
    """Unmute or unban a member (back to active); this is what lifts a mute."""
    return _set_status(
        actor=actor,
        target_id=target_id,
        status=MembershipStatus.ACTIVE,
        allowed_from={MembershipStatus.MUTED, MembershipStatus.BANNED},
        muted_at=None,
        muted_until=None,
    )


@transaction.atomic
def membership_remove(*, actor: Membership, target_id: str, reason: str) -> Membership:
    """Mark a member removed from the community (status ``left``, roles ended), e.g. an
    inactive member an admin also removes from the WeChat group by hand. ``reason`` is the
    admin's words, kept by the caller (the clean-up round) for the record. Reversible: the
    member may come back by the share card or the invite code, keeping their history."""
    target = _set_status(
        actor=actor,
        target_id=target_id,
        status=MembershipStatus.LEFT,
        allowed_from={MembershipStatus.ACTIVE, MembershipStatus.MUTED},
        action=Action.MANAGE_INACTIVE,
    )
    target.tier = Tier.MEMBER
    target.left_at = timezone.now()
    target.save(update_fields=["tier", "left_at"])
    _end_roles(target)
    return target


def membership_touch(*, membership: Membership) -> None:
    """Record a visit (opening the community) and the member's last activity, at most one
    database write per member every few minutes."""
    activity_record(community_id=membership.community_id, user_id=membership.user_id, kind="visit")
    now = timezone.now()
    if membership.last_active_at > now - ACTIVITY_GRANULARITY:
        return
    Membership.objects.filter(pk=membership.pk).update(last_active_at=now)
    membership.last_active_at = now
