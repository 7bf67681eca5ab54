"""Counting a poll from its tallies, and recounting a published ballot box from its ballots.

Pure Python (stdlib and ``polls.counting`` only, no Django), so anyone can run the recount of
a published secret poll (``manage.py poll_recount --file box.json``) with nothing but the JSON
that ``GET /api/v1/polls/{id}/ballot-box`` returned, and so that the server's own count and the
recount are the same code: :func:`count_tallies` is what ``polls.results.compute_results``
runs on the live tallies, :func:`recount` runs it on tallies rebuilt from the ballots.

The public tag of a published ballot (:func:`ballot_tag`) is the SHA-256 of a domain-separated
string made of the poll id and the voter's *receipt*. It is not the receipt hash stored with
the ballot (``SHA-256(receipt)``), and it cannot be computed from that hash: someone with the
database but without a receipt cannot pair a published ballot with a stored row, while a voter
finds their own ballot from their receipt alone (:func:`find_ballot`).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from polls import counting

#: Key of the number of ballots in a poll's tallies (not an option id: ids have no "*").
VOTERS_KEY = "*"
RANK_SEPARATOR = ">"
KINDS = ("single", "multiple", "ranked", "score", "proposal", "time")
BODY_FIELD = {
    "single": "option_ids",
    "multiple": "option_ids",
    "ranked": "ranking",
    "score": "scores",
    "proposal": "position",
    "time": "answers",
}
TAG_DOMAIN = "wxc-poll-ballot-tag/v1"
TAG_PROCEDURE = (
    "tag = lowercase hex SHA-256 of the UTF-8 string "
    f'"{TAG_DOMAIN}" + "\\n" + poll_id + "\\n" + receipt, where receipt is the one returned '
    "by your first PUT /polls/{poll_id}/ballot (or the one you sent with it). Find the "
    "published ballot with that tag: its choices are your final ballot."
)


def ballot_tag(poll_id: str, receipt: str) -> str:
    """The public tag of the ballot cast with ``receipt`` in poll ``poll_id`` (see
    :data:`TAG_PROCEDURE`). Bound to the poll, so one receipt used twice gives unrelated tags."""
    text = f"{TAG_DOMAIN}\n{poll_id}\n{receipt}"
    return hashlib.sha256(text.encode()).hexdigest()


def find_ballot(
    ballots: Iterable[Mapping[str, Any]], *, poll_id: str, receipt: str
) -> Mapping[str, Any] | None:
    """The published ballot of the voter holding ``receipt``, or None."""
    tag = ballot_tag(poll_id, receipt)
    return next((ballot for ballot in ballots if ballot.get("tag") == tag), None)


@dataclass(frozen=True)
class CountingParameters:
    """What a count needs besides the ballots: the kind, the option ids in poll order (they
    settle ties), the ranked method shown as the result, and the score range."""

    kind: str
    options: tuple[str, ...]
    ranked_method: str = "irv"
    min_score: int = 0
    max_score: int = 5

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CountingParameters:
        """From the ``counting`` object of a published box (``ValueError`` when malformed)."""
        try:
            params = cls(
                kind=str(data["kind"]),
                options=tuple(str(o) for o in data["options"]),
                ranked_method=str(data.get("ranked_method") or "irv"),
                min_score=int(data.get("min_score", 0)),
                max_score=int(data.get("max_score", 5)),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed counting parameters: {exc}") from exc
        if params.kind not in KINDS:
            raise ValueError(f"unknown poll kind {params.kind!r}")
        if params.ranked_method not in ("irv", "borda"):
            raise ValueError(f"unknown ranked method {params.ranked_method!r}")
        return params

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "options": list(self.options)}


def ballot_tally_keys(kind: str, choices: Mapping[str, Any]) -> tuple[str, ...]:
    """The tally keys a ballot adds one to: single/multiple its option ids; ranked the whole
    ranking ``"id1>id2>..."``; score ``"option:score"``; proposal the position; time
    ``"option:answer"``. ``ValueError`` when ``choices`` has not the kind's shape."""
    try:
        value = choices[BODY_FIELD[kind]]
        if kind in ("single", "multiple"):
            keys = [str(option) for option in value]
        elif kind == "ranked":
            keys = [RANK_SEPARATOR.join(str(option) for option in value)]
        elif kind in ("score", "time"):
            keys = [f"{option}:{given}" for option, given in value.items()]
        else:
            keys = [str(value)]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"a {kind} ballot needs {BODY_FIELD.get(kind)!r}: {choices!r}") from exc
    if len(set(keys)) != len(keys):
        raise ValueError(f"a ballot names an option twice: {choices!r}")
    return tuple(keys)


