"""Tests for polls.counting (pure Python: no Django needed)."""

import json
import statistics
import time
import uuid
from collections import Counter
from decimal import Decimal
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polls.counting import (
    PROPOSAL_POSITIONS,
    TIE_BREAK_RULE,
    TIME_ANSWERS,
    borda,
    count_choices,
    instant_runoff,
    proposal_summary,
    score_summary,
    time_poll_ranking,
)

FAST = settings(max_examples=150, deadline=None)


def roundtrips(result):
    """to_dict() must be plain JSON data."""
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    return data


# ----------------------------------------------------------------------------- strategies


@st.composite
def ranked_polls(draw, min_options=1, max_options=6):
    """(options, rankings): distinct options and weighted partial rankings of them."""
    options = draw(
        st.lists(
            st.sampled_from("ABCDEFGH"), min_size=min_options, max_size=max_options, unique=True
        )
    )
    ranking = st.lists(st.sampled_from(options), unique=True).map(tuple)
    rankings = draw(st.dictionaries(ranking, st.integers(1, 4), max_size=10))  # ties are common
    return options, rankings


@st.composite
def ballot_lists(draw):
    """(options, ballots): a list of individual ballots over 2-5 options (many ties)."""
    options = draw(st.permutations("ABCDE"))[: draw(st.integers(2, 5))]
    ballot = st.lists(st.sampled_from(options), unique=True).map(tuple)
    return list(options), draw(st.lists(ballot, max_size=40))


def expand(rankings):
    """Individual ballots, one list entry per ballot."""
    return [ranking for ranking, weight in rankings.items() for _ in range(weight)]


def naive_irv(ballots, options):
    """Reference IRV counting a plain list of individual ballots one by one.

    Returns [(counts, exhausted, eliminated, winner), ...] per round.
    """
    continuing = list(options)
    history, rounds = [], []
    if not any(ballots):
        return rounds
    while True:
        counts = dict.fromkeys(continuing, 0)
        exhausted = 0
        for ballot in ballots:
            top = next((option for option in ballot if option in counts), None)
            if top is None:
                exhausted += 1
            else:
                counts[top] += 1
        active = len(ballots) - exhausted
        for option in continuing:
            if len(continuing) == 1 or counts[option] * 2 > active:
                rounds.append((counts, exhausted, [], option))
                return rounds
        fewest = min(counts.values())
        tied = [option for option in continuing if counts[option] == fewest]
        for past in history:
            if len(tied) > 1:
                low = min(past[option] for option in tied)
                tied = [option for option in tied if past[option] == low]
        loser = tied[-1]  # continuing keeps option order, so the last tied is last listed
        rounds.append((counts, exhausted, [loser], None))
        history.append(counts)
        continuing.remove(loser)


def as_tuples(result):
    return [(dict(r.counts), r.exhausted, list(r.eliminated), r.winner) for r in result.rounds]


# ----------------------------------------------------------------------------- count_choices


def test_count_choices_example():
    result = count_choices({"b": 3, "c": 3, "a": 1}, ["a", "b", "c", "d"], voters=7)
    assert [(o.option, o.count, o.percent) for o in result.options] == [
        ("b", 3, 42.9),
        ("c", 3, 42.9),
        ("a", 1, 14.3),
        ("d", 0, 0.0),
    ]
    assert result.winners == ("b", "c")
    assert roundtrips(result) == {
        "voters": 7,
        "options": [
            {"option": "b", "count": 3, "percent": 42.9},
            {"option": "c", "count": 3, "percent": 42.9},
            {"option": "a", "count": 1, "percent": 14.3},
            {"option": "d", "count": 0, "percent": 0.0},
        ],
        "winners": ["b", "c"],
    }


