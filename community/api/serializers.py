"""Input and output serializers of the community core (kept separate, rarely shared)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.models import Community, CommunityKind, JoinPolicy, Membership, Tier, User
from community.text import blank_message, normalize_text


class MemberTextField(serializers.CharField):
    """Text a member or moderator publishes, in the normal form of ``community.text`` (NFKC,
    no invisible or control characters, whitespace collapsed; ``multiline`` keeps line
    breaks). Text that is empty afterwards is refused unless ``allow_blank``; ``max_length``
    applies to the normalised text."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        text = normalize_text(super().to_internal_value(data), multiline=self.multiline)
        if not text and not self.allow_blank:
            raise serializers.ValidationError(blank_message(), code="blank")
        return text


# --- output ---------------------------------------------------------------------------------
class HeldRoleOut(serializers.Serializer):
    """A role a member holds now (a profile shows them)."""

    id = serializers.CharField(source="role_id", help_text=_("Role id."))
    name = serializers.CharField(source="role.name")
    term_ends_at = serializers.DateTimeField(allow_null=True)


def _held_roles(membership: Membership) -> list[dict]:
    from roles.selectors import roles_of_membership  # roles builds on the community core

    return HeldRoleOut(roles_of_membership(membership), many=True).data


class UserOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "nickname", "avatar_url"]


class TokenOut(serializers.Serializer):
    token = serializers.CharField(help_text=_("Bearer token; send as `Authorization: Bearer ...`."))
    expires_at = serializers.DateTimeField()
    user = UserOut()


class CommunityOut(serializers.ModelSerializer):
    class Meta:
        model = Community
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "purpose",
            "rules_text",
            "rules_version",
            "time_zone",
            "join_policy",
            "members_can_create_polls",
            "members_can_create_events",
            "created_at",
        ]


class MyMembershipOut(serializers.ModelSerializer):
    """My standing in a community: what the mini-program needs to decide what to show."""

    rules_accepted = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField(help_text=_("The roles I hold now."))

    class Meta:
        model = Membership
        fields = [
            "id",
            "tier",
            "status",
            "joined_at",
            "rules_accepted_version",
            "rules_accepted",
            "roles",
        ]

    def get_rules_accepted(self, obj: Membership) -> bool:
        return obj.rules_accepted_version >= obj.community.rules_version

    @extend_schema_field(HeldRoleOut(many=True))
    def get_roles(self, obj: Membership) -> list[dict]:
        return _held_roles(obj)


class MyCommunityOut(serializers.Serializer):
    community = CommunityOut()
    membership = MyMembershipOut()


class CommunityDetailOut(CommunityOut):
    member_count = serializers.IntegerField(help_text=_("Active members."))
    invite_code = serializers.SerializerMethodField(
        help_text=_("Only for admins and the owner; null for everyone else.")
    )
    membership = serializers.SerializerMethodField()
    warning_rule_text = serializers.SerializerMethodField(
        help_text=_("How warnings escalate here, one sentence to show with the group rules.")
    )

    class Meta(CommunityOut.Meta):
        fields = [
            *CommunityOut.Meta.fields,
            "member_count",
            "invite_code",
            "membership",
            "warning_rule_text",
        ]

    def get_warning_rule_text(self, obj: Community) -> str:
        from moderation.selectors import warning_rule_of, warning_rule_text  # builds on the core

        return warning_rule_text(warning_rule_of(community_id=obj.pk))

    def get_invite_code(self, obj: Community) -> str | None:
        return obj.invite_code if self.context.get("show_invite_code") else None

    @extend_schema_field(MyMembershipOut)
    def get_membership(self, obj: Community) -> dict:
        return MyMembershipOut(self.context["membership"]).data


class MemberOut(serializers.ModelSerializer):
    user = UserOut()
    roles = serializers.SerializerMethodField(help_text=_("The roles the member holds now."))

    class Meta:
        model = Membership
        fields = ["id", "user", "tier", "status", "joined_at", "last_active_at", "roles"]

    @extend_schema_field(HeldRoleOut(many=True))
    def get_roles(self, obj: Membership) -> list[dict]:
        return _held_roles(obj)


# --- input ----------------------------------------------------------------------------------
class WeChatLoginIn(serializers.Serializer):
    code = serializers.CharField(
        max_length=128, help_text=_("The `code` from `wx.login()`; valid once, for 5 minutes.")
    )


class DevLoginIn(serializers.Serializer):
    nickname = MemberTextField(max_length=64)


class ProfileIn(serializers.Serializer):
    nickname = MemberTextField(max_length=64, required=False, allow_blank=False)
    avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)


class ShareTicketJoinIn(serializers.Serializer):
    encrypted_data = serializers.CharField(
        max_length=4096, help_text=_("`encryptedData` from wx.getGroupEnterInfo / wx.getShareInfo.")
    )
    iv = serializers.CharField(max_length=64, help_text=_("`iv` from the same call."))


class InviteJoinIn(serializers.Serializer):
    invite_code = serializers.CharField(max_length=16)


class AcceptRulesIn(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=0, help_text=_("The `rules_version` the member read and accepts.")
    )


class CommunityUpdateIn(serializers.Serializer):
    name = MemberTextField(max_length=100, required=False)
    description = MemberTextField(max_length=2000, required=False, allow_blank=True, multiline=True)
    kind = serializers.ChoiceField(choices=CommunityKind.choices, required=False)
    purpose = MemberTextField(max_length=2000, required=False, allow_blank=True, multiline=True)
    rules_text = MemberTextField(max_length=10000, required=False, allow_blank=True, multiline=True)
    rules_summary = MemberTextField(
        max_length=500,
        required=False,
        allow_blank=True,
        multiline=True,
        help_text=_("What changed, shown to members with a new rules version."),
    )
    join_policy = serializers.ChoiceField(choices=JoinPolicy.choices, required=False)
    members_can_create_polls = serializers.BooleanField(required=False)
    members_can_create_events = serializers.BooleanField(required=False)
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        help_text=(
            _(
                "IANA time zone name (e.g. `Asia/Shanghai`, `America/New_York`); every time of the "
                "community is shown in it. 400 `invalid_time_zone` for an unknown name."
            )
        ),
    )


class TierIn(serializers.Serializer):
    tier = serializers.ChoiceField(
        choices=Tier.choices,
        error_messages={"invalid_choice": _("Unknown tier.")},
        help_text=_("Setting `owner` hands ownership over (owner only)."),
    )


class MemberFilterIn(serializers.Serializer):
    search = serializers.CharField(
        required=False, max_length=64, help_text=_("Part of a nickname.")
    )
    status = serializers.ChoiceField(
        choices=Membership._meta.get_field("status").choices,
        required=False,
        help_text=_("Moderators and above only."),
    )
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
