"""The drill-down every metric result keeps: its worst cases (the ``n`` largest, without
sorting everything) and its counts by key."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter

from orderflow.metrics.values import (
    Count,
)

__all__ = ["DEFAULT_TOP"]


DEFAULT_TOP = 20
"""How many worst cases each result keeps for drill-down, unless told otherwise."""


def _counts(counter: Counter[str]) -> tuple[Count, ...]:
    """Counts sorted by count (descending), then key."""
    return tuple(Count(k, n) for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


class _Top:
    """Keeps the ``n`` largest items by key without sorting everything."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.heap: list[tuple[int, int, object]] = []
        self._tie = itertools.count()

    def add(self, key: int, item: object) -> None:
        if self.n <= 0:
            return
        # Ties: the earliest added wins (negated counter so it ranks higher).
        entry = (key, -next(self._tie), item)
        if len(self.heap) < self.n:
            heapq.heappush(self.heap, entry)
        elif entry > self.heap[0]:
            heapq.heapreplace(self.heap, entry)

    def items(self) -> list[object]:
        return [e[2] for e in sorted(self.heap, reverse=True)]