def test_count_choices_no_voters_and_rounding():
    empty = count_choices({}, ["a", "b"], voters=0)
    assert empty.winners == ()
    assert [o.percent for o in empty.options] == [0.0, 0.0]
    # 1/16 = 6.25 % -> 6.3 (half away from zero; round() would give 6.2)
    assert count_choices({"a": 1}, ["a"], voters=16).options[0].percent == 6.3
    # Multiple choice: percentages are of voters and may add up to more than 100.
    multi = count_choices({"a": 2, "b": 2}, ["a", "b"], voters=2)
    assert [o.percent for o in multi.options] == [100.0, 100.0]


def test_count_choices_uuid_options_and_decimal_counts():
    first, second = uuid.uuid4(), uuid.uuid4()
    result = count_choices({second: Decimal(2)}, [first, second], voters=2)
    assert result.winners == (second,)
    assert roundtrips(result)["winners"] == [str(second)]


@pytest.mark.parametrize(
    ("counts", "options", "voters"),
    [({"x": 1}, ["a"], 1), ({"a": -1}, ["a"], 1), ({"a": 1}, ["a", "a"], 1), ({}, ["a"], -1)],
)
def test_count_choices_rejects_bad_input(counts, options, voters):
    with pytest.raises(ValueError):
        count_choices(counts, options, voters)


@FAST
@given(st.dictionaries(st.sampled_from("abcde"), st.integers(0, 50)), st.integers(0, 50))
def test_count_choices_properties(counts, extra_voters):
    options = list("abcde")
    voters = max(counts.values(), default=0) + extra_voters
    result = count_choices(counts, options, voters)
    assert sorted(o.option for o in result.options) == options
    assert all(0 <= o.percent <= 100 for o in result.options)
    top = max(counts.values(), default=0)
    assert result.winners == tuple(o for o in options if top and counts.get(o, 0) == top)


# ----------------------------------------------------------------------------- instant_runoff


def test_irv_worked_example():
    rankings = {
        ("A", "B"): 6,
        ("B", "C"): 4,
        ("C", "B", "A"): 5,
        ("D",): 2,
        ("D", "C"): 1,
    }
    result = instant_runoff(rankings, ["A", "B", "C", "D"])
    # Round 1: 18 ballots, majority needs > 9; D is last with 3 and is eliminated.
    #   (D,) x2 exhausts, (D, C) x1 moves to C.
    # Round 2: A 6, B 4, C 6; 16 active ballots, majority needs > 8; B is eliminated.
    #   (B, C) x4 moves to C.
    # Round 3: A 6, C 10 -> C has 10 of 16 and wins (A led on first preferences).
    assert as_tuples(result) == [
        ({"A": 6, "B": 4, "C": 5, "D": 3}, 0, ["D"], None),
        ({"A": 6, "B": 4, "C": 6}, 2, ["B"], None),
        ({"A": 6, "C": 10}, 2, [], "C"),
    ]
    assert result.winner == "C"
    assert result.ballots == 18
    data = roundtrips(result)
    assert data["tie_break_rule"] == TIE_BREAK_RULE
    assert data["rounds"][1] == {
        "number": 2,
        "counts": {"A": 6, "B": 4, "C": 6},
        "exhausted": 2,
        "eliminated": ["B"],
        "winner": None,
        "tie_break": None,
    }


def test_irv_tie_break_uses_earlier_rounds():
    # Options listed A, C, B, D: option order alone would eliminate B.
    rankings = {("A",): 5, ("B",): 3, ("C",): 2, ("D", "C"): 1}
    result = instant_runoff(rankings, ["A", "C", "B", "D"])
    assert as_tuples(result) == [
        ({"A": 5, "C": 2, "B": 3, "D": 1}, 0, ["D"], None),
        # B and C tie on 3; in round 1 C had 2 < 3, so C goes.
        ({"A": 5, "C": 3, "B": 3}, 0, ["C"], None),
        ({"A": 5, "B": 3}, 3, [], "A"),
    ]
    assert result.rounds[1].tie_break == "earlier_rounds"


