"""Pure calculators for the health metrics (R8, R9), one result type per metric.

Every calculator takes plain iterables (orders, change records, incidents, query events)
and a :class:`~orderflow.metrics.Period`; none does I/O or reads the clock. Each returns a
small frozen result holding the numbers *and* the counts behind them (a
:class:`~orderflow.metrics.Ratio` for every share) plus a few worst cases naming the
orders involved, for drill-down. Shares are :class:`~decimal.Decimal` in [0, 1]; durations
are :class:`~decimal.Decimal` hours rounded to three places.

The status-timeliness calculator lives here; the others live by what they measure
(:mod:`~orderflow.metrics.incidents`, :mod:`~orderflow.metrics.queries`,
:mod:`~orderflow.metrics.orders`) and are re-exported. Each public function is a thin
wrapper over an accumulator that :func:`~orderflow.metrics.compute_health` feeds in a
single pass over each input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from orderflow.metrics.drilldown import DEFAULT_TOP, _Top
from orderflow.metrics.incidents import (
    ExceptionClosure,
    ExceptionHeatmap,
    HistogramBin,
    IncidentRef,
    RootCauseDistribution,
    exception_closure,
    exception_heatmap,
    period_weeks,
    root_cause_distribution,
)
from orderflow.metrics.orders import (
    LateDelivery,
    OnTimeDelivery,
    StatusDistribution,
    Traceability,
    on_time_delivery,
    status_distribution,
    traceability,
)
from orderflow.metrics.queries import (
    SELF_SERVICE_TARGET,
    AccuracyGap,
    QueryFunnel,
    SelfServiceShare,
    StatusAccuracy,
    query_funnel,
    self_service_share,
    status_accuracy,
)
from orderflow.metrics.values import (
    Period,
    Ratio,
    hours,
    micros,
)
from orderflow.policy.model import Policy
from orderflow.workflow.machine import ChangeRecord

__all__ = [
    "SELF_SERVICE_TARGET",
    "TIMELINESS_TARGET",
    "AccuracyGap",
    "ExceptionClosure",
    "ExceptionHeatmap",
    "HistogramBin",
    "IncidentRef",
    "LateDelivery",
    "LateUpdate",
    "OnTimeDelivery",
    "QueryFunnel",
    "RootCauseDistribution",
    "SelfServiceShare",
    "StatusAccuracy",
    "StatusDistribution",
    "StatusTimeliness",
    "Traceability",
    "exception_closure",
    "exception_heatmap",
    "on_time_delivery",
    "period_weeks",
    "query_funnel",
    "root_cause_distribution",
    "self_service_share",
    "status_accuracy",
    "status_distribution",
    "status_timeliness",
    "traceability",
]

TIMELINESS_TARGET = Decimal("0.992")
"""R8 (1): at least 99.2 % of status changes recorded within the policy's tolerance."""


# --------------------------------------------------------------------------- timeliness


@attrs.frozen
class LateUpdate:
    """A status change recorded later than the tolerance allows."""

    order_id: str
    seq: int
    event: str
    to_stage: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    delay_minutes: Decimal


@attrs.frozen
class StatusTimeliness:
    """Status-update timeliness (R8 metric 1).

    ``updates`` counts the change records that *occurred* in the period
    (``occurred_at``, else ``at``) and, as numerator, those recorded within
    ``tolerance_minutes``: ``at - occurred_at <= tolerance``. A record stamped before it
    occurred counts as timely. ``worst`` lists the latest-recorded changes, worst first.
    """

    updates: Ratio
    tolerance_minutes: int
    target: Decimal = TIMELINESS_TARGET
    worst: tuple[LateUpdate, ...] = ()

    @property
    def meets_target(self) -> bool | None:
        """Whether the share reaches :attr:`target` (``None`` with no changes)."""
        return self.updates.meets(self.target)


class _TimelinessAcc:
    def __init__(self, period: Period, tolerance_minutes: int, top: int) -> None:
        self.start, self.end = period.utc_bounds()
        self.tolerance_minutes = tolerance_minutes
        self.tol = dt.timedelta(minutes=tolerance_minutes)
        self.total = 0
        self.timely = 0
        self.top = _Top(top)

    def add(self, rec: ChangeRecord) -> None:
        occurred = rec.occurred_at or rec.at
        if not self.start <= occurred < self.end:
            return
        self.total += 1
        delay = dt.datetime.__sub__(rec.at, occurred)
        if delay <= self.tol:
            self.timely += 1
        else:
            self.top.add(micros(delay), rec)

    def result(self) -> StatusTimeliness:
        worst = []
        for item in self.top.items():
            assert isinstance(item, ChangeRecord)
            occurred = item.occurred_at or item.at
            delay = micros(dt.datetime.__sub__(item.at, occurred))
            worst.append(
                LateUpdate(
                    order_id=item.order_id,
                    seq=item.seq,
                    event=item.event,
                    to_stage=item.to_stage,
                    occurred_at=occurred,
                    recorded_at=item.at,
                    delay_minutes=hours(delay * 60),
                )
            )
        return StatusTimeliness(
            updates=Ratio(self.timely, self.total),
            tolerance_minutes=self.tolerance_minutes,
            worst=tuple(worst),
        )


def status_timeliness(
    records: Iterable[ChangeRecord], *, policy: Policy, period: Period, top: int = DEFAULT_TOP
) -> StatusTimeliness:
    """Share of the period's status changes recorded within the policy's tolerance.

    ``policy.status_update_tolerance_minutes`` is the tolerance; the target is
    :data:`TIMELINESS_TARGET`. See :class:`StatusTimeliness` for the exact counting rule.
    """
    acc = _TimelinessAcc(period, policy.status_update_tolerance_minutes, top)
    for rec in records:
        acc.add(rec)
    return acc.result()