def count_tallies(params: CountingParameters, tallies: Mapping[str, int]) -> dict[str, Any]:
    """The results of a poll from its tallies (``VOTERS_KEY`` -> number of ballots).

    ``{"voters": n, "method": ..., "result": {...}, "alternative": {...} | None}``; ``result``
    is the ``to_dict()`` of the counting function of the kind (ranked polls: the other method
    as ``alternative``). Keys naming options that are not in ``params.options`` (deleted ones)
    and scores outside the range are ignored, as the live count does."""
    options = list(params.options)
    known = set(options)
    voters = tallies.get(VOTERS_KEY, 0)
    kind = params.kind
    method: str | None = None
    alternative = None
    if kind in ("single", "multiple"):
        counts = {key: n for key, n in tallies.items() if key in known}
        result = counting.count_choices(counts, options, voters).to_dict()
    elif kind == "ranked":
        rankings: dict[tuple[str, ...], int] = defaultdict(int)
        for key, n in tallies.items():
            if key == VOTERS_KEY:
                continue
            ranking = tuple(o for o in key.split(RANK_SEPARATOR) if o in known)
            rankings[ranking] += n
        irv = counting.instant_runoff(rankings, options).to_dict()
        bor = counting.borda(rankings, options).to_dict()
        method = params.ranked_method
        result, alternative = (irv, bor) if method == "irv" else (bor, irv)
    elif kind == "score":
        distribution: dict[str, dict[int, int]] = defaultdict(dict)
        for key, n in tallies.items():
            option, _, score = key.rpartition(":")
            if option in known and params.min_score <= int(score) <= params.max_score:
                distribution[option][int(score)] = n
        result = counting.score_summary(
            distribution, options, params.min_score, params.max_score
        ).to_dict()
    elif kind == "proposal":
        counts = {key: n for key, n in tallies.items() if key in counting.PROPOSAL_POSITIONS}
        result = counting.proposal_summary(counts).to_dict()
    elif kind == "time":
        answers: dict[str, dict[str, int]] = defaultdict(dict)
        for key, n in tallies.items():
            option, _, answer = key.rpartition(":")
            if option in known and answer in counting.TIME_ANSWERS:
                answers[option][answer] = n
        result = counting.time_poll_ranking(answers, options).to_dict()
    else:
        raise ValueError(f"unknown poll kind {kind!r}")
    return {"voters": voters, "method": method, "result": result, "alternative": alternative}


def tally_ballots(params: CountingParameters, ballots: Iterable[Mapping[str, Any]]) -> Counter:
    """The tallies of ``ballots`` (each ``{"choices": {...}}``, as published)."""
    tallies: Counter[str] = Counter()
    for ballot in ballots:
        if not isinstance(ballot, Mapping) or not isinstance(ballot.get("choices"), Mapping):
            raise ValueError(f"a ballot needs an object of choices: {ballot!r}")
        tallies.update(ballot_tally_keys(params.kind, ballot["choices"]))
        tallies[VOTERS_KEY] += 1
    return tallies


def recount(params: CountingParameters, ballots: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Count ``ballots`` from scratch, exactly as the server counted its tallies."""
    tallies = tally_ballots(params, ballots)
    tallies.setdefault(VOTERS_KEY, 0)
    return count_tallies(params, tallies)


#: Names of a result's head count: the counting code's (``voters``, ``ballots``, ``total``) and
#: the API's (``participant_count``); they compare as one.
_HEAD_COUNT_KEYS = frozenset({"voters", "ballots", "total", "participant_count"})


def _comparable(value: Any) -> Any:
    """``value`` without the (translated) tie-break text and the API's shape tags (``kind``),
    the head count under one name, lists and numbers as JSON has them: a recount compares
    equal to the result stored at publication and to the one the API shows."""
    if isinstance(value, Mapping):
        return {
            ("participant_count" if k in _HEAD_COUNT_KEYS else str(k)): _comparable(v)
            for k, v in value.items()
            if k not in ("tie_break_rule", "kind")
        }
    if isinstance(value, list | tuple):
        return [_comparable(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def results_match(counted: Mapping[str, Any], published: Mapping[str, Any]) -> bool:
    """Whether a recount equals a published result (every figure, every round; the wording of
    the tie-break rule, which the server translates, is not compared)."""
    return _comparable(counted) == _comparable(published)
