"""A community's analytics rules and protected members, edited by its admin tiers (the admin
pages call these too)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership, MembershipStatus
from insights.models import InsightsSettings, ProtectedMember

#: Fields an admin may set, with their allowed range.
EDITABLE: dict[str, tuple[int, int] | None] = {
    "inactive_after_days": (7, 730),
    "grace_days": (1, 90),
    "new_member_days": (1, 365),
    "core_min_days": (1, 30),
    "dormant_after_days": (1, 365),
    "member_floor": (1, 500),
    "members_see_top": None,
}


@transaction.atomic
def insights_settings_update(*, actor: Membership, **fields) -> InsightsSettings:
    """Set ``actor``'s community's analytics rules (admin tiers): the segment thresholds, the
    inactive-member rule, the floor k of member-facing figures and whether members see the
    month's most active members. Unknown fields or values out of range: 400
    ``invalid_setting`` (nothing changed)."""
    ensure(actor, Action.MANAGE_INACTIVE)
    for name, value in fields.items():
        if name not in EDITABLE:
            raise DomainError(_("Unknown setting."), code="invalid_setting", field=name)
        bounds = EDITABLE[name]
        if bounds is None:
            if not isinstance(value, bool):
                raise DomainError(_("Expected true or false."), code="invalid_setting", field=name)
        elif (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (bounds[0] <= value <= bounds[1])
        ):
            raise DomainError(
                _("Expected a whole number from %(low)d to %(high)d.")
                % {"low": bounds[0], "high": bounds[1]},
                code="invalid_setting",
                field=name,
            )
    InsightsSettings.objects.get_or_create(community_id=actor.community_id)
    rules = lock_rows(InsightsSettings.objects.filter(community_id=actor.community_id)).get()
    for name, value in fields.items():
        setattr(rules, name, value)
    if rules.dormant_after_days >= rules.inactive_after_days:
        raise DomainError(
            _("Dormant must start before inactive."),
            code="invalid_setting",
            field="dormant_after_days",
        )
    rules.save()
    return rules


def protected_member_set(
    *, actor: Membership, membership_id: str, protected: bool
) -> ProtectedMember | None:
    """Mark a member of ``actor``'s community protected from the inactive-member rule (a known
    lurker), or lift it (admin tiers). 404 ``member_not_found`` for anyone else's member."""
    ensure(actor, Action.MANAGE_INACTIVE)
    target = (
        Membership.objects.filter(community_id=actor.community_id, pk=membership_id)
        .exclude(status=MembershipStatus.PENDING)
        .only("id", "user_id")
        .first()
    )
    if target is None:
        raise NotFound(_("Member not found."), code="member_not_found")
    if not protected:
        ProtectedMember.objects.filter(
            community_id=actor.community_id, user_id=target.user_id
        ).delete()
        return None
    try:
        with transaction.atomic():
            return ProtectedMember.objects.create(
                community_id=actor.community_id, user_id=target.user_id
            )
    except IntegrityError:
        return ProtectedMember.objects.get(community_id=actor.community_id, user_id=target.user_id)