def test_irv_tie_break_falls_back_to_option_order():
    rankings = {("A",): 2, ("B",): 1, ("C",): 1}
    result = instant_runoff(rankings, ["A", "B", "C"])
    assert result.rounds[0].eliminated == ("C",)  # no earlier round: C is listed last
    assert result.rounds[0].tie_break == "option_order"
    assert as_tuples(result)[1] == ({"A": 2, "B": 1}, 1, [], "A")
    assert instant_runoff(rankings, ["A", "C", "B"]).rounds[0].eliminated == ("B",)


def test_irv_tie_break_equal_in_all_earlier_rounds():
    # B and C are equal in round 1 and 2 -> option order decides in round 2.
    rankings = {("A",): 3, ("B",): 2, ("C",): 2, ("D", "A"): 1}
    result = instant_runoff(rankings, ["A", "B", "C", "D"])
    assert [r.eliminated for r in result.rounds] == [("D",), ("C",), ()]
    assert result.rounds[1].tie_break == "option_order"
    assert result.winner == "A"


def test_irv_final_two_tied_still_single_winner():
    assert instant_runoff({("A",): 1, ("B",): 1}, ["A", "B"]).winner == "A"
    result = instant_runoff({("A",): 1, ("B",): 1}, ["B", "A"])
    assert as_tuples(result) == [({"B": 1, "A": 1}, 0, ["A"], None), ({"B": 1}, 1, [], "B")]


def test_irv_exhausted_ballots_and_zero_first_preferences():
    rankings = {("A",): 3, ("B", "A"): 2, ("C",): 2, (): 1}
    result = instant_runoff(rankings, ["A", "B", "C", "D"])
    assert as_tuples(result) == [
        # The empty ballot is exhausted from the start; D has no votes and goes first.
        ({"A": 3, "B": 2, "C": 2, "D": 0}, 1, ["D"], None),
        # B and C tie, and were equal in round 1: C (listed last) goes, its 2 ballots exhaust.
        ({"A": 3, "B": 2, "C": 2}, 1, ["C"], None),
        # 5 active ballots: A has 3 > 2.5.
        ({"A": 3, "B": 2}, 3, [], "A"),
    ]
    assert result.ballots == 8


def test_irv_majority_needs_more_than_half():
    # A has exactly half of the active ballots: not enough, so a round is needed.
    result = instant_runoff({("A",): 2, ("B", "A"): 1, ("C",): 1}, ["A", "B", "C"])
    assert result.rounds[0].winner is None
    assert result.rounds[0].eliminated == ("C",)
    assert result.winner == "A"


def test_irv_no_ballots():
    nothing = instant_runoff({}, ["A", "B"])
    assert (nothing.ballots, nothing.rounds, nothing.winner) == (0, (), None)
    empty = instant_runoff({(): 4}, ["A", "B"])
    assert (empty.ballots, empty.rounds, empty.winner) == (4, (), None)
    assert instant_runoff({}, []).winner is None
    assert roundtrips(empty)["rounds"] == []


def test_irv_single_option():
    result = instant_runoff({("A",): 1, (): 5}, ["A"])
    assert as_tuples(result) == [({"A": 1}, 5, [], "A")]


@pytest.mark.parametrize(
    "rankings",
    [{("A", "A"): 1}, {("X",): 1}, {("A",): -1}, {("A",): 1.5}],
)
def test_irv_rejects_bad_input(rankings):
    with pytest.raises(ValueError):
        instant_runoff(rankings, ["A", "B"])


def test_irv_counts_100k_ballots_quickly():
    options = [f"option-{i}" for i in range(8)]
    rankings = {}
    for i, ranking in enumerate(permutations(options, 4)):  # 1680 distinct rankings
        rankings[ranking] = 50 + i % 13
    rankings[()] = 100_000 - sum(rankings.values())
    assert sum(rankings.values()) == 100_000
    started = time.perf_counter()
    result = instant_runoff(rankings, options)
    assert time.perf_counter() - started < 0.5
    assert result.winner in options


