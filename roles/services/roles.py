"""Defining roles: create, edit, delete (admin tiers), and the suggested roles of a new community."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.locking import lock_rows
from community.models import Community, Membership
from community.services.content import (
    PASS,
    content_change_passed,
    content_hold_for_review,
    content_screen,
)
from community.text import member_text
from roles.capabilities import CAPABILITY_VALUES, Capability
from roles.models import EndReason, Role, RoleAssignment, RoleVolunteer, VolunteerStatus
from roles.models.roles import ROLE_NAME_MAX

#: The roles every new community starts with; an admin may edit or delete them.
SUGGESTED_ROLES: tuple[dict[str, Any], ...] = (
    {
        "name": "内容整理",
        "description": "整理并分享每日信息和群内精华，发起投票收集大家的意见。",
        "capabilities": [
            Capability.CREATE_POLLS,
            Capability.MANAGE_SURVEYS,
            Capability.PUBLISH_CONTENT,
        ],
        "max_holders": 2,
        "term_days": 90,
    },
    {
        "name": "活动策划",
        "description": "策划并组织线下活动：发布活动、管理报名和任务看板。",
        "capabilities": [
            Capability.MANAGE_EVENTS,
            Capability.CREATE_POLLS,
            Capability.MANAGE_BOARDS,
        ],
        "max_holders": 3,
        "term_days": 90,
    },
    {
        "name": "新人欢迎",
        "description": "审核入群申请，欢迎新成员并介绍群规。",
        "capabilities": [Capability.APPROVE_JOINS, Capability.WELCOME_NEWCOMERS],
        "max_holders": 2,
        "term_days": 90,
    },
    {
        "name": "秩序维护",
        "description": "留意广告和违规内容，处理举报，维护群内秩序。",
        "capabilities": [Capability.MODERATE_CONTENT, Capability.APPROVE_JOINS],
        "max_holders": 2,
        "term_days": 90,
    },
)

ROLE_EDITABLE = frozenset({"name", "description", "capabilities", "max_holders", "term_days"})


def roles_create_suggested(*, community: Community) -> list[Role]:
    """Give a new community the suggested roles (内容整理, 活动策划, 新人欢迎, 秩序维护).
    Called by the community creation service inside its transaction; no actor, since nobody
    holds a tier yet when a community is born."""
    return Role.objects.bulk_create(
        [
            Role(
                community=community,
                name=spec["name"],
                description=spec["description"],
                capabilities=[str(c) for c in spec["capabilities"]],
                max_holders=spec["max_holders"],
                term_days=spec["term_days"],
            )
            for spec in SUGGESTED_ROLES
        ]
    )


def capabilities_clean(values: Iterable[str]) -> list[str]:
    """The catalogue values of ``values``, deduplicated in catalogue order; an unknown one is
    refused (400 on ``capabilities``)."""
    chosen = set()
    for value in values:
        if value not in CAPABILITY_VALUES:
            raise DomainError(
                _("Unknown capability: %(value)s.") % {"value": value},
                code="unknown_capability",
                field="capabilities",
            )
        chosen.add(str(value))
    return [c.value for c in Capability if c.value in chosen]


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    if "name" in fields:
        fields["name"] = member_text(fields["name"], field="name")
        if len(fields["name"]) > ROLE_NAME_MAX:
            raise DomainError(
                _("A role name has at most %(n)d characters.") % {"n": ROLE_NAME_MAX},
                code="max_length",
                field="name",
            )
    if "description" in fields:
        fields["description"] = member_text(
            fields["description"] or "", field="description", multiline=True, blank=True
        )
    if "capabilities" in fields:
        fields["capabilities"] = capabilities_clean(fields["capabilities"] or [])
    for name in ("max_holders", "term_days"):
        value = fields.get(name)
        if value is not None and not 1 <= value <= 32767:
            raise DomainError(_("Enter a number between 1 and 32767."), code="invalid", field=name)
    return fields


def _screen(
    actor: Membership, fields: dict[str, Any], current: Role | None = None
) -> tuple[str, dict[str, str]]:
    """WeChat's content check on the new texts, before any transaction opens: the verdict
    and the texts it concerns (risky refuses, 400 ``content_risky``)."""
    texts = {
        name: fields[name]
        for name in ("name", "description")
        if name in fields and (current is None or getattr(current, name) != fields[name])
    }
    return content_screen(texts=texts, user=actor.user), texts


def _name_taken() -> Conflict:
    return Conflict(_("This community already has a role with this name."), code="role_name_taken")


def role_get(*, actor: Membership, role_id: str, lock: bool = False) -> Role:
    """A live role of the actor's community (404 for deleted roles and other communities).
    ``lock`` takes the row lock; call it inside a transaction then."""
    qs = Role.objects.filter(pk=role_id, community_id=actor.community_id, deleted_at__isnull=True)
    role = (lock_rows(qs) if lock else qs).first()
    if role is None:
        raise NotFound(_("Role not found."))
    return role


def role_create(
    *,
    actor: Membership,
    name: str,
    description: str = "",
    capabilities: Iterable[str] = (),
    max_holders: int | None = None,
    term_days: int | None = None,
) -> Role:
    """Define a role in the actor's community (admins and the owner). Capabilities come from
    the fixed catalogue; what they allow is decided in ``community.authz``."""
    ensure(actor, Action.MANAGE_ROLES)
    fields = _clean(
        {
            "name": name,
            "description": description,
            "capabilities": list(capabilities),
            "max_holders": max_holders,
            "term_days": term_days,
        }
    )
    if Role.objects.filter(
        community_id=actor.community_id, name=fields["name"], deleted_at__isnull=True
    ).exists():
        raise _name_taken()
    verdict, _texts = _screen(actor, fields)
    try:
        with transaction.atomic():
            role = Role.objects.create(community_id=actor.community_id, **fields)
            # "review" or WeChat unreachable: members do not see the role until released.
            content_hold_for_review(
                verdict=verdict,
                community_id=role.community_id,
                target_kind="role",
                target_id=role.pk,
                author_id=actor.user_id,
            )
            return role
    except IntegrityError as exc:  # another admin created the same name at the same moment
        raise _name_taken() from exc


def role_update(*, actor: Membership, role_id: str, **fields: Any) -> Role:
    """Edit a role. Lowering ``max_holders`` below its current holders is refused (end a
    term first); a new ``term_days`` applies to terms started or renewed afterwards."""
    ensure(actor, Action.MANAGE_ROLES)
    for name in fields:
        if name not in ROLE_EDITABLE:
            raise DomainError(_("This field cannot be changed."), field=name)
    fields = _clean(fields)
    current = role_get(actor=actor, role_id=role_id)
    verdict, texts = _screen(actor, fields, current)
    # New texts WeChat did not pass wait in the moderation queue; members see the old ones.
    held = {name: fields.pop(name) for name in texts} if verdict != PASS else {}
    try:
        with transaction.atomic():
            role = role_get(actor=actor, role_id=role_id, lock=True)
            if fields.get("max_holders") is not None:
                holders = RoleAssignment.objects.active().filter(
                    community_id=role.community_id, role=role
                )
                if holders.count() > fields["max_holders"]:
                    raise Conflict(
                        _("More members hold this role now; end a term first."),
                        code="too_many_holders",
                    )
            changed = [name for name, value in fields.items() if getattr(role, name) != value]
            for name in changed:
                setattr(role, name, fields[name])
            if changed:
                role.save(update_fields=changed)
            where = {"community_id": role.community_id, "target_id": role.pk}
            if held:
                content_hold_for_review(
                    verdict=verdict,
                    target_kind="role_texts",
                    author_id=actor.user_id,
                    pending=held,
                    **where,
                )
            elif texts:
                content_change_passed(target_kind="role_texts", fields=set(texts), **where)
            return role
    except IntegrityError as exc:
        raise _name_taken() from exc


def role_texts_release(*, target_id: str, pending: dict) -> None:
    """Apply a held change of a role's name or description once a moderator or WeChat's
    re-check released it (inside the releasing transaction). A name another role took while
    this one waited is refused (409 ``role_name_taken``) and the change keeps waiting: the
    moderator renames one of them first."""
    role = lock_rows(Role.objects.filter(pk=target_id, deleted_at__isnull=True)).first()
    if role is None:
        return
    for name, value in pending.items():
        setattr(role, name, value)
    try:
        with transaction.atomic():
            role.save(update_fields=list(pending))
    except IntegrityError as exc:
        raise _name_taken() from exc


@transaction.atomic
def role_delete(*, actor: Membership, role_id: str) -> None:
    """Delete a role: it disappears for members, its open terms end (``role_deleted``) and
    pending volunteers are refused. Its assignments stay as history (soft delete)."""
    ensure(actor, Action.MANAGE_ROLES)
    role = role_get(actor=actor, role_id=role_id, lock=True)
    now = timezone.now()
    RoleAssignment.objects.filter(
        community_id=role.community_id, role=role, ended_at__isnull=True
    ).update(ended_at=now, end_reason=EndReason.ROLE_DELETED, ended_by=actor.pk)
    RoleVolunteer.objects.filter(
        community_id=role.community_id, role=role, status=VolunteerStatus.PENDING
    ).update(status=VolunteerStatus.REFUSED, decided_at=now, decided_by=actor.pk)
    role.deleted_at = now
    role.save(update_fields=["deleted_at"])
