"""Gapped positions inside a column (pure: no Django).

Tasks sit :data:`GAP` apart. Putting a task between two neighbours takes the integer midpoint;
after about log2(GAP) moves into the same spot no integer is left, and the caller renumbers the
column (:func:`spread`). Appending adds GAP after the last task."""

from __future__ import annotations

GAP = 1 << 16
LIMIT = 1 << 50


def between(previous: int | None, following: int | None) -> int | None:
    """A position strictly between ``previous`` and ``following`` (None: the column's start or
    end), or None when no integer is free there (or it would pass :data:`LIMIT`): rebalance."""
    low = previous or 0
    if following is None:
        candidate = low + GAP
        return candidate if candidate < LIMIT else None
    candidate = (low + following) // 2
    if candidate <= low or candidate >= following:
        return None
    return candidate


def spread(count: int) -> list[int]:
    """Fresh positions for ``count`` tasks in order, GAP apart."""
    return [(i + 1) * GAP for i in range(count)]
