"""The lucky draw's procedure, as anyone can run it: pure, no Django, standard library only.

Procedure ``wxc-draw/v1`` (the README and the ``getDrawPublication`` operation state it too):

* **Seed and commitment.** Each round of a draw has a secret seed: 64 lowercase hex characters
  (32 random bytes). Before the round is drawn the server publishes its *commitment*,
  ``sha256_hex(seed)`` over the seed's 64 ASCII characters.
* **Entry list.** When entries close the list is frozen: the pseudonymous entry ids (16 hex
  characters each, unique), sorted ascending (byte order). Its hash is
  ``sha256_hex("\\n".join(entries))``.
* **Ranking.** For a round, every entry of the list not in the round's ``excluded`` list gets
  the score ``HMAC-SHA256(key=seed as ASCII, message=entry id as ASCII)`` (hex); entries are
  ranked by score ascending, ties (never seen in practice) by entry id.
* **Prizes.** The round's ``slots`` (prize id and count, in prize order: first prize first) are
  filled in ranking order: the first ``count`` ranked entries get the first slot's prize, the
  next ones the next slot's, until the slots or the entries run out.
* **Rounds.** Round 1's slots are every prize with its quantity and it excludes nobody. A prize
  a winner did not claim within the claim window is *forfeited* and redrawn in the next round,
  whose seed was committed when the previous round was drawn: its slots are the forfeited
  prizes (counted per prize, in prize order) and it excludes every entry that won in an earlier
  round (forfeited or not), so a member wins at most one prize per draw.

:func:`verify_publication` checks a whole published document (``GET /draws/{id}/publication``)
and returns the problems it finds (none: the draw is what the procedure gives).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

PROCEDURE = "wxc-draw/v1"
SEED_RE = re.compile(r"^[0-9a-f]{64}$")
ENTRY_RE = re.compile(r"^[0-9a-f]{16}$")


def sha256_hex(text: str) -> str:
    """SHA-256 of ``text`` (UTF-8), lowercase hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def commitment_of(seed: str) -> str:
    """The commitment published before a round is drawn."""
    return sha256_hex(seed)


def entries_hash(entries: Sequence[str]) -> str:
    """The hash of a frozen entry list (already in its stated order: ascending)."""
    return sha256_hex("\n".join(entries))


def score(seed: str, entry_id: str) -> str:
    """An entry's score in a round: HMAC-SHA256 keyed by the seed, hex."""
    return hmac.new(seed.encode(), entry_id.encode(), hashlib.sha256).hexdigest()


def ranking(seed: str, entries: Iterable[str], excluded: Iterable[str] = ()) -> list[str]:
    """The eligible entries in the round's order (lowest score first)."""
    skip = set(excluded)
    return sorted((e for e in entries if e not in skip), key=lambda e: (score(seed, e), e))


def assign(
    seed: str,
    entries: Iterable[str],
    slots: Sequence[tuple[str, int]],
    excluded: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """The winners of a round: ``(prize_id, entry_id)`` pairs in slot order."""
    ranked = iter(ranking(seed, entries, excluded))
    winners: list[tuple[str, str]] = []
    for prize_id, count in slots:
        for _ in range(count):
            entry = next(ranked, None)
            if entry is None:
                return winners
            winners.append((prize_id, entry))
    return winners


@dataclass
class Verification:
    """What :func:`verify_publication` found: ``ok`` when there is no problem."""

    problems: list[str] = field(default_factory=list)
    rounds_checked: int = 0
    winners: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _pairs(items: Any, key: str) -> list[tuple[str, Any]]:
    return [(str(item["prize_id"]), item[key]) for item in items or ()]


def verify_publication(doc: dict[str, Any]) -> Verification:
    """Recompute every drawn round of a published draw from its seed and the entry list and
    compare with what was published: the procedure, the list's order and hash, each seed
    against its commitment, each round's exclusions and slots, and its winners."""
    out = Verification()
    problems = out.problems
    if doc.get("procedure") != PROCEDURE:
        problems.append(f"unknown procedure {doc.get('procedure')!r} (expected {PROCEDURE})")
        return out
    entries = list(doc.get("entries") or [])
    if entries != sorted(set(entries)):
        problems.append("the entry list is not in ascending order without repeats")
    if any(not ENTRY_RE.match(str(e)) for e in entries):
        problems.append("an entry id is not 16 lowercase hex characters")
    if doc.get("entries_hash") and entries_hash(entries) != doc["entries_hash"]:
        problems.append("the entry list does not match its published hash")
    prizes = sorted(doc.get("prizes") or [], key=lambda p: p["position"])
    order = {str(p["id"]): index for index, p in enumerate(prizes)}
    won_before: list[str] = []
    forfeited_before: list[tuple[str, str]] = []
    for rnd in sorted(doc.get("rounds") or [], key=lambda r: r["number"]):
        number = rnd["number"]
        seed = rnd.get("seed")
        if not seed:
            continue  # committed, not drawn yet: nothing to recompute
        if not SEED_RE.match(seed):
            problems.append(f"round {number}: the seed is not 64 lowercase hex characters")
            continue
        if commitment_of(seed) != rnd.get("commitment"):
            problems.append(f"round {number}: the seed does not match its commitment")
        excluded = list(rnd.get("excluded") or [])
        if sorted(excluded) != sorted(set(won_before)):
            problems.append(f"round {number}: the exclusions are not the earlier winners")
        slots = [(str(s["prize_id"]), int(s["count"])) for s in rnd.get("slots") or []]
        if number == 1:
            expected = [(str(p["id"]), int(p["quantity"])) for p in prizes]
        else:
            counts: dict[str, int] = {}
            for prize_id, _entry in forfeited_before:
                counts[prize_id] = counts.get(prize_id, 0) + 1
            expected = sorted(counts.items(), key=lambda item: order.get(item[0], len(order)))
        if slots != expected:
            problems.append(f"round {number}: the slots are not the prizes to draw")
        computed = assign(seed, entries, slots, excluded)
        published = _pairs(rnd.get("winners"), "entry_id")
        if computed != published:
            problems.append(f"round {number}: the winners differ from the recomputed ones")
        out.winners += [(number, prize_id, entry) for prize_id, entry in computed]
        out.rounds_checked += 1
        won_before += [entry for _prize, entry in published]
        forfeited_before = _pairs(rnd.get("forfeited"), "entry_id")
        if not {e for _p, e in forfeited_before} <= {e for _p, e in published}:
            problems.append(f"round {number}: a forfeited entry is not one of its winners")
    return out
