"""Input and output serializers of the polls API (kept separate; inputs list exactly the
writable fields)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
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
from polls.openapi import KindTagField, NamedEnumField
from polls.result_serializers import PollResultField
from polls.selectors import secret_ballot_terms

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
    voted = serializers.BooleanField(help_text=_("Whether I have voted."))
    participant_count = serializers.IntegerField(
        source="voter_count", help_text=_("How many members took part (voted).")
    )
    eligible_count = serializers.IntegerField(
        source="electorate",
        allow_null=True,
        help_text=(
            _(
                "Who may take part: the members active when the poll opened, plus those who "
                "joined later and voted (so turnout never passes 100%). Null until it opens."
            )
        ),
    )
    turnout_percent = serializers.FloatField(
        allow_null=True, help_text=_("participant_count / eligible_count in %, one decimal.")
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
            "participant_count",
            "eligible_count",
            "turnout_percent",
            "quorum_percent",
            "quorum_met",
            "created_at",
        ]


class PollFeedCardOut(PollCardOut):
    """A card of the feed of open polls across my communities: the poll card and its
    community."""

    community_id = serializers.CharField(help_text=_("The community (WeChat group) it belongs to."))
    community_name = serializers.CharField(source="community.name")

    class Meta(PollCardOut.Meta):
        fields = [*PollCardOut.Meta.fields, "community_id", "community_name"]


class MyPollStateOut(serializers.Serializer):
    voted = serializers.BooleanField()
    can_vote = serializers.BooleanField(help_text=_("Open, and I may take part."))
    can_manage = serializers.BooleanField(help_text=_("I may close, reopen and edit it."))
    can_add_option = serializers.BooleanField()
    can_see_voters = serializers.BooleanField()


class SecretBallotTermsOut(serializers.Serializer):
    """What a secret poll promises and leaves, to read before voting."""

    batch_size = serializers.IntegerField(
        help_text=(
            _(
                "k (`min_ballots_to_show`): ballots are mixed and counted in shuffled batches of "
                "at least this many."
            )
        )
    )
    last_batch_may_be_smaller = serializers.BooleanField(
        help_text=_("Always true: the last batch, mixed at close, may hold fewer than k ballots.")
    )
    live_results = NamedEnumField(
        choices=[
            ("in_steps", _("Live results move in steps of at least k ballots")),
            ("after_close", _("Results only after close")),
        ],
        component_name="SecretLiveResultsEnum",
        help_text=(
            _(
                "What members see while the poll is open (the author and moderators always see "
                "live results, in the same steps)."
            )
        ),
    )
    box_publication_chosen = serializers.BooleanField(
        help_text=(
            _(
                "The author may publish the ballot box after close (chosen before the first vote). "
                "A published box lets a voter show others how they voted."
            )
        )
    )
    box_published = serializers.BooleanField(
        help_text=_("Published: `GET /polls/{id}/ballot-box` answers.")
    )
    statement = serializers.CharField(help_text=_("All of the above in one translated sentence."))


class PollDetailOut(PollCardOut):
    author = UserOut(allow_null=True)
    options = PollOptionOut(many=True)
    my = serializers.SerializerMethodField()
    secret_ballot = serializers.SerializerMethodField()

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
            "publish_ballot_box",
            "options",
            "my",
            "secret_ballot",
        ]

    @extend_schema_field(MyPollStateOut)
    def get_my(self, obj: Poll) -> dict:
        return MyPollStateOut(self.context["my"]).data

    @extend_schema_field(SecretBallotTermsOut(allow_null=True))
    def get_secret_ballot(self, obj: Poll) -> dict | None:
        terms = secret_ballot_terms(poll=obj)
        return None if terms is None else SecretBallotTermsOut(terms).data


class _BallotOutBase(serializers.Serializer):
    """My ballot. For secret polls the server cannot tell which ballot is mine: only ``voted``
    is known, the choice fields are null (except in the answer to my own PUT, which echoes
    them with the ``receipt``)."""

    voted = serializers.BooleanField()
    secret = serializers.BooleanField()
    receipt = serializers.CharField(
        allow_null=True,
        help_text=(
            _(
                "Secret polls, in the answer to PUT only: keep it (wx.setStorage). It is the only "
                "way to change or withdraw this secret ballot; the server stores just its hash."
            )
        ),
    )
    updated_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When my named ballot was last cast; null for secret polls.")
    )


class SingleBallotOut(_BallotOutBase):
    kind = KindTagField("single", family="Ballot")
    option_ids = serializers.ListField(child=_id(), allow_null=True)


class MultipleBallotOut(_BallotOutBase):
    kind = KindTagField("multiple", family="Ballot")
    option_ids = serializers.ListField(child=_id(), allow_null=True)


class RankedBallotOut(_BallotOutBase):
    kind = KindTagField("ranked", family="Ballot")
    ranking = serializers.ListField(child=_id(), allow_null=True, help_text=_("Best first."))


class ScoreBallotOut(_BallotOutBase):
    kind = KindTagField("score", family="Ballot")
    scores = serializers.DictField(child=serializers.IntegerField(), allow_null=True)


class ProposalBallotOut(_BallotOutBase):
    kind = KindTagField("proposal", family="Ballot")
    position = serializers.ChoiceField(choices=PROPOSAL_POSITIONS, allow_null=True)
    reason = serializers.CharField(
        allow_null=True, help_text=_('Named polls: my reason (`""` when none); null until I vote.')
    )


class TimeBallotOut(_BallotOutBase):
    kind = KindTagField("time", family="Ballot")
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=TIME_ANSWERS), allow_null=True
    )


#: Poll kind -> the shape of my ballot in a poll of that kind.
BALLOT_OUT = {
    PollKind.SINGLE: SingleBallotOut,
    PollKind.MULTIPLE: MultipleBallotOut,
    PollKind.RANKED: RankedBallotOut,
    PollKind.SCORE: ScoreBallotOut,
    PollKind.PROPOSAL: ProposalBallotOut,
    PollKind.TIME: TimeBallotOut,
}
PollBallotOut = PolymorphicProxySerializer(
    component_name="PollBallotOut",
    serializers={str(kind): shape for kind, shape in BALLOT_OUT.items()},
    resource_type_field_name="kind",
)


class PollResultsOut(serializers.Serializer):
    poll_id = serializers.CharField()
    kind = NamedEnumField(choices=PollKind.choices, component_name="PollKindEnum")
    status = NamedEnumField(choices=PollStatus.choices, component_name="PollStatusEnum")
    final = serializers.BooleanField(help_text=_("Frozen after close."))
    visible = serializers.BooleanField(help_text=_("False: counts hidden, see hidden_reason."))
    hidden_reason = serializers.ChoiceField(
        choices=["after_vote", "after_close", "too_few_ballots"],
        allow_null=True,
        help_text=(
            _(
                "`after_vote`: vote first; `after_close`: wait for the close; `too_few_ballots`: a "
                "secret poll shows counts only from `min_ballots_to_show` ballots on."
            )
        ),
    )
    ballots_needed = serializers.IntegerField(
        help_text=_("Secret polls: how many more ballots before counts show (0 when shown).")
    )
    participant_count = serializers.IntegerField(
        help_text=_("How many members took part (secret polls: ballots mixed and counted).")
    )
    eligible_count = serializers.IntegerField(allow_null=True)
    turnout_percent = serializers.FloatField(allow_null=True)
    quorum_percent = serializers.IntegerField()
    quorum_met = serializers.BooleanField(allow_null=True)
    ranked_method = serializers.ChoiceField(
        choices=RankedMethod.choices, allow_null=True, help_text=_("Ranked polls: official count.")
    )
    result = PollResultField(
        allow_null=True,
        help_text=(
            _(
                "Its `kind` says its shape: `choice` (single and multiple choice), `irv` or "
                "`borda` (ranked, by `ranked_method`), `score`, `proposal`, `time`. Null when "
                "hidden."
            )
        ),
    )
    alternative = PollResultField(
        allow_null=True,
        help_text=_("Ranked polls: the other count (`kind` `borda` or `irv`); null otherwise."),
    )
    options = PollOptionOut(many=True)


class PublishedChoicesOut(serializers.Serializer):
    """One ballot's choices: only the field of the poll's kind is present."""

    option_ids = serializers.ListField(child=_id(), required=False)
    ranking = serializers.ListField(child=_id(), required=False)
    scores = serializers.DictField(child=serializers.IntegerField(), required=False)
    position = serializers.ChoiceField(choices=PROPOSAL_POSITIONS, required=False)
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=TIME_ANSWERS), required=False
    )


class PublishedBallotOut(serializers.Serializer):
    tag = serializers.CharField(
        help_text=_("SHA-256 (hex) of the voter's receipt, domain-separated: see `tag_procedure`.")
    )
    choices = PublishedChoicesOut()


class CountingParametersOut(serializers.Serializer):
    """Everything a recount needs besides the ballots."""

    kind = NamedEnumField(choices=PollKind.choices, component_name="PollKindEnum")
    options = serializers.ListField(
        child=_id(), help_text=_("Option ids in poll order (it settles ties).")
    )
    ranked_method = serializers.ChoiceField(
        choices=RankedMethod.choices, help_text=_("Ranked polls: the count shown as `result`.")
    )
    min_score = serializers.IntegerField()
    max_score = serializers.IntegerField()


class PublishedResultOut(serializers.Serializer):
    participant_count = serializers.IntegerField(help_text=_("Ballots counted."))
    method = NamedEnumField(
        choices=RankedMethod.choices,
        component_name="RankedMethodEnum",
        allow_null=True,
        help_text=_("Ranked polls: the count shown as `result`; null for other kinds."),
    )
    result = PollResultField(help_text=_("As in the results endpoint, by kind."))
    alternative = PollResultField(allow_null=True)


class PollBallotBoxOut(serializers.Serializer):
    """The published ballot box of a closed secret poll: recount it, find your ballot."""

    poll_id = serializers.CharField()
    title = serializers.CharField()
    published_at = serializers.DateTimeField()
    tag_procedure = serializers.CharField(
        help_text=_("How a voter computes their ballot's tag from their receipt.")
    )
    counting = CountingParametersOut()
    options = PollOptionOut(many=True, help_text=_("Labels of the option ids, for people."))
    ballot_count = serializers.IntegerField()
    ballots = PublishedBallotOut(many=True, help_text=_("Every final ballot, in shuffled order."))
    result = PublishedResultOut(help_text=_("The published (frozen) result of the poll."))


@extend_schema_field(PollBallotOut)
class _BallotField(serializers.JSONField):
    """My ballot, already in the shape of the poll's kind."""


