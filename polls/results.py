"""Results of a poll computed from its :class:`~polls.models.Tally` rows (never from ballots).

One query reads every tally of the poll; the counting functions of ``polls.counting`` run on
those aggregated rows. The work depends on the number of distinct ballot shapes, not on the
number of ballots: a single-choice poll has one row per option plus the voters row, a ranked
poll one row per distinct ranking (with 5 options at most 325 however many voted), so instant
runoff over 100,000 ranked ballots processes a few hundred weighted rankings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import CharField, Value
from django.utils.translation import gettext_lazy

from polls.models import Poll, Tally
from polls.recount import VOTERS_KEY, CountingParameters, count_tallies

# ``polls.counting`` is Django-free, so its tie-break rule is translated here; a test checks that
# the English text is the counting module's own.
TIE_BREAK_RULE = gettext_lazy(
    "If several options are tied for the fewest votes in a round, the votes they had in "
    "earlier rounds decide: starting from round 1, the first round in which their votes differ "
    "counts, and the option with fewer votes in that round is eliminated (if more than two are "
    "tied, the later rounds decide among those still tied). If they had equal votes in every "
    "earlier round, the option listed last in the poll is eliminated. Exactly one option is "
    "eliminated per round, so there is always a single winner."
)


def localized(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (computed now or frozen at close) with its texts in the active language."""
    parts = {}
    for name in ("result", "alternative"):
        part = data.get(name)
        if isinstance(part, dict) and "tie_break_rule" in part:
            parts[name] = {**part, "tie_break_rule": str(TIE_BREAK_RULE)}
    return {**data, **parts} if parts else data


def tallies_of(poll: Poll) -> dict[str, int]:
    """Every non-zero tally of ``poll`` plus its ``voter_count`` under ``VOTERS_KEY``, read in
    one statement so that both come from the same snapshot.

    A secret poll counts only mixed ballots: its ``VOTERS_KEY`` is a tally row that the mixing
    step moves with the batch (``voter_count`` counts participations, one vote at a time)."""
    tallies = (
        Tally.objects.filter(community_id=poll.community_id, poll_id=poll.pk, count__gt=0)
        .values_list("key", "count")
        .order_by()
    )
    if poll.secret:
        return {VOTERS_KEY: 0, **dict(tallies)}
    voters = (
        Poll.objects.filter(pk=poll.pk)
        .order_by()
        .values_list(Value(VOTERS_KEY, output_field=CharField()), "voter_count")
    )
    return dict(tallies.union(voters, all=True))


def counting_parameters(poll: Poll, options: Sequence[str]) -> CountingParameters:
    """What counting ``poll`` needs besides its tallies or ballots (``polls.recount``)."""
    return CountingParameters(
        kind=poll.kind,
        options=tuple(options),
        ranked_method=poll.ranked_method,
        min_score=poll.min_score,
        max_score=poll.max_score,
    )


def compute_results(poll: Poll, options: Sequence[str], tallies: dict[str, int]) -> dict[str, Any]:
    """The results payload of ``poll`` (option ids ``options`` in poll order).

    ``{"voters": n, "method": ..., "result": {...}, "alternative": {...} | None}``; ``result``
    is the ``to_dict()`` of the counting function of the poll's kind. Tallies of options that
    were deleted are ignored. The count itself is ``polls.recount.count_tallies``, the same
    pure function that recounts a published ballot box."""
    return count_tallies(counting_parameters(poll, options), tallies)
