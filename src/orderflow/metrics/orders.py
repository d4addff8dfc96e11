"""Order metrics (R4, R8): on-time delivery, traceability, status distribution.

Pure calculators like the rest of :mod:`orderflow.metrics.calculators`, which re-exports them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable

import attrs
import pendulum

from orderflow.domain.order import Order
from orderflow.metrics.drilldown import DEFAULT_TOP, _Top
from orderflow.metrics.timeline import Timeline, build_timelines
from orderflow.metrics.values import (
    Count,
    Period,
    Ratio,
)
from orderflow.workflow.definition import DEFAULT_DEFINITION, WorkflowDefinition
from orderflow.workflow.machine import ChangeRecord

__all__ = [
    "LateDelivery",
    "OnTimeDelivery",
    "StatusDistribution",
    "Traceability",
    "on_time_delivery",
    "status_distribution",
    "traceability",
]


# --------------------------------------------------------------------------- orders


@attrs.frozen
class LateDelivery:
    """An order delivered after its requested date (dates in the factory's zone)."""

    order_id: str
    number: str
    requested_date: dt.date
    delivered_on: dt.date
    days_late: int


@attrs.frozen
class OnTimeDelivery:
    """On-time delivery rate (R8).

    ``deliveries`` counts the orders that reached the delivered stage (the last mainline
    stage) in the period, by the real time (``occurred_at``), and as numerator those
    delivered on or before their requested date, comparing calendar dates in the
    period's time zone. ``late`` lists the latest deliveries, worst first.
    """

    deliveries: Ratio
    late: tuple[LateDelivery, ...] = ()


@attrs.frozen
class Traceability:
    """Document traceability completeness (R5, R8).

    ``orders`` is the share of the period's orders (those in flight during it, see
    :func:`~orderflow.metrics.compute_health`) whose audit chain is complete and
    verifies, as told by the caller's set of verified order ids. ``unverified`` lists
    (sorted, at most the ``top`` first) the ids that did not verify.
    """

    orders: Ratio
    unverified: tuple[str, ...] = ()


@attrs.frozen
class StatusDistribution:
    """How many of the period's orders were in each stage at its end (ring chart).

    ``stages`` follows the workflow definition's stage order (zeros included), then any
    unknown stage met; the counts sum to ``total``.
    """

    total: int
    stages: tuple[Count, ...]

    def count(self, stage: str) -> int:
        """The number of orders in ``stage`` (0 if none)."""
        return next((c.count for c in self.stages if c.key == stage), 0)


class _OrderAcc:
    """On-time delivery, traceability and status distribution over in-flight orders."""

    def __init__(
        self,
        period: Period,
        definition: WorkflowDefinition,
        verified: Collection[str],
        top: int,
    ) -> None:
        self.start, self.end = period.utc_bounds()
        self.zone = pendulum.timezone(period.timezone)
        self.delivered_stage = definition.mainline[-1]
        self.terminal = frozenset(definition.terminal)
        self.stage_order = definition.stages
        self.verified = verified
        self.top_n = top
        self.in_scope = 0
        self.traced = 0
        self.unverified: list[str] = []
        self.stages: Counter[str] = Counter()
        self.delivered = 0
        self.on_time = 0
        self.late = _Top(top)

    def add(self, order: Order, timeline: Timeline | None) -> None:
        if not order.created_at < self.end:
            return
        start = self.start
        if timeline is None:
            # No recorded change: the order sat in its current (initial) stage.
            stage_end = order.stage
            if order.created_at < start and order.stage in self.terminal:
                return
        else:
            if order.created_at < start and timeline.stage_before(start) in self.terminal:
                return
            stage_end = timeline.stage_before(self.end)
            delivered_at = timeline.reached(self.delivered_stage)
            if delivered_at is not None and start <= delivered_at < self.end:
                self.delivered += 1
                day = dt.datetime.astimezone(delivered_at, self.zone).date()
                if day <= order.requested_date:
                    self.on_time += 1
                else:
                    late = (day - order.requested_date).days
                    self.late.add(
                        late,
                        LateDelivery(order.id, order.number, order.requested_date, day, late),
                    )
        self.in_scope += 1
        self.stages[stage_end] += 1
        if order.id in self.verified:
            self.traced += 1
        else:
            self.unverified.append(order.id)

    def delivery(self) -> OnTimeDelivery:
        late = tuple(i for i in self.late.items() if isinstance(i, LateDelivery))
        return OnTimeDelivery(Ratio(self.on_time, self.delivered), late)

    def traceability(self) -> Traceability:
        missing = tuple(sorted(self.unverified)[: self.top_n])
        return Traceability(Ratio(self.traced, self.in_scope), missing)

    def distribution(self) -> StatusDistribution:
        known = list(self.stage_order)
        known.extend(sorted(set(self.stages) - set(known)))
        return StatusDistribution(
            total=self.in_scope, stages=tuple(Count(s, self.stages[s]) for s in known)
        )


def _order_acc(
    orders: Iterable[Order],
    records: Iterable[ChangeRecord],
    *,
    period: Period,
    definition: WorkflowDefinition,
    verified: Collection[str],
    top: int,
) -> _OrderAcc:
    order_list = list(orders)
    timelines = build_timelines(records, {o.id: o.created_at for o in order_list})
    acc = _OrderAcc(period, definition, verified, top)
    for order in order_list:
        acc.add(order, timelines.get(order.id))
    return acc


def on_time_delivery(
    orders: Iterable[Order],
    records: Iterable[ChangeRecord],
    *,
    period: Period,
    definition: WorkflowDefinition = DEFAULT_DEFINITION,
    top: int = DEFAULT_TOP,
) -> OnTimeDelivery:
    """Share of the period's deliveries made on or before the requested date."""
    return _order_acc(
        orders, records, period=period, definition=definition, verified=frozenset(), top=top
    ).delivery()


def traceability(
    orders: Iterable[Order],
    records: Iterable[ChangeRecord],
    verified_order_ids: Collection[str],
    *,
    period: Period,
    definition: WorkflowDefinition = DEFAULT_DEFINITION,
    top: int = DEFAULT_TOP,
) -> Traceability:
    """Share of the period's in-flight orders whose audit chain verified.

    ``verified_order_ids`` holds the ids whose chain the audit verifier found complete and
    valid (pass a ``set`` or ``frozenset``: it is probed once per order).
    """
    return _order_acc(
        orders,
        records,
        period=period,
        definition=definition,
        verified=verified_order_ids,
        top=top,
    ).traceability()


def status_distribution(
    orders: Iterable[Order],
    records: Iterable[ChangeRecord],
    *,
    period: Period,
    definition: WorkflowDefinition = DEFAULT_DEFINITION,
) -> StatusDistribution:
    """Stage of each in-flight order at the end of the period (real timeline)."""
    return _order_acc(
        orders, records, period=period, definition=definition, verified=frozenset(), top=0
    ).distribution()