class PollPageOut(serializers.Serializer):
    """Everything the poll page shows, in one answer."""

    poll = PollDetailOut(help_text=_("As `getPoll` answers."))
    my_ballot = _BallotField(help_text=_("As `getMyBallot` answers."))
    results = PollResultsOut(help_text=_("As `getPollResults` answers (hidden counts are null)."))


class PollVoterOut(serializers.Serializer):
    user = UserOut(source="voter")
    choices = serializers.JSONField()
    reason = serializers.CharField(
        source="shown_reason", help_text=_('`""` while the reason waits for moderation.')
    )
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
        help_text=_("Time polls may leave it blank: it is made from the slot."),
    )
    starts_at = PollTimeField(required=False, allow_null=True, default=None)
    ends_at = PollTimeField(required=False, allow_null=True, default=None)


class PollCreateIn(serializers.Serializer):
    title = MemberTextField(max_length=200)
    description = MemberTextField(max_length=5000, required=False, allow_blank=True, multiline=True)
    kind = NamedEnumField(choices=PollKind.choices, component_name="PollKindEnum")
    options = PollOptionIn(many=True, required=False, max_length=MAX_OPTIONS)
    opens_at = PollTimeField(required=False, help_text=_("Default: now."))
    closes_at = PollTimeField()
    ranked_method = serializers.ChoiceField(choices=RankedMethod.choices, required=False)
    min_selections = serializers.IntegerField(min_value=1, max_value=MAX_OPTIONS, required=False)
    max_selections = serializers.IntegerField(min_value=1, max_value=MAX_OPTIONS, required=False)
    min_score = serializers.IntegerField(min_value=-100, max_value=100, required=False)
    max_score = serializers.IntegerField(min_value=-100, max_value=100, required=False)
    allow_member_options = serializers.BooleanField(required=False)
    secret = serializers.BooleanField(required=False)
    publish_ballot_box = serializers.BooleanField(
        required=False,
        help_text=(
            _(
                "Secret polls only, default false: after close the author may publish the ballot "
                "box (every ballot, shuffled, each with a tag its voter computes from their "
                "receipt) so anyone can recount. Voters see this before voting; a published box "
                "lets a voter show others how they voted. Changeable only until the first vote."
            )
        ),
    )
    results_visibility = serializers.ChoiceField(choices=ResultsVisibility.choices, required=False)
    allow_vote_change = serializers.BooleanField(required=False)
    min_ballots_to_show = serializers.IntegerField(min_value=1, max_value=100, required=False)
    quorum_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    voters_visible = serializers.BooleanField(required=False)
    reminder_hours = serializers.IntegerField(min_value=0, max_value=336, required=False)


