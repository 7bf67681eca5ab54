"""Input and output serializers of the moderation API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from moderation.models import CaseStatus, Decision, ReportReason, TargetKind


class ReportIn(serializers.Serializer):
    target_kind = serializers.ChoiceField(choices=TargetKind.choices)
    target_id = serializers.CharField(max_length=16)
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ReportOut(serializers.Serializer):
    """My report and what became of it. The moderator's name is never shown."""

    id = serializers.CharField()
    case_id = serializers.CharField()
    target_kind = serializers.ChoiceField(choices=TargetKind.choices, source="case.target_kind")
    target_id = serializers.CharField(source="case.target_id")
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    note = serializers.CharField()
    case_status = serializers.ChoiceField(choices=CaseStatus.choices, source="case.status")
    decision = serializers.CharField(source="case.decision", help_text=_("Empty while open."))
    created_at = serializers.DateTimeField()


class CaseFilterIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)


class CaseOut(serializers.Serializer):
    id = serializers.CharField()
    target_kind = serializers.ChoiceField(choices=TargetKind.choices)
    target_id = serializers.CharField()
    subject_id = serializers.CharField(help_text=_("The member answerable: author or reported."))
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    decision = serializers.CharField(help_text=_("Empty while open."))
    reason = serializers.CharField()
    mute_until = serializers.DateTimeField(allow_null=True)
    report_count = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class CaseDecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(max_length=1000)
    mute_days = serializers.IntegerField(required=False, allow_null=True, default=None)
