"""Vote counting for community polls, computed from aggregated tallies.

Every function works on *aggregated, weighted* input -- the running tallies the
app keeps in the database -- and never on individual ballot rows, so the cost
depends on the number of distinct ballot shapes, not on the number of voters.
This module is pure Python (stdlib only) and has no Django dependency.

Option identifiers are opaque hashable values (strings, UUIDs, ...).  Each
function that takes ``options`` uses it as the poll's option order: it includes
options that got no votes in the result and settles ties that nothing else
settles.  An option in the input that is not in ``options``, a negative count or
a malformed ballot raises ``ValueError``.

Methods
-------
``count_choices``      single and multiple choice: votes and percent of voters.
``instant_runoff``     instant-runoff voting (IRV) over ranked, possibly partial,
                       ballots; one option is eliminated per round until one has a
                       strict majority of the non-exhausted ballots.
``borda``              Borda count: position i of n (0-based) earns n - 1 - i
                       points; unranked options earn 0.
``score_summary``      score polls: count, mean, median, distribution per option.
``proposal_summary``   proposals: agree / abstain / disagree / block, and outcome.
``time_poll_ranking``  scheduling polls: "yes" / "if_need_be" / "no" per slot.

Ordering and ties
-----------------
Ranked lists are ordered by their main figure (best first), then by the poll's
option order.  ``count_choices``, ``borda`` and ``time_poll_ranking`` report every
option tied at the top, so there may be several winners.  ``instant_runoff``
always has a single winner (unless no ballot ranks any option: then there are no
rounds and no winner): of the options tied for the fewest votes, the one with
fewer votes in the earliest previous round where their votes differ is
eliminated, and if they were equal in every round, the one listed last in the
poll (``TIE_BREAK_RULE`` is the wording shown to users).  Percentages (one
decimal) and means (two decimals) are rounded half away from zero.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

K = TypeVar("K", bound=Hashable)

TIE_BREAK_RULE = (
    "If several options are tied for the fewest votes in a round, the votes they had in "
    "earlier rounds decide: starting from round 1, the first round in which their votes "
    "differ counts, and the option with fewer votes in that round is eliminated (if more "
    "than two are tied, the later rounds decide among those still tied). If they had "
    "equal votes in every earlier round, the option listed last in the poll is "
    "eliminated. Exactly one option is eliminated per round, so there is always a single "
    "winner."
)
PROPOSAL_POSITIONS: tuple[str, ...] = ("agree", "abstain", "disagree", "block")
TIME_ANSWERS: tuple[str, ...] = ("yes", "if_need_be", "no")


def _round_half_away(value: Fraction, digits: int) -> float:
    scale = 10**digits
    magnitude = (abs(value) * scale * 2 + 1) // 2
    return float(magnitude if value >= 0 else -magnitude) / scale


def _percent(part: int, whole: int) -> float:
    return _round_half_away(Fraction(100 * part, whole), 1) if whole else 0.0


def _count(value: Any, what: object) -> int:
    """Return ``value`` as a non-negative int (accepts e.g. ``Decimal(3)`` from SQL SUM)."""
    number = int(value)
    if number != value or number < 0:
        raise ValueError(f"invalid count {value!r} for {what!r}")
    return number


def _option_index(options: Sequence[K]) -> dict[K, int]:
    index = {option: position for position, option in enumerate(options)}
    if len(index) != len(options):
        raise ValueError("options contain duplicates")
    return index


def _check_known(keys: Iterable[Any], allowed: Mapping[Any, int], what: str = "option") -> None:
    for key in keys:
        if key not in allowed:
            raise ValueError(f"unknown {what} {key!r}")


def _weighted_rankings(
    rankings: Mapping[tuple[K, ...], int], index: Mapping[K, int]
) -> list[tuple[tuple[K, ...], int]]:
    """Validate ranked ballots and return ``(ranking, weight)`` pairs with weight > 0."""
    checked = []
    for ranking, weight in rankings.items():
        _check_known(ranking, index)
        if len(set(ranking)) != len(ranking):
            raise ValueError(f"ranking {ranking!r} lists an option twice")
        count = _count(weight, ranking)
        if count:
            checked.append((tuple(ranking), count))
    return checked


def _plain(value: Any, is_option: bool = False) -> Any:
    if isinstance(value, _Result):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_plain(item, is_option) for item in value]
    return str(value) if is_option and value is not None else value


class _Result:
    """Base of the result dataclasses: ``to_dict()`` gives JSON-ready plain data.

    Nested results become dicts, tuples lists, mapping keys ``str``, and option
    identifiers (the fields named in ``_OPTION_FIELDS``) ``str``.
    """

    _OPTION_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"option", "winner", "winners", "eliminated", "best"}
    )

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain dicts and lists, ready for JSON."""
        return {
            field.name: _plain(getattr(self, field.name), field.name in self._OPTION_FIELDS)
            for field in fields(self)  # type: ignore[arg-type]
        }