class _BallotInBase(serializers.Serializer):
    receipt = serializers.CharField(
        max_length=128,
        required=False,
        help_text=(
            _(
                "Secret polls: the receipt from your first vote, to replace it. On a first vote you "
                "may send your own random receipt (>= 32 characters) to make the request safely "
                "retryable."
            )
        ),
    )


def _option_ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=_id(), max_length=MAX_OPTIONS, help_text=help_text)


class SingleBallotIn(_BallotInBase):
    kind = KindTagField("single", family="Ballot")
    option_ids = _option_ids(_("Exactly one option id."))


class MultipleBallotIn(_BallotInBase):
    kind = KindTagField("multiple", family="Ballot")
    option_ids = _option_ids(_("Between `min_selections` and `max_selections` option ids."))


class RankedBallotIn(_BallotInBase):
    kind = KindTagField("ranked", family="Ballot")
    ranking = _option_ids(_("Option ids, best first; partial allowed, no duplicates."))


class ScoreBallotIn(_BallotInBase):
    kind = KindTagField("score", family="Ballot")
    scores = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Option id -> score within the range.")
    )


class ProposalBallotIn(_BallotInBase):
    kind = KindTagField("proposal", family="Ballot")
    position = serializers.ChoiceField(choices=PROPOSAL_POSITIONS)
    reason = MemberTextField(
        max_length=500,
        required=False,
        allow_blank=True,
        multiline=True,
        help_text=_("Named polls only."),
    )


