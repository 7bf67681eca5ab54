"""Input and output serializers of the polls API (kept separate; inputs list exactly the
writable fields)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.api.serializers import MemberTextField, UserOut
from polls.counting import PROPOSAL_POSITIONS, TIME_ANSWERS
from polls.models import (
    MAX_OPTIONS,
    Option,
    Poll,
    PollKind,
    PollStatus,
    RankedMethod,
    ResultsVisibility,
)
from polls.openapi import NamedEnumField
from polls.result_serializers import PollResultField

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _id() -> serializers.CharField:
    return serializers.CharField(max_length=16)


# --- output ---------------------------------------------------------------------------------
class PollOptionOut(serializers.ModelSerializer):
    class Meta:
        model = Option
        fields = ["id", "label", "position", "starts_at", "ends_at"]


class PollCardOut(serializers.ModelSerializer):
    """Everything a poll card in the list shows."""

    status = NamedEnumField(
        choices=PollStatus.choices, component_name="PollStatusEnum", read_only=True
    )
    kind = NamedEnumField(choices=PollKind.choices, component_name="PollKindEnum")
    voted = serializers.BooleanField(help_text="Whether I have voted.")
    turnout_percent = serializers.FloatField(
        allow_null=True, help_text="voter_count / eligible_count in %, one decimal."
    )
    quorum_met = serializers.BooleanField(allow_null=True)

    class Meta:
        model = Poll
        fields = [
            "id",
            "title",
            "kind",
            "secret",
            "status",
            "opens_at",
            "closes_at",
            "results_visibility",
            "voted",
            "voter_count",
            "eligible_count",
            "turnout_percent",
            "quorum_percent",
            "quorum_met",
            "created_at",
        ]


class MyPollStateOut(serializers.Serializer):
    voted = serializers.BooleanField()
    can_vote = serializers.BooleanField(help_text="Open, and I may take part.")
    can_manage = serializers.BooleanField(help_text="I may close, reopen and edit it.")
    can_add_option = serializers.BooleanField()
    can_see_voters = serializers.BooleanField()


class PollDetailOut(PollCardOut):
    author = UserOut(allow_null=True)
    options = PollOptionOut(many=True)
    my = serializers.SerializerMethodField()

    class Meta(PollCardOut.Meta):
        fields = [
            *PollCardOut.Meta.fields,
            "description",
            "author",
            "ranked_method",
            "min_selections",
            "max_selections",
            "min_score",
            "max_score",
            "allow_member_options",
            "allow_vote_change",
            "min_ballots_to_show",
            "voters_visible",
            "reminder_hours",
            "closed_at",
            "options",
            "my",
        ]

    @extend_schema_field(MyPollStateOut)
    def get_my(self, obj: Poll) -> dict:
        return MyPollStateOut(self.context["my"]).data


class PollBallotOut(serializers.Serializer):
    """My ballot. For secret polls the server cannot tell which ballot is mine: only ``voted``
    is known, the choice fields are null (except in the answer to my own PUT, which echoes
    them with the ``receipt``)."""

    voted = serializers.BooleanField()
    secret = serializers.BooleanField()
    option_ids = serializers.ListField(child=_id(), allow_null=True)
    ranking = serializers.ListField(child=_id(), allow_null=True)
    scores = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    position = serializers.ChoiceField(choices=PROPOSAL_POSITIONS, allow_null=True)
    reason = serializers.CharField(allow_null=True)
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=TIME_ANSWERS), allow_null=True
    )
    receipt = serializers.CharField(
        allow_null=True,
        help_text=(
            "Secret polls, in the answer to PUT only: keep it (wx.setStorage). It is the only "
            "way to change or withdraw this secret ballot; the server stores just its hash."
        ),
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class PollResultsOut(serializers.Serializer):
    poll_id = serializers.CharField()
    kind = NamedEnumField(choices=PollKind.choices, component_name="PollKindEnum")
    status = NamedEnumField(choices=PollStatus.choices, component_name="PollStatusEnum")
    final = serializers.BooleanField(help_text="Frozen after close.")
    visible = serializers.BooleanField(help_text="False: counts hidden, see hidden_reason.")
    hidden_reason = serializers.ChoiceField(
        choices=["after_vote", "after_close", "too_few_ballots"],
        allow_null=True,
        help_text=(
            "`after_vote`: vote first; `after_close`: wait for the close; `too_few_ballots`: a "
            "secret poll shows counts only from `min_ballots_to_show` ballots on."
        ),
    )
    ballots_needed = serializers.IntegerField(
        help_text="Secret polls: how many more ballots before counts show (0 when shown)."
    )
    voters = serializers.IntegerField()
    eligible_count = serializers.IntegerField(allow_null=True)
    turnout_percent = serializers.FloatField(allow_null=True)
    quorum_percent = serializers.IntegerField()
    quorum_met = serializers.BooleanField(allow_null=True)
    ranked_method = serializers.ChoiceField(
        choices=RankedMethod.choices, allow_null=True, help_text="Ranked polls: official count."
    )
    result = PollResultField(
        allow_null=True,
        help_text=(
            "Shape by kind: single/multiple `ChoiceResultOut`; ranked `RunoffResultOut` (irv) "
            "or `BordaResultOut` (borda); score `ScoreResultOut`; proposal "
            "`ProposalResultOut`; time `TimePollResultOut`. Null when hidden."
        ),
    )
    alternative = PollResultField(
        allow_null=True,
        help_text="Ranked polls: the other count (`BordaResultOut` or `RunoffResultOut`).",
    )
    options = PollOptionOut(many=True)


class PollVoterOut(serializers.Serializer):
    user = UserOut(source="voter")
    choices = serializers.JSONField()
    reason = serializers.CharField()
    voted_at = serializers.DateTimeField(source="created_at")
    updated_at = serializers.DateTimeField()


class PollNonVoterOut(serializers.Serializer):
    membership_id = serializers.CharField(source="pk")
    user = UserOut()
    tier = serializers.CharField()


# --- input ----------------------------------------------------------------------------------
class PollTimeField(serializers.DateTimeField):
    """A poll or slot time: within 2000-2100, so it renders as an RFC 3339 date-time in every
    community time zone (year 100 in Asia/Shanghai has the offset +08:05:43) and never
    overflows when converted."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)])
        super().__init__(**kwargs)