@FAST
@given(ranked_polls(), st.data())
def test_irv_strict_first_preference_majority_wins_in_round_one(poll, data):
    options, rankings = poll
    favourite = data.draw(st.sampled_from(options))
    rest = data.draw(st.permutations([o for o in options if o != favourite]))
    others = sum(w for r, w in rankings.items() if r and r[0] != favourite)
    mine = sum(w for r, w in rankings.items() if r and r[0] == favourite)
    ballot = (favourite, *rest[: data.draw(st.integers(0, len(rest)))])
    if others >= mine:  # top up the favourite to a strict majority of first preferences
        rankings[ballot] = rankings.get(ballot, 0) + others - mine + 1
    result = instant_runoff(rankings, options)
    assert result.winner == favourite
    assert len(result.rounds) == 1


@FAST
@given(ranked_polls(), st.randoms(use_true_random=False))
def test_irv_does_not_depend_on_mapping_order(poll, rng):
    options, rankings = poll
    items = list(rankings.items())
    rng.shuffle(items)
    assert instant_runoff(dict(items), options) == instant_runoff(rankings, options)


@FAST
@given(ranked_polls())
def test_irv_weights_behave_like_repeated_ballots(poll):
    options, rankings = poll
    assert as_tuples(instant_runoff(rankings, options)) == naive_irv(expand(rankings), options)


@settings(max_examples=300, deadline=None)
@given(ballot_lists())
def test_irv_matches_ballot_by_ballot_reference(poll):
    options, ballots = poll
    result = instant_runoff(Counter(ballots), options)
    assert as_tuples(result) == naive_irv(ballots, options)


@FAST
@given(ranked_polls())
def test_irv_invariants(poll):
    options, rankings = poll
    result = instant_runoff(rankings, options)
    total = sum(rankings.values())
    assert result.ballots == total
    if not any(rankings):
        assert result.winner is None and result.rounds == ()
        return
    assert result.winner in options
    assert result.rounds[-1].winner == result.winner
    assert result.rounds[-1].eliminated == ()
    assert len(result.rounds) <= len(options)
    continuing = list(options)
    previous_exhausted = 0
    for number, round_ in enumerate(result.rounds, start=1):
        assert round_.number == number
        assert list(round_.counts) == continuing
        assert sum(round_.counts.values()) + round_.exhausted == total
        assert round_.exhausted >= previous_exhausted
        previous_exhausted = round_.exhausted
        if round_ is not result.rounds[-1]:
            assert round_.winner is None
            assert len(round_.eliminated) == 1
            loser = round_.eliminated[0]
            assert round_.counts[loser] == min(round_.counts.values())
            continuing.remove(loser)
    roundtrips(result)


# ----------------------------------------------------------------------------- borda


def test_borda_points_example():
    rankings = {("A", "B", "C"): 2, ("C", "B"): 3, ("B",): 1, (): 4}
    result = borda(rankings, ["A", "B", "C", "D"])
    # 4 options: 3, 2, 1, 0 points; unranked get 0.
    # A: 2*3 = 6; B: 2*2 + 3*2 + 1*3 = 13; C: 2*1 + 3*3 = 11; D: 0
    assert [(o.option, o.points) for o in result.options] == [
        ("B", 13),
        ("C", 11),
        ("A", 6),
        ("D", 0),
    ]
    assert result.winners == ("B",)
    assert result.ballots == 10
    assert roundtrips(result)["options"][0] == {"option": "B", "points": 13}


def test_borda_ties_and_no_ballots():
    tie = borda({("A", "B"): 1, ("B", "A"): 1}, ["B", "A"])
    assert [o.option for o in tie.options] == ["B", "A"]
    assert tie.winners == ("B", "A")
    assert borda({}, ["A", "B"]).winners == ()
    assert borda({(): 3}, ["A", "B"]).winners == ()
    # A single option earns 0 points but still wins when it is ranked.
    assert borda({("A",): 1}, ["A"]).winners == ("A",)