class TimeBallotIn(_BallotInBase):
    kind = KindTagField("time", family="Ballot")
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=TIME_ANSWERS),
        help_text=_("Option id -> yes / if_need_be / no."),
    )


#: The documented request body of ``castBallot``: one schema per poll kind, told apart by
#: ``kind``. (The server reads the body with ``PollBallotIn``, which also accepts a body
#: without ``kind``, as sent before the per-kind schemas.)
BallotIn = PolymorphicProxySerializer(
    component_name="BallotIn",
    serializers={
        "single": SingleBallotIn,
        "multiple": MultipleBallotIn,
        "ranked": RankedBallotIn,
        "score": ScoreBallotIn,
        "proposal": ProposalBallotIn,
        "time": TimeBallotIn,
    },
    resource_type_field_name="kind",
)


class PollBallotIn(serializers.Serializer):
    """What the server reads of a ballot: ``kind`` (optional; when sent it must be the
    poll's) and the field of the poll's kind, checked against the poll by the service."""

    kind = NamedEnumField(choices=PollKind.choices, component_name="PollKindEnum", required=False)
    option_ids = serializers.ListField(child=_id(), required=False, max_length=MAX_OPTIONS)
    ranking = serializers.ListField(child=_id(), required=False, max_length=MAX_OPTIONS)
    scores = serializers.DictField(child=serializers.IntegerField(), required=False)
    position = serializers.ChoiceField(
        choices=PROPOSAL_POSITIONS,
        required=False,
        error_messages={
            "invalid_choice": _("Unknown position: use agree, abstain, disagree or block.")
        },
    )
    reason = MemberTextField(max_length=500, required=False, allow_blank=True, multiline=True)
    answers = serializers.DictField(
        child=serializers.ChoiceField(
            choices=TIME_ANSWERS,
            error_messages={"invalid_choice": _("Unknown answer: use yes, if_need_be or no.")},
        ),
        required=False,
    )
    receipt = serializers.CharField(max_length=128, required=False)

    def validate(self, attrs):
        for name in ("scores", "answers"):
            if name in attrs and len(attrs[name]) > MAX_OPTIONS:
                raise serializers.ValidationError({name: _("Too many options.")})
        return attrs


class PollWithdrawIn(serializers.Serializer):
    receipt = serializers.CharField(
        max_length=128, required=False, help_text=_("Secret polls: the receipt of your ballot.")
    )


class PollOptionAddIn(PollOptionIn):
    """An option a member or manager adds to an existing poll (same fields as at creation)."""


class PollReopenIn(serializers.Serializer):
    closes_at = PollTimeField(
        required=False, help_text=_("Needed when the old closing time has passed.")
    )


class PollFeedFilterIn(serializers.Serializer):
    not_voted = serializers.BooleanField(
        required=False, default=False, help_text=_("Only polls I have not voted in.")
    )


class PollFilterIn(serializers.Serializer):
    status = NamedEnumField(
        choices=PollStatus.choices, component_name="PollStatusEnum", required=False
    )
    not_voted = serializers.BooleanField(
        required=False, default=False, help_text=_("Only polls I have not voted in.")
    )
