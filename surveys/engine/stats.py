"""Aggregate statistics computed from answer counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class NpsResult:
    """Net Promoter Score breakdown.

    Promoters answered 9-10, passives 7-8, detractors 0-6. ``score`` is the percentage of
    promoters minus the percentage of detractors (-100..100), rounded half away from zero
    to one decimal, or ``None`` when there are no answers.
    """

    promoters: int
    passives: int
    detractors: int
    total: int
    score: float | None


def nps_score(counts: Mapping[int, int]) -> NpsResult:
    """Compute the NPS from ``{answer (0..10): number of respondents}``.

    Raises ``ValueError`` for answers outside 0..10 or negative counts.
    """
    promoters = passives = detractors = 0
    for answer, count in counts.items():
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= 10:
            raise ValueError(f"NPS answers are integers from 0 to 10, not {answer!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"Counts must be non-negative integers, not {count!r}")
        if answer >= 9:
            promoters += count
        elif answer >= 7:
            passives += count
        else:
            detractors += count
    total = promoters + passives + detractors
    score = None
    if total:
        exact = Decimal(100 * (promoters - detractors)) / Decimal(total)
        score = float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return NpsResult(promoters, passives, detractors, total, score)