def test_borda_rejects_bad_input():
    with pytest.raises(ValueError):
        borda({("A", "Z"): 1}, ["A"])


@FAST
@given(ranked_polls(), st.randoms(use_true_random=False))
def test_borda_properties(poll, rng):
    options, rankings = poll
    result = borda(rankings, options)
    n = len(options)
    expected = Counter()
    for ballot in expand(rankings):
        for position, option in enumerate(ballot):
            expected[option] += n - 1 - position
    assert {o.option: o.points for o in result.options} == {o: expected[o] for o in options}
    assert sum(o.points for o in result.options) == sum(
        sum(n - 1 - i for i in range(len(ballot))) for ballot in expand(rankings)
    )
    items = list(rankings.items())
    rng.shuffle(items)
    assert borda(dict(items), options) == result
    points = [o.points for o in result.options]
    assert points == sorted(points, reverse=True)
    if any(rankings):
        assert {result.options[0].points} == {expected[o] for o in result.winners}


# ----------------------------------------------------------------------------- score_summary


def test_score_summary_example():
    distribution = {"a": {1: 1, 4: 2, 5: 1}, "b": {5: 1, 2: 1}, "c": {}}
    result = score_summary(distribution, ["c", "b", "a"], 1, 5)
    # a: 14/4 = 3.5 and b: 7/2 = 3.5 tie on the mean -> option order puts b first.
    by_option = {o.option: o for o in result.options}
    a, b, c = by_option["a"], by_option["b"], by_option["c"]
    assert (a.count, a.mean, a.median) == (4, 3.5, 4.0)
    assert (b.count, b.mean, b.median) == (2, 3.5, 3.5)
    assert (c.count, c.mean, c.median) == (0, None, None)
    assert [o.option for o in result.options] == ["b", "a", "c"]
    assert dict(a.distribution) == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    data = roundtrips(result)
    assert data["options"][1]["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 2, "5": 1}
    assert data["options"][2]["mean"] is None


def test_score_summary_rounding_and_negative_scores():
    result = score_summary({"x": {1: 2, 2: 1}, "y": {-2: 1, -1: 2}}, ["x", "y"], -2, 2)
    x, y = result.options
    assert (x.mean, x.median) == (1.33, 1.0)
    assert (y.mean, y.median) == (-1.33, -1.0)


@pytest.mark.parametrize(
    ("distribution", "low", "high"),
    [({"a": {6: 1}}, 1, 5), ({"a": {0: 1}}, 1, 5), ({"z": {1: 1}}, 1, 5), ({}, 5, 1)],
)
def test_score_summary_rejects_bad_input(distribution, low, high):
    with pytest.raises(ValueError):
        score_summary(distribution, ["a"], low, high)


@st.composite
def score_polls(draw):
    low = draw(st.integers(-3, 3))
    high = low + draw(st.integers(0, 6))
    options = ["a", "b", "c"]
    distribution = draw(
        st.dictionaries(
            st.sampled_from(options),
            st.dictionaries(st.integers(low, high), st.integers(0, 15)),
        )
    )
    return distribution, options, low, high


@FAST
@given(score_polls())
def test_score_summary_properties(poll):
    distribution, options, low, high = poll
    result = score_summary(distribution, options, low, high)
    for summary in result.options:
        assert list(summary.distribution) == list(range(low, high + 1))
        assert sum(summary.distribution.values()) == summary.count
        scores = [s for s, n in distribution.get(summary.option, {}).items() for _ in range(n)]
        assert summary.count == len(scores)
        if scores:
            assert low <= summary.mean <= high
            assert low <= summary.median <= high
            assert summary.median == statistics.median(scores)
            assert abs(summary.mean - statistics.mean(scores)) <= 0.005 + 1e-9
        else:
            assert summary.mean is None and summary.median is None
    means = [o.mean for o in result.options if o.mean is not None]
    assert means == sorted(means, reverse=True)
    assert [o.mean is None for o in result.options] == sorted(
        o.mean is None for o in result.options
    )
    roundtrips(result)


# ----------------------------------------------------------------------------- proposals


@pytest.mark.parametrize(
    ("counts", "outcome"),
    [
        ({}, "no_votes"),
        ({"agree": 3, "disagree": 1}, "passed"),
        ({"agree": 2, "disagree": 2, "abstain": 5}, "rejected"),
        ({"abstain": 4}, "rejected"),
        ({"agree": 9, "block": 1}, "blocked"),
    ],
)
def test_proposal_outcomes(counts, outcome):
    result = proposal_summary(counts)
    assert result.outcome == outcome
    assert result.blocked == (counts.get("block", 0) > 0)


def test_proposal_summary_counts_and_percent():
    result = proposal_summary({"agree": 5, "abstain": 1, "disagree": 1, "block": 1})
    assert result.total == 8
    assert [(p.position, p.count, p.percent) for p in result.positions] == [
        ("agree", 5, 62.5),
        ("abstain", 1, 12.5),
        ("disagree", 1, 12.5),
        ("block", 1, 12.5),
    ]
    assert PROPOSAL_POSITIONS == ("agree", "abstain", "disagree", "block")
    assert roundtrips(result)["outcome"] == "blocked"
    with pytest.raises(ValueError):
        proposal_summary({"maybe": 1})


# ----------------------------------------------------------------------------- time polls


def test_time_poll_ranking_example():
    answers = {
        "mon": {"yes": 2, "if_need_be": 2, "no": 1},
        "tue": {"yes": 3, "if_need_be": 1},
        "wed": {"yes": 3, "if_need_be": 1, "no": 1},
        "thu": {"yes": 4, "no": 1},
    }
    result = time_poll_ranking(answers, ["mon", "tue", "wed", "thu", "fri"])
    assert [(s.option, s.available, s.yes) for s in result.slots] == [
        ("thu", 4, 4),
        ("tue", 4, 3),
        ("wed", 4, 3),
        ("mon", 4, 2),
        ("fri", 0, 0),
    ]
    assert result.best == ("thu",)
    assert roundtrips(result)["slots"][0] == {
        "option": "thu",
        "yes": 4,
        "if_need_be": 0,
        "no": 1,
        "available": 4,
    }


def test_time_poll_ties_and_empty():
    result = time_poll_ranking({"b": {"yes": 1}, "a": {"yes": 1}}, ["a", "b"])
    assert result.best == ("a", "b")
    assert time_poll_ranking({}, ["a", "b"]).best == ()
    assert time_poll_ranking({"a": {"no": 3}}, ["a", "b"]).best == ()
    assert TIME_ANSWERS == ("yes", "if_need_be", "no")
    with pytest.raises(ValueError):
        time_poll_ranking({"a": {"maybe": 1}}, ["a"])


@FAST
@given(
    st.dictionaries(
        st.sampled_from("abcd"),
        st.dictionaries(st.sampled_from(TIME_ANSWERS), st.integers(0, 10)),
    )
)
def test_time_poll_best_has_most_available(answers):
    options = list("abcd")
    result = time_poll_ranking(answers, options)
    available = {
        o: answers.get(o, {}).get("yes", 0) + answers.get(o, {}).get("if_need_be", 0)
        for o in options
    }
    assert [s.option for s in result.slots] == sorted(
        options, key=lambda o: (-available[o], -answers.get(o, {}).get("yes", 0), options.index(o))
    )
    if max(available.values()):
        assert result.best
        assert all(available[o] == max(available.values()) for o in result.best)
        assert result.best == tuple(s.option for s in result.slots[: len(result.best)])
    else:
        assert result.best == ()