@dataclass(frozen=True)
class OptionCount(_Result, Generic[K]):
    option: K
    count: int
    percent: float


@dataclass(frozen=True)
class ChoiceResult(_Result, Generic[K]):
    voters: int
    options: tuple[OptionCount[K], ...]  # ranked: count desc, then option order
    winners: tuple[K, ...]


def count_choices(counts: Mapping[K, int], options: Sequence[K], voters: int) -> ChoiceResult[K]:
    """Summarise a single- or multiple-choice poll.

    ``counts[option]`` is the number of votes for the option (missing means 0) and
    ``voters`` the number of people who voted; percentages are of voters (0 when
    nobody voted), rounded to one decimal.  Options are ranked by count, most first,
    then by option order.  ``winners`` are all options with the top count, or empty
    when no option got a vote.
    """
    index = _option_index(options)
    _check_known(counts, index)
    voters = _count(voters, "voters")
    tally = {option: _count(counts.get(option, 0), option) for option in options}
    ranked = sorted(options, key=lambda option: (-tally[option], index[option]))
    top = tally[ranked[0]] if ranked else 0
    return ChoiceResult(
        voters=voters,
        options=tuple(OptionCount(o, tally[o], _percent(tally[o], voters)) for o in ranked),
        winners=tuple(o for o in ranked if top and tally[o] == top),
    )


@dataclass(frozen=True)
class RunoffRound(_Result, Generic[K]):
    number: int  # 1-based
    counts: Mapping[K, int]  # every continuing option, in option order
    exhausted: int  # cumulative ballots without a continuing option
    eliminated: tuple[K, ...]  # one option, or empty in the deciding round
    winner: K | None
    tie_break: str | None = None  # "earlier_rounds" / "option_order" if a tie was broken