class PollOptionIn(serializers.Serializer):
    label = MemberTextField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Time polls may leave it blank: it is made from the slot.",
    )
    starts_at = PollTimeField(required=False, allow_null=True, default=None)
    ends_at = PollTimeField(required=False, allow_null=True, default=None)


class PollCreateIn(serializers.Serializer):
    title = MemberTextField(max_length=200)
    description = MemberTextField(max_length=5000, required=False, allow_blank=True, multiline=True)
    kind = NamedEnumField(choices=PollKind.choices, component_name="PollKindEnum")
    options = PollOptionIn(many=True, required=False, max_length=MAX_OPTIONS)
    opens_at = PollTimeField(required=False, help_text="Default: now.")
    closes_at = PollTimeField()
    ranked_method = serializers.ChoiceField(choices=RankedMethod.choices, required=False)
    min_selections = serializers.IntegerField(min_value=1, max_value=MAX_OPTIONS, required=False)
    max_selections = serializers.IntegerField(min_value=1, max_value=MAX_OPTIONS, required=False)
    min_score = serializers.IntegerField(min_value=-100, max_value=100, required=False)
    max_score = serializers.IntegerField(min_value=-100, max_value=100, required=False)
    allow_member_options = serializers.BooleanField(required=False)
    secret = serializers.BooleanField(required=False)
    results_visibility = serializers.ChoiceField(choices=ResultsVisibility.choices, required=False)
    allow_vote_change = serializers.BooleanField(required=False)
    min_ballots_to_show = serializers.IntegerField(min_value=1, max_value=100, required=False)
    quorum_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    voters_visible = serializers.BooleanField(required=False)
    reminder_hours = serializers.IntegerField(min_value=0, max_value=336, required=False)


class PollBallotIn(serializers.Serializer):
    """Send the one field of your poll's kind (plus ``reason`` for proposals, ``receipt`` to
    replace a secret ballot)."""

    option_ids = serializers.ListField(
        child=_id(), required=False, max_length=MAX_OPTIONS, help_text="single / multiple"
    )
    ranking = serializers.ListField(
        child=_id(), required=False, max_length=MAX_OPTIONS, help_text="ranked: best first"
    )
    scores = serializers.DictField(
        child=serializers.IntegerField(), required=False, help_text="score: option id → score"
    )
    position = serializers.ChoiceField(
        choices=PROPOSAL_POSITIONS,
        required=False,
        error_messages={
            "invalid_choice": _("Unknown position: use agree, abstain, disagree or block.")
        },
        help_text="proposal",
    )
    reason = MemberTextField(
        max_length=500,
        required=False,
        allow_blank=True,
        multiline=True,
        help_text="proposal, named polls only",
    )
    answers = serializers.DictField(
        child=serializers.ChoiceField(
            choices=TIME_ANSWERS,
            error_messages={"invalid_choice": _("Unknown answer: use yes, if_need_be or no.")},
        ),
        required=False,
        help_text="time poll: option id → yes / if_need_be / no",
    )
    receipt = serializers.CharField(
        max_length=128,
        required=False,
        help_text=(
            "Secret polls: the receipt from your first vote, to replace it. On a first vote you "
            "may send your own random receipt (>= 32 characters) to make the request safely "
            "retryable."
        ),
    )

    def validate(self, attrs):
        for name in ("scores", "answers"):
            if name in attrs and len(attrs[name]) > MAX_OPTIONS:
                raise serializers.ValidationError({name: _("Too many options.")})
        return attrs


class PollWithdrawIn(serializers.Serializer):
    receipt = serializers.CharField(
        max_length=128, required=False, help_text="Secret polls: the receipt of your ballot."
    )


class PollOptionAddIn(PollOptionIn):
    """An option a member or manager adds to an existing poll (same fields as at creation)."""


class PollReopenIn(serializers.Serializer):
    closes_at = PollTimeField(
        required=False, help_text="Needed when the old closing time has passed."
    )


class PollFilterIn(serializers.Serializer):
    status = NamedEnumField(
        choices=PollStatus.choices, component_name="PollStatusEnum", required=False
    )
    not_voted = serializers.BooleanField(
        required=False, default=False, help_text="Only polls I have not voted in."
    )
