"""Results of a poll computed from its :class:`~polls.models.Tally` rows (never from ballots).

One query reads every tally of the poll; the counting functions of ``polls.counting`` run on
those aggregated rows. The work depends on the number of distinct ballot shapes, not on the
number of ballots: a single-choice poll has one row per option plus the voters row, a ranked
poll one row per distinct ranking (with 5 options at most 325 however many voted), so instant
runoff over 100,000 ranked ballots processes a few hundred weighted rankings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import CharField, Value
from django.utils.translation import gettext_lazy

from polls import counting
from polls.ballots import RANK_SEPARATOR, VOTERS_KEY
from polls.models import Poll, PollKind, RankedMethod, Tally

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


def compute_results(poll: Poll, options: Sequence[str], tallies: dict[str, int]) -> dict[str, Any]:
    """The results payload of ``poll`` (option ids ``options`` in poll order).

    ``{"voters": n, "method": ..., "result": {...}, "alternative": {...} | None}``; ``result``
    is the ``to_dict()`` of the counting function of the poll's kind. Tallies of options that
    were deleted are ignored."""
    known = set(options)
    voters = tallies.get(VOTERS_KEY, 0)
    kind = poll.kind
    method: str | None = None
    alternative = None
    if kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        counts = {key: n for key, n in tallies.items() if key in known}
        result = counting.count_choices(counts, options, voters).to_dict()
    elif kind == PollKind.RANKED:
        rankings: dict[tuple[str, ...], int] = defaultdict(int)
        for key, n in tallies.items():
            if key == VOTERS_KEY:
                continue
            ranking = tuple(o for o in key.split(RANK_SEPARATOR) if o in known)
            rankings[ranking] += n
        irv = counting.instant_runoff(rankings, options).to_dict()
        bor = counting.borda(rankings, options).to_dict()
        method = poll.ranked_method
        result, alternative = (irv, bor) if method == RankedMethod.IRV else (bor, irv)
    elif kind == PollKind.SCORE:
        distribution: dict[str, dict[int, int]] = defaultdict(dict)
        for key, n in tallies.items():
            option, _, score = key.partition(":")
            if option in known and poll.min_score <= int(score) <= poll.max_score:
                distribution[option][int(score)] = n
        result = counting.score_summary(
            distribution, options, poll.min_score, poll.max_score
        ).to_dict()
    elif kind == PollKind.PROPOSAL:
        counts = {key: n for key, n in tallies.items() if key in counting.PROPOSAL_POSITIONS}
        result = counting.proposal_summary(counts).to_dict()
    else:
        answers: dict[str, dict[str, int]] = defaultdict(dict)
        for key, n in tallies.items():
            option, _, answer = key.partition(":")
            if option in known and answer in counting.TIME_ANSWERS:
                answers[option][answer] = n
        result = counting.time_poll_ranking(answers, options).to_dict()
    return {"voters": voters, "method": method, "result": result, "alternative": alternative}
