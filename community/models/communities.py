"""Communities (one per WeChat group) and memberships."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import ALPHABET, OpaqueCharField, PublicIdField


def new_invite_code() -> str:
    """An 8-character invite code members can type or scan."""
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


class JoinPolicy(models.TextChoices):
    OPEN = "open", _("Open: anyone from the group's share card or with the invite code")
    INVITE = "invite", _("Invite code only")
    APPROVAL = "approval", _("Approval by a moderator")


class Tier(models.TextChoices):
    """A member's standing. Order matters: each tier may do everything the one below may."""

    MEMBER = "member", _("Member")
    MODERATOR = "moderator", _("Moderator")
    ADMIN = "admin", _("Admin")
    OWNER = "owner", _("Owner")

    @property
    def rank(self) -> int:
        return TIER_RANK[self.value]


TIER_RANK = {"member": 1, "moderator": 2, "admin": 3, "owner": 4}


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PENDING = "pending", _("Pending approval")
    MUTED = "muted", _("Muted")
    BANNED = "banned", _("Banned")
    LEFT = "left", _("Left")


class CommunityKind(models.TextChoices):
    """What the group is for; each kind comes with suggested rules and settings
    (``community.rules_templates``)."""

    WORK = "work", _("Work")
    STUDY = "study", _("Study")
    INTEREST = "interest", _("Interest")


class Community(models.Model):
    """The members of one WeChat group and the tools they share.

    A community may be bound to one WeChat group through its ``open_gid`` (the group's id in our
    mini-program, learnt from a share ticket); members who open the mini-program from that group
    can join it. The group rules (群规) carry a version: editing the text bumps it, and members
    must accept the current version before they take part."""

    id = PublicIdField()
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, default="")
    kind = models.CharField(
        _("kind of group"),
        max_length=10,
        choices=CommunityKind.choices,
        default=CommunityKind.INTEREST,
    )
    purpose = models.TextField(
        _("purpose"),
        blank=True,
        default="",
        help_text=_("Why the group exists, shown at the top of the rules page."),
    )
    rules_text = models.TextField(
        _("group rules"),
        blank=True,
        default="",
        help_text=_('A line starting with "#" begins a section of the rules page.'),
    )
    rules_version = models.PositiveIntegerField(_("group rules version"), default=0)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    join_policy = models.CharField(
        _("join policy"), max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    open_gid = OpaqueCharField(
        _("WeChat group id (openGId)"), max_length=64, unique=True, null=True, blank=True
    )
    invite_code = models.CharField(
        _("invite code"), max_length=16, unique=True, default=new_invite_code
    )
    members_can_create_polls = models.BooleanField(_("members may create polls"), default=False)
    members_can_create_events = models.BooleanField(
        _("members may start sign-up lists (接龙)"), default=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a community: tier (what they may do) and status (whether they may).

    Only ``active`` members take part; ``muted`` members may read but not write; ``pending``,
    ``banned`` and ``left`` members see nothing of the community (its objects answer 404).

    A sanction outlives leaving: ``muted_at`` records a mute apart from the status, so a muted
    member who leaves (status ``left``) and comes back by invite code or share card comes back
    muted (after a moderator's approval in an approval community); only a moderator's restore
    lifts it. A banned member keeps the ``banned`` status: they cannot leave and cannot re-join.
    A timed mute stores its end in ``muted_until``: it ends by itself (authz derives it from
    the clock; no job flips the status) and survives leaving the same way."""

    id = PublicIdField()
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.MEMBER)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    last_active_at = models.DateTimeField(_("last active at"), default=timezone.now)
    left_at = models.DateTimeField(
        _("left at"),
        null=True,
        blank=True,
        help_text=_(
            "When the member last left, was removed or banned (kept when they come back: the "
            "dashboard's leaves per week)."
        ),
    )
    rules_accepted_version = models.PositiveIntegerField(_("rules accepted (version)"), default=0)
    muted_at = models.DateTimeField(_("muted since"), null=True, blank=True)
    muted_until = models.DateTimeField(
        _("muted until"),
        null=True,
        blank=True,
        help_text=_("A timed mute ends by itself at this time (empty: until restored)."),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="membership_one_per_user_and_community"
            ),
            models.UniqueConstraint(
                fields=["community"],
                condition=Q(tier="owner"),
                name="membership_one_owner_per_community",
            ),
            models.CheckConstraint(
                condition=Q(tier__in=list(TIER_RANK)), name="membership_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in MembershipStatus]),
                name="membership_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status", "tier"]),
            # joins and leaves per week (insights)
            models.Index(fields=["community", "joined_at"], name="membership_joined"),
            models.Index(
                fields=["community", "left_at"],
                name="membership_left",
                condition=Q(left_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.community}"

    @property
    def tier_rank(self) -> int:
        return TIER_RANK[self.tier]
