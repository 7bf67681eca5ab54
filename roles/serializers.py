"""Input and output serializers of roles (kept separate: inputs list exactly what is writable)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.api.serializers import MemberTextField, UserOut
from polls.openapi import NamedEnumField
from roles.capabilities import Capability
from roles.models import EndReason, RoleAssignment, VolunteerStatus
from roles.models.roles import ROLE_NAME_MAX

MAX_HOLDERS_LIMIT = 500  # a WeChat group has at most 500 members
MAX_TERM_DAYS = 3650

ASSIGNMENT_STATUSES = {
    "active": "Active: the role is held now",
    "expired": "Expired: the term ran out (its end is recorded by the sweep)",
    "ended": "Ended",
}


def _capability_field(**kwargs) -> NamedEnumField:
    return NamedEnumField(
        component_name="RoleCapabilityEnum", choices=Capability.choices(), **kwargs
    )


def assignment_status(assignment: RoleAssignment) -> str:
    if assignment.ended_at is not None:
        return "ended"
    return "active" if assignment.is_active(timezone.now()) else "expired"


# --- output ---------------------------------------------------------------------------------
class RoleBriefOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class MemberBriefOut(serializers.Serializer):
    id = serializers.CharField(help_text=_("Membership id."))
    user = UserOut()


class RoleHolderOut(serializers.Serializer):
    assignment_id = serializers.CharField(source="id")
    member = MemberBriefOut(source="membership")
    starts_at = serializers.DateTimeField()
    term_ends_at = serializers.DateTimeField(allow_null=True)


class RoleOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    capabilities = serializers.ListField(child=_capability_field())
    max_holders = serializers.IntegerField(allow_null=True, help_text=_("null: no limit."))
    term_days = serializers.IntegerField(allow_null=True, help_text=_("null: no end date."))
    holder_count = serializers.SerializerMethodField()
    holders = RoleHolderOut(many=True, help_text=_("Who holds the role now."))
    my_assignment_id = serializers.SerializerMethodField(
        help_text=_("My current term of this role, or null.")
    )
    my_volunteer_pending = serializers.SerializerMethodField(
        help_text=_("I offered to take this role and wait for an answer.")
    )
    created_at = serializers.DateTimeField()

    def get_holder_count(self, obj) -> int:
        return len(obj.holders)

    def get_my_assignment_id(self, obj) -> str | None:
        viewer = self.context.get("viewer")
        return next((a.pk for a in obj.holders if viewer and a.membership_id == viewer.pk), None)

    def get_my_volunteer_pending(self, obj) -> bool:
        return obj.pk in self.context.get("pending_role_ids", ())


class AssignmentOut(serializers.Serializer):
    id = serializers.CharField()
    role = RoleBriefOut()
    member = MemberBriefOut(source="membership")
    status = serializers.SerializerMethodField()
    starts_at = serializers.DateTimeField()
    term_ends_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.SerializerMethodField()
    assigned_by_id = serializers.CharField(allow_null=True, help_text=_("Membership id."))
    ended_by_id = serializers.CharField(allow_null=True, help_text=_("Membership id."))
    renewed_from_id = serializers.CharField(allow_null=True)

    @extend_schema_field(
        NamedEnumField(component_name="RoleAssignmentStatusEnum", choices=ASSIGNMENT_STATUSES)
    )
    def get_status(self, obj) -> str:
        return assignment_status(obj)

    @extend_schema_field(
        NamedEnumField(
            component_name="RoleEndReasonEnum", choices=EndReason.choices, allow_null=True
        )
    )
    def get_end_reason(self, obj) -> str | None:
        return obj.end_reason or None


class CommunityBriefOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class MyRoleOut(serializers.Serializer):
    assignment_id = serializers.CharField(source="id")
    community = CommunityBriefOut()
    role = RoleBriefOut()
    capabilities = serializers.ListField(child=_capability_field(), source="role.capabilities")
    starts_at = serializers.DateTimeField()
    term_ends_at = serializers.DateTimeField(allow_null=True)


class VolunteerOut(serializers.Serializer):
    id = serializers.CharField()
    role = RoleBriefOut()
    member = MemberBriefOut(source="membership")
    message = serializers.CharField()
    status = NamedEnumField(
        component_name="RoleVolunteerStatusEnum", choices=VolunteerStatus.choices
    )
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    assignment_id = serializers.CharField(allow_null=True)


# --- input ----------------------------------------------------------------------------------
class RoleCreateIn(serializers.Serializer):
    name = MemberTextField(max_length=ROLE_NAME_MAX)
    description = MemberTextField(multiline=True, max_length=2000, allow_blank=True, default="")
    capabilities = serializers.ListField(child=_capability_field(), max_length=20, default=list)
    max_holders = serializers.IntegerField(
        min_value=1, max_value=MAX_HOLDERS_LIMIT, allow_null=True, default=None
    )
    term_days = serializers.IntegerField(
        min_value=1, max_value=MAX_TERM_DAYS, allow_null=True, default=None
    )


class RoleUpdateIn(serializers.Serializer):
    name = MemberTextField(max_length=ROLE_NAME_MAX, required=False)
    description = MemberTextField(multiline=True, max_length=2000, allow_blank=True, required=False)
    capabilities = serializers.ListField(child=_capability_field(), max_length=20, required=False)
    max_holders = serializers.IntegerField(
        min_value=1, max_value=MAX_HOLDERS_LIMIT, allow_null=True, required=False
    )
    term_days = serializers.IntegerField(
        min_value=1, max_value=MAX_TERM_DAYS, allow_null=True, required=False
    )


class AssignIn(serializers.Serializer):
    member_id = serializers.CharField(
        max_length=16, help_text=_("Membership id of the new holder.")
    )


class VolunteerIn(serializers.Serializer):
    message = MemberTextField(
        max_length=200, allow_blank=True, default="", help_text=_("Why me (read by admins).")
    )


class VolunteerFilterIn(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
