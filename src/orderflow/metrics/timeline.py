"""An order's *real* stage over time, rebuilt from when changes happened on the shop floor.

The real timeline orders an order's :class:`~orderflow.workflow.ChangeRecord` s by
``occurred_at`` (``at`` when a record has no ``occurred_at``), ties broken by ``seq``. The
order is in its initial stage (the ``from_stage`` of its first record by ``seq``) from its
creation until the first change, then in each record's ``to_stage`` until the next one.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping

from orderflow.workflow.machine import ChangeRecord

__all__ = ["Timeline", "build_timelines", "timeline_from"]


class Timeline:
    """The real stage of one order over time.

    ``stages[0]`` is the initial stage, held from ``created_at`` (``None``: unknown, taken
    as "always") until ``changes[0]``; ``stages[k]`` is held from ``changes[k - 1]`` until
    ``changes[k]`` (or forever, for the last one).
    """

    __slots__ = ("changes", "created_at", "order_id", "stages")

    def __init__(
        self,
        order_id: str,
        stages: list[str],
        changes: list[dt.datetime],
        created_at: dt.datetime | None = None,
    ) -> None:
        self.order_id = order_id
        self.stages = stages
        self.changes = changes
        self.created_at = created_at

    def index_at(self, instant: dt.datetime) -> int | None:
        """Index into :attr:`stages` of the stage held at ``instant`` (``None``: not created)."""
        if self.created_at is not None and instant < self.created_at:
            return None
        return bisect_right(self.changes, instant)

    def stage_before(self, instant: dt.datetime) -> str:
        """The real stage just before ``instant`` (changes at ``instant`` not yet done)."""
        return self.stages[bisect_left(self.changes, instant)]

    def stage_at(self, instant: dt.datetime) -> str | None:
        """The real stage at ``instant`` (changes at exactly ``instant`` count as done)."""
        k = self.index_at(instant)
        return None if k is None else self.stages[k]

    def reached(self, stage: str) -> dt.datetime | None:
        """When the order last entered ``stage`` (``None`` if never, or only initially)."""
        for k in range(len(self.stages) - 1, 0, -1):
            if self.stages[k] == stage:
                return self.changes[k - 1]
        return None

    def gap_micros(self, shown: str, instant: dt.datetime) -> int | None:
        """Microseconds between a view at ``instant`` showing ``shown`` and reality.

        0 when ``shown`` is the real stage at ``instant``. If the order held ``shown``
        earlier, the time since it last left it (a stale view); else, if it enters
        ``shown`` later, the time until it does (a premature view); else ``None``
        (not measurable: the stage never occurs, or the view predates the order).
        """
        k = self.index_at(instant)
        if k is None:
            return None
        stages = self.stages
        if stages[k] == shown:
            return 0
        for j in range(k - 1, -1, -1):
            if stages[j] == shown:
                return _micros(instant, self.changes[j])
        for j in range(k + 1, len(stages)):
            if stages[j] == shown:
                return _micros(self.changes[j - 1], instant)
        return None


def _micros(later: dt.datetime, earlier: dt.datetime) -> int:
    d = dt.datetime.__sub__(later, earlier)
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def build_timelines(
    records: Iterable[ChangeRecord],
    created: Mapping[str, dt.datetime] | None = None,
) -> dict[str, Timeline]:
    """Group ``records`` by order and build each order's real :class:`Timeline`.

    ``created`` optionally maps order ids to creation instants.
    """
    grouped: dict[str, list[tuple[dt.datetime, int, str, str]]] = {}
    for rec in records:
        when = rec.occurred_at or rec.at
        item = (when, rec.seq, rec.from_stage, rec.to_stage)
        bucket = grouped.get(rec.order_id)
        if bucket is None:
            grouped[rec.order_id] = [item]
        else:
            bucket.append(item)
    return {
        oid: timeline_from(oid, items, None if created is None else created.get(oid))
        for oid, items in grouped.items()
    }


def timeline_from(
    order_id: str,
    items: list[tuple[dt.datetime, int, str, str]],
    created_at: dt.datetime | None,
) -> Timeline:
    """Build a timeline from ``(occurred, seq, from_stage, to_stage)`` tuples (sorted here)."""
    if len(items) > 1:
        first_seq = min([i[1] for i in items])
        items.sort()  # by occurred, then seq (a valid history has no equal pairs)
        initial = items[0][2]
        if items[0][1] != first_seq:
            initial = next(i[2] for i in items if i[1] == first_seq)
    else:
        initial = items[0][2]
    stages = [initial]
    stages.extend(i[3] for i in items)
    return Timeline(order_id, stages, [i[0] for i in items], created_at)
