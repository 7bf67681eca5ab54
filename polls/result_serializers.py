"""Typed shapes of poll results for the contract: one per counting method.

The results endpoint renders ``polls.counting`` results (``to_dict()``) as they are; these
serializers only describe them, so the mini-program gets a typed schema per poll kind."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from polls.counting import PROPOSAL_POSITIONS
from polls.openapi import KindTagField

_option = serializers.CharField


class OptionCountOut(serializers.Serializer):
    option = _option()
    count = serializers.IntegerField()
    percent = serializers.FloatField(help_text=_("Of `participant_count`, one decimal."))


class ChoiceResultOut(serializers.Serializer):
    """Single and multiple choice."""

    kind = KindTagField("choice", family="Result")

    participant_count = serializers.IntegerField(
        help_text=_("How many members took part (ballots counted).")
    )
    options = OptionCountOut(many=True, help_text=_("Most votes first, then poll order."))
    winners = serializers.ListField(
        child=_option(), help_text=_("Several on a tie; empty: no votes.")
    )


class RunoffRoundOut(serializers.Serializer):
    number = serializers.IntegerField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Votes of each continuing option.")
    )
    exhausted = serializers.IntegerField(help_text=_("Ballots with no continuing option (so far)."))
    eliminated = serializers.ListField(child=_option(), help_text=_("Empty in the deciding round."))
    winner = _option(allow_null=True)
    tie_break = serializers.ChoiceField(
        choices=["earlier_rounds", "option_order"],
        allow_null=True,
        help_text=_("How a tie for the fewest votes was broken in this round, if there was one."),
    )


class RunoffResultOut(serializers.Serializer):
    """Ranked choice counted by instant runoff: every round."""

    kind = KindTagField("irv", family="Result")

    participant_count = serializers.IntegerField(
        help_text=_("How many members took part (ballots counted).")
    )
    rounds = RunoffRoundOut(many=True)
    winner = _option(allow_null=True)
    tie_break_rule = serializers.CharField(help_text=_("The tie-break rule, in words."))


class OptionPointsOut(serializers.Serializer):
    option = _option()
    points = serializers.IntegerField()


class BordaResultOut(serializers.Serializer):
    """Ranked choice counted by Borda (n-1 points for a first place ... 0 for unranked)."""

    kind = KindTagField("borda", family="Result")

    participant_count = serializers.IntegerField(
        help_text=_("How many members took part (ballots counted).")
    )
    options = OptionPointsOut(many=True)
    winners = serializers.ListField(child=_option())


class OptionScoresOut(serializers.Serializer):
    option = _option()
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Ballots per score, every score included.")
    )


class ScoreResultOut(serializers.Serializer):
    """Score polls: mean, median and distribution per option."""

    kind = KindTagField("score", family="Result")

    min_score = serializers.IntegerField()
    max_score = serializers.IntegerField()
    options = OptionScoresOut(many=True, help_text=_("Highest mean first."))


class PositionCountOut(serializers.Serializer):
    position = serializers.ChoiceField(choices=PROPOSAL_POSITIONS)
    count = serializers.IntegerField()
    percent = serializers.FloatField()


class ProposalResultOut(serializers.Serializer):
    """Proposals: agree / abstain / disagree / block."""

    kind = KindTagField("proposal", family="Result")

    participant_count = serializers.IntegerField(
        help_text=_("How many members took part (ballots counted).")
    )
    positions = PositionCountOut(many=True)
    blocked = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=["passed", "rejected", "blocked", "no_votes"])


class TimeSlotOut(serializers.Serializer):
    option = _option()
    yes = serializers.IntegerField()
    if_need_be = serializers.IntegerField()
    no = serializers.IntegerField()
    available = serializers.IntegerField(help_text=_("Members who can attend (yes + if_need_be)."))


class TimePollResultOut(serializers.Serializer):
    """Time polls: slots, the best first."""

    kind = KindTagField("time", family="Result")

    slots = TimeSlotOut(many=True)
    best = serializers.ListField(child=_option())


#: The result kind (the ``kind`` of a result object) -> its shape.
RESULT_SHAPES = {
    "choice": ChoiceResultOut,
    "irv": RunoffResultOut,
    "borda": BordaResultOut,
    "score": ScoreResultOut,
    "proposal": ProposalResultOut,
    "time": TimePollResultOut,
}


def result_kind(poll_kind: str, method: str | None) -> str:
    """The ``kind`` of a result of a poll of ``poll_kind`` counted by ``method`` (ranked polls:
    ``irv`` or ``borda``; the others have one count)."""
    if poll_kind in ("single", "multiple"):
        return "choice"
    if poll_kind == "ranked":
        return method or "irv"
    return poll_kind


#: The head count of a result is ``participant_count`` in the API, whatever the counting module
#: calls it (``voters``, ``ballots``, ``total``; also the keys of results frozen at close).
HEAD_COUNT_KEYS = {"voters", "ballots", "total"}


def tagged(result: dict | None, kind: str) -> dict | None:
    """``result`` (a counting ``to_dict()``, computed now or frozen at close) as the API shows
    it: its ``kind`` first, so a client switches on it, and its head count as
    ``participant_count``."""
    if result is None:
        return None
    return {
        "kind": kind,
        **{("participant_count" if k in HEAD_COUNT_KEYS else k): v for k, v in result.items()},
    }


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="PollResult",
        serializers=RESULT_SHAPES,
        resource_type_field_name="kind",
    )
)
class PollResultField(serializers.JSONField):
    """A counting result; its ``kind`` says which shape it has."""
