"""Input and output serializers of the moderation API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.models import (
    AppealStatus,
    AuditAction,
    CaseStatus,
    Decision,
    ReportReason,
    TargetKind,
)
from moderation.selectors import SANCTIONS, warning_rule_text
from moderation.targets import TARGETS


class ReportIn(serializers.Serializer):
    # What members can point at (the other kinds are held only by WeChat's check).
    target_kind = serializers.ChoiceField(
        choices=[(kind, label) for kind, label in TargetKind.choices if kind in TARGETS]
    )
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
    appeal_status = serializers.CharField(
        required=False,
        allow_null=True,
        help_text=_("The status of the member's appeal (`open` waits in the queue); null: none."),
    )
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        # Sent by the queue (``listModerationCases``), not by a decision's answer.
        optional_in_response = ("report_count", "appeal_status")


class CaseDecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(max_length=1000)
    mute_days = serializers.IntegerField(required=False, allow_null=True, default=None)


class CaseListFilterIn(CaseFilterIn):
    appeal = serializers.ChoiceField(
        choices=AppealStatus.choices,
        required=False,
        help_text=_("`open`: the cases whose appeal waits for a decision."),
    )


class EscalationOut(serializers.Serializer):
    """The community's rule muted me because this warning crossed its threshold."""

    warnings = serializers.IntegerField(help_text=_("Warnings of the rule that led to the mute."))
    window_days = serializers.IntegerField(help_text=_("Days the warnings were counted within."))
    mute_days = serializers.IntegerField()
    mute_until = serializers.DateTimeField(allow_null=True)
    lifted = serializers.SerializerMethodField(
        help_text=_("The mute was lifted early (an appeal overturned the warning).")
    )

    def get_lifted(self, obj) -> bool:
        return obj.lifted_at is not None


class SanctionOut(serializers.Serializer):
    """A decision about me: hidden content, a warning (and the mute it led to), or a mute.
    Never who decided."""

    case_id = serializers.CharField(source="id")
    decision = serializers.ChoiceField(choices=[(d, Decision(d).label) for d in SANCTIONS])
    reason = serializers.CharField()
    target_kind = serializers.ChoiceField(choices=TargetKind.choices)
    target_id = serializers.CharField()
    decided_at = serializers.DateTimeField()
    mute_until = serializers.DateTimeField(
        allow_null=True, help_text=_("The end of a mute decided on this case.")
    )
    warning_withdrawn = serializers.SerializerMethodField(
        help_text=_("A warning an appeal overturned: it no longer counts.")
    )
    escalation = serializers.SerializerMethodField(
        help_text=_("The mute this warning led to by the community's rule; null: none.")
    )
    appeal_status = serializers.SerializerMethodField(
        help_text=_("Empty: not appealed; I may appeal once.")
    )

    def _warning(self, obj):
        warnings = list(obj.warnings.all())
        return warnings[0] if warnings else None

    def get_warning_withdrawn(self, obj) -> bool:
        warning = self._warning(obj)
        return warning is not None and warning.withdrawn_at is not None

    @extend_schema_field(EscalationOut(allow_null=True))
    def get_escalation(self, obj):
        warning = self._warning(obj)
        if warning is None or warning.escalation is None:
            return None
        if warning.escalation.crossing_warning_id != warning.pk:
            return None
        return EscalationOut(warning.escalation).data

    @extend_schema_field(serializers.ChoiceField(choices=[("", "")] + list(AppealStatus.choices)))
    def get_appeal_status(self, obj) -> str:
        return obj.appeal_status or ""


class AppealIn(serializers.Serializer):
    text = serializers.CharField(
        max_length=1000, help_text=_("Why the decision should be undone (plain text).")
    )


class AppealOut(serializers.Serializer):
    id = serializers.CharField()
    case_id = serializers.CharField()
    text = serializers.CharField(help_text=_("The member's appeal (plain text)."))
    status = serializers.ChoiceField(choices=AppealStatus.choices)
    reply = serializers.CharField(help_text=_("The reason of the decision; empty while open."))
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class AppealDecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[("uphold", _("uphold the decision")), ("overturn", _("overturn the decision"))]
    )
    reason = serializers.CharField(max_length=1000)


class WarningRuleOut(serializers.Serializer):
    enabled = serializers.BooleanField(help_text=_("Warnings escalate to a mute."))
    warnings = serializers.IntegerField(help_text=_("Warnings that lead to a mute."))
    window_days = serializers.IntegerField(help_text=_("Within this many days."))
    mute_days = serializers.IntegerField()
    text = serializers.SerializerMethodField(
        help_text=_("The rule in one sentence, shown with the group rules.")
    )

    def get_text(self, obj) -> str:
        return warning_rule_text(obj)


class WarningRuleIn(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, help_text=_("Warnings escalate to a mute."))
    warnings = serializers.IntegerField(
        required=False, min_value=1, max_value=20, help_text=_("Warnings that lead to a mute.")
    )
    window_days = serializers.IntegerField(
        required=False, min_value=1, max_value=365, help_text=_("Within this many days.")
    )
    mute_days = serializers.IntegerField(required=False, min_value=1, max_value=365)


class AuditFilterIn(serializers.Serializer):
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)


class AuditEntryOut(serializers.Serializer):
    """Who (`actor_id`, null: the clock or the community's rule), to whom, what, why, when."""

    id = serializers.CharField()
    at = serializers.DateTimeField(help_text=_("When it happened (ISO 8601 with offset)."))
    action = serializers.ChoiceField(choices=AuditAction.choices, help_text=_("What happened."))
    actor_id = serializers.CharField(
        allow_null=True,
        help_text=_("User id of who did it; null: the clock or the community's rule."),
    )
    subject_id = serializers.CharField(
        allow_null=True, help_text=_("User id of whom it concerned; null: nobody in particular.")
    )
    reason = serializers.CharField()
    details = serializers.DictField(
        help_text=_("What changed, by action (e.g. the tier before and after).")
    )