@dataclass(frozen=True)
class RunoffResult(_Result, Generic[K]):
    ballots: int  # total weight of all ballots, including empty ones
    rounds: tuple[RunoffRound[K], ...]
    winner: K | None

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain data, including ``TIE_BREAK_RULE``."""
        return {**super().to_dict(), "tie_break_rule": TIE_BREAK_RULE}


def _choose_loser(
    continuing: Sequence[K],
    counts: Mapping[K, int],
    history: Sequence[Mapping[K, int]],
    index: Mapping[K, int],
) -> tuple[K, str | None]:
    """Pick the option to eliminate and say which tie-break decided (None: no tie)."""
    fewest = min(counts[option] for option in continuing)
    tied = [option for option in continuing if counts[option] == fewest]
    if len(tied) == 1:
        return tied[0], None
    for past in history:  # earliest round first
        low = min(past[option] for option in tied)
        tied = [option for option in tied if past[option] == low]
        if len(tied) == 1:
            return tied[0], "earlier_rounds"
    return max(tied, key=index.__getitem__), "option_order"


def instant_runoff(rankings: Mapping[tuple[K, ...], int], options: Sequence[K]) -> RunoffResult[K]:
    """Count ranked ballots by instant-runoff voting.

    ``rankings`` maps a ranking (most preferred first; partial rankings allowed, no
    duplicates) to the number of ballots with exactly that ranking.  In each round
    every ballot counts for its most preferred continuing option; ballots with none
    left are exhausted (cumulatively; empty rankings are exhausted from round 1).  An option with more than half of the non-exhausted ballots
    wins, as does the only continuing option.  Otherwise one option with the fewest
    votes is eliminated, ties broken by ``TIE_BREAK_RULE``; options without first
    preferences take part in round 1 with 0 votes.  When no ballot ranks any option
    the result has no rounds and ``winner`` is None.

    Only distinct rankings are processed, and a ranking is looked at again only when
    the option it currently counts for is eliminated.
    """
    index = _option_index(options)
    ballots = _weighted_rankings(rankings, index)
    total = sum(weight for _, weight in ballots)
    counts = dict.fromkeys(options, 0)  # keys: continuing options, in option order
    piles: dict[K, list[tuple[tuple[K, ...], int, int]]] = {option: [] for option in options}
    exhausted = 0
    for ranking, weight in ballots:
        if ranking:
            counts[ranking[0]] += weight
            piles[ranking[0]].append((ranking, weight, 0))
        else:
            exhausted += weight
    if exhausted == total:
        return RunoffResult(ballots=total, rounds=(), winner=None)

    rounds: list[RunoffRound[K]] = []
    history: list[Mapping[K, int]] = []
    while True:
        snapshot = MappingProxyType(dict(counts))
        leader = max(counts, key=lambda option: (counts[option], -index[option]))
        if len(counts) == 1 or 2 * counts[leader] > total - exhausted:
            rounds.append(RunoffRound(len(rounds) + 1, snapshot, exhausted, (), leader))
            return RunoffResult(ballots=total, rounds=tuple(rounds), winner=leader)
        loser, tie_break = _choose_loser(list(counts), counts, history, index)
        rounds.append(RunoffRound(len(rounds) + 1, snapshot, exhausted, (loser,), None, tie_break))
        history.append(snapshot)
        del counts[loser]
        for ranking, weight, position in piles.pop(loser):
            following = range(position + 1, len(ranking))
            nxt = next((i for i in following if ranking[i] in counts), None)
            if nxt is None:
                exhausted += weight
            else:
                counts[ranking[nxt]] += weight
                piles[ranking[nxt]].append((ranking, weight, nxt))


@dataclass(frozen=True)
class OptionPoints(_Result, Generic[K]):
    option: K
    points: int


@dataclass(frozen=True)
class BordaResult(_Result, Generic[K]):
    ballots: int
    options: tuple[OptionPoints[K], ...]  # points desc, then option order
    winners: tuple[K, ...]


def borda(rankings: Mapping[tuple[K, ...], int], options: Sequence[K]) -> BordaResult[K]:
    """Count ranked ballots with the Borda count.

    ``rankings`` is as for ``instant_runoff``.  With n options, the option ranked at
    position i (0-based) gets n - 1 - i points per ballot.  Truncated ballots:
    unranked options get 0 points.  Options are ordered by points, most first, then
    by option order; ``winners`` are all options with the top score, or empty when
    no ballot ranks any option.
    """
    index = _option_index(options)
    size = len(options)
    points = dict.fromkeys(options, 0)
    ballots = 0
    ranked_any = False
    for ranking, weight in _weighted_rankings(rankings, index):
        ballots += weight
        ranked_any = ranked_any or bool(ranking)
        for position, option in enumerate(ranking):
            points[option] += weight * (size - 1 - position)
    ordered = sorted(options, key=lambda option: (-points[option], index[option]))
    top = points[ordered[0]] if ordered else 0
    return BordaResult(
        ballots=ballots,
        options=tuple(OptionPoints(option, points[option]) for option in ordered),
        winners=tuple(o for o in ordered if ranked_any and points[o] == top),
    )


@dataclass(frozen=True)
class OptionScores(_Result, Generic[K]):
    option: K
    count: int
    mean: float | None  # rounded to 2 decimals; None without scores
    median: float | None
    distribution: Mapping[int, int]  # every score from min to max, ascending


@dataclass(frozen=True)
class ScoreResult(_Result, Generic[K]):
    min_score: int
    max_score: int
    options: tuple[OptionScores[K], ...]  # mean desc (None last), then option order


def _median(distribution: Mapping[int, int], count: int) -> float:
    """Median of a sorted score -> count mapping, without expanding it."""
    lower_at, upper_at = (count - 1) // 2, count // 2
    seen, lower = 0, None
    for score, number in distribution.items():
        seen += number
        if lower is None and seen > lower_at:
            lower = score
        if seen > upper_at:
            return (lower + score) / 2
    raise AssertionError("unreachable: count exceeds distribution")


def score_summary(
    distribution: Mapping[K, Mapping[int, int]],
    options: Sequence[K],
    min_score: int,
    max_score: int,
) -> ScoreResult[K]:
    """Summarise a score poll.

    ``distribution[option][score]`` is the number of ballots giving ``score`` to the
    option (missing means 0).  Per option: number of scores, mean (rounded to 2
    decimals), median (mean of the two middle scores for an even count) -- both None
    without scores -- and the distribution over every score in
    ``[min_score, max_score]``.  Options are ordered by exact mean, highest first,
    options without scores last, then by option order.  A score outside the range
    raises ``ValueError``.
    """
    if min_score > max_score:
        raise ValueError("min_score is greater than max_score")
    index = _option_index(options)
    _check_known(distribution, index)
    summaries: list[tuple[Fraction | None, OptionScores[K]]] = []
    for option in options:
        given = distribution.get(option, {})
        for score in given:
            if not isinstance(score, int) or not min_score <= score <= max_score:
                raise ValueError(f"score {score!r} for {option!r} is outside the range")
        full = {s: _count(given.get(s, 0), option) for s in range(min_score, max_score + 1)}
        count = sum(full.values())
        exact = Fraction(sum(s * n for s, n in full.items()), count) if count else None
        summary = OptionScores(
            option=option,
            count=count,
            mean=None if exact is None else _round_half_away(exact, 2),
            median=_median(full, count) if count else None,
            distribution=MappingProxyType(full),
        )
        summaries.append((exact, summary))
    summaries.sort(key=lambda pair: (pair[0] is None, -(pair[0] or 0)))  # stable sort
    return ScoreResult(min_score, max_score, tuple(summary for _, summary in summaries))


@dataclass(frozen=True)
class PositionCount(_Result):
    position: str
    count: int
    percent: float


@dataclass(frozen=True)
class ProposalResult(_Result):
    total: int
    positions: tuple[PositionCount, ...]  # in PROPOSAL_POSITIONS order
    blocked: bool
    outcome: str  # "passed", "rejected", "blocked" or "no_votes"


def proposal_summary(counts: Mapping[str, int]) -> ProposalResult:
    """Summarise a proposal.

    ``counts`` maps positions from ``PROPOSAL_POSITIONS`` to numbers of responses
    (missing means 0); percentages are of all responses.  The outcome is
    "no_votes" without responses, else "blocked" if anyone blocked, else "passed"
    if more agree than disagree, else "rejected".
    """
    _check_known(counts, dict.fromkeys(PROPOSAL_POSITIONS, 0), "position")
    tally = {position: _count(counts.get(position, 0), position) for position in PROPOSAL_POSITIONS}
    total = sum(tally.values())
    blocked = tally["block"] > 0
    if not total:
        outcome = "no_votes"
    elif blocked:
        outcome = "blocked"
    else:
        outcome = "passed" if tally["agree"] > tally["disagree"] else "rejected"
    return ProposalResult(
        total=total,
        positions=tuple(PositionCount(p, n, _percent(n, total)) for p, n in tally.items()),
        blocked=blocked,
        outcome=outcome,
    )


@dataclass(frozen=True)
class TimeSlot(_Result, Generic[K]):
    option: K
    yes: int
    if_need_be: int
    no: int
    available: int  # people who can attend: yes + if_need_be


@dataclass(frozen=True)
class TimePollResult(_Result, Generic[K]):
    slots: tuple[TimeSlot[K], ...]  # best first
    best: tuple[K, ...]


def time_poll_ranking(
    answers: Mapping[K, Mapping[str, int]], options: Sequence[K]
) -> TimePollResult[K]:
    """Rank the time slots of a scheduling poll.

    ``answers[slot][answer]`` is the number of people giving ``answer`` (one of
    ``TIME_ANSWERS``) for the slot; missing means 0.  Slots are ranked by the number
    of people who can attend ("yes" + "if_need_be"), then by "yes", then by option
    order.  ``best`` lists every slot tied with the first on both figures; it is
    empty when nobody can attend any slot (in particular when there are no answers).
    """
    index = _option_index(options)
    _check_known(answers, index)
    known = dict.fromkeys(TIME_ANSWERS, 0)
    slots = []
    for option in options:
        given = answers.get(option, {})
        _check_known(given, known, "answer")
        yes, maybe, no = (_count(given.get(answer, 0), option) for answer in TIME_ANSWERS)
        slots.append(TimeSlot(option, yes, maybe, no, available=yes + maybe))
    slots.sort(key=lambda slot: (-slot.available, -slot.yes, index[slot.option]))
    top = slots[0] if slots else None
    best = tuple(
        slot.option
        for slot in slots
        if top and top.available and (slot.available, slot.yes) == (top.available, top.yes)
    )
    return TimePollResult(slots=tuple(slots), best=best)
