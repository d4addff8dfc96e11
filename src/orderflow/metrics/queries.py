"""Customer query metrics (R8, R9): self-service share, the query funnel, status accuracy.

Pure calculators like the rest of :mod:`orderflow.metrics.calculators`, which re-exports them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from orderflow.domain.order import Order
from orderflow.metrics.drilldown import DEFAULT_TOP, _Top
from orderflow.metrics.timeline import Timeline, build_timelines
from orderflow.metrics.values import (
    Period,
    QueryEvent,
    QueryKind,
    Ratio,
    hours,
)
from orderflow.workflow.machine import ChangeRecord

__all__ = [
    "SELF_SERVICE_TARGET",
    "AccuracyGap",
    "QueryFunnel",
    "SelfServiceShare",
    "StatusAccuracy",
    "query_funnel",
    "self_service_share",
    "status_accuracy",
]


SELF_SERVICE_TARGET = Decimal("0.92")
"""R8 (3): the seed plant reached a 92 % self-service query share."""


# --------------------------------------------------------------------------- queries


@attrs.frozen
class SelfServiceShare:
    """Customer self-service query share (R8 metric 3, R9).

    Every status enquiry in the period is either answered by the self-service page (a
    ``viewed`` event) or by a support phone call (``called``); ``queries`` is views over
    views + calls, counted as events.
    """

    queries: Ratio
    target: Decimal = SELF_SERVICE_TARGET

    @property
    def meets_target(self) -> bool | None:
        """Whether the share reaches :attr:`target` (``None`` with no enquiries)."""
        return self.queries.meets(self.target)


class _SelfServiceAcc:
    def __init__(self) -> None:
        self.views = 0
        self.calls = 0

    def result(self) -> SelfServiceShare:
        return SelfServiceShare(Ratio(self.views, self.views + self.calls))


def self_service_share(queries: Iterable[QueryEvent], *, period: Period) -> SelfServiceShare:
    """Views over views + calls among the period's query events."""
    acc = _SelfServiceAcc()
    start, end = period.utc_bounds()
    for q in queries:
        if start <= q.at < end:
            if q.kind is QueryKind.VIEWED:
                acc.views += 1
            elif q.kind is QueryKind.CALLED:
                acc.calls += 1
    return acc.result()


@attrs.frozen
class QueryFunnel:
    """The customer query funnel of the period, counted in orders (R8, R9).

    ``sent``: orders whose status link was sent in the period; ``opened``: of those, the
    ones whose link was opened; ``viewed``: of those, the ones whose status page was
    viewed; ``no_call``: of those, the ones with no support call at or after their first
    view in the period. Each step is a subset of the one before, so the counts never
    increase. Views of orders whose link was not sent in the period are outside the
    funnel (they still count for :class:`SelfServiceShare`).
    """

    sent: int
    opened: int
    viewed: int
    no_call: int

    @property
    def steps(self) -> tuple[tuple[str, int], ...]:
        """``(name, count)`` for each step, in funnel order."""
        return (
            ("sent", self.sent),
            ("opened", self.opened),
            ("viewed", self.viewed),
            ("no_call", self.no_call),
        )


class _FunnelAcc:
    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.opened: set[str] = set()
        self.first_view: dict[str, dt.datetime] = {}
        self.last_call: dict[str, dt.datetime] = {}

    def add(self, q: QueryEvent) -> None:
        kind = q.kind
        oid = q.order_id
        if kind is QueryKind.VIEWED:
            seen = self.first_view.get(oid)
            if seen is None or q.at < seen:
                self.first_view[oid] = q.at
        elif kind is QueryKind.CALLED:
            last = self.last_call.get(oid)
            if last is None or q.at > last:
                self.last_call[oid] = q.at
        elif kind is QueryKind.SENT:
            self.sent.add(oid)
        else:
            self.opened.add(oid)

    def result(self) -> QueryFunnel:
        opened = self.sent & self.opened
        viewed = [o for o in opened if o in self.first_view]
        no_call = 0
        for o in viewed:
            call = self.last_call.get(o)
            if call is None or call < self.first_view[o]:
                no_call += 1
        return QueryFunnel(len(self.sent), len(opened), len(viewed), no_call)


def query_funnel(queries: Iterable[QueryEvent], *, period: Period) -> QueryFunnel:
    """Sent -> opened -> viewed -> no follow-up call, in orders (see :class:`QueryFunnel`)."""
    acc = _FunnelAcc()
    start, end = period.utc_bounds()
    for q in queries:
        if start <= q.at < end:
            acc.add(q)
    return acc.result()


@attrs.frozen
class AccuracyGap:
    """One customer view whose shown stage differed from the real one."""

    order_id: str
    viewed_at: dt.datetime
    shown_stage: str
    real_stage: str
    gap_hours: Decimal


@attrs.frozen
class StatusAccuracy:
    """Status accuracy: how far what customers saw was from reality (R9's one measure).

    For every ``viewed`` event in the period with a ``shown_stage``, the *gap* is, in
    hours, against the order's real timeline (rebuilt from ``occurred_at``, see
    :class:`~orderflow.metrics.Timeline`):

    * 0 when the shown stage is the real stage at the moment of the view;
    * if the order held the shown stage earlier (a stale view), the time since the real
      stage last moved past it;
    * if the order only reaches the shown stage later (a premature view), the time until
      it did;
    * otherwise (the stage never occurs, the view predates the order, or the order has
      no known history) the view is *unmeasured* and left out of the averages.

    ``mean_gap_hours`` is the mean of the gaps over ``measured`` views (the ± figure of
    R9: seed 14.2 h -> 0.7 h); ``exact`` counts the zero gaps; ``p90_gap_hours`` is the
    nearest-rank 90th percentile. ``worst`` lists the largest gaps.
    """

    views: int
    measured: int
    unmeasured: int
    exact: Ratio
    mean_gap_hours: Decimal | None
    p90_gap_hours: Decimal | None
    max_gap_hours: Decimal | None
    worst: tuple[AccuracyGap, ...] = ()


class _AccuracyAcc:
    def __init__(self, top: int) -> None:
        self.views = 0
        self.gaps: list[int] = []
        self.unmeasured = 0
        self.top = _Top(top)

    def add(self, q: QueryEvent, timeline: Timeline | None) -> None:
        shown = q.shown_stage
        if shown is None:
            return
        self.views += 1
        gap = None if timeline is None else timeline.gap_micros(shown, q.at)
        if gap is None:
            self.unmeasured += 1
            return
        self.gaps.append(gap)
        if gap > 0:
            assert timeline is not None
            real = timeline.stage_at(q.at) or ""
            self.top.add(gap, AccuracyGap(q.order_id, q.at, shown, real, hours(gap)))

    def result(self) -> StatusAccuracy:
        data = sorted(self.gaps)
        n = len(data)
        mean = p90 = top = None
        if n:
            mean = hours(Decimal(sum(data)) / n)
            p90 = hours(data[-(-9 * n // 10) - 1])
            top = hours(data[-1])
        worst = tuple(i for i in self.top.items() if isinstance(i, AccuracyGap))
        return StatusAccuracy(
            views=self.views,
            measured=n,
            unmeasured=self.unmeasured,
            exact=Ratio(sum(1 for g in data if g == 0), n),
            mean_gap_hours=mean,
            p90_gap_hours=p90,
            max_gap_hours=top,
            worst=worst,
        )


def status_accuracy(
    queries: Iterable[QueryEvent],
    records: Iterable[ChangeRecord],
    *,
    period: Period,
    orders: Iterable[Order] = (),
    top: int = DEFAULT_TOP,
) -> StatusAccuracy:
    """Gap between the stage customers saw and the real stage (see :class:`StatusAccuracy`).

    ``records`` should hold the whole history of the viewed orders (also after the
    period: a premature view is measured against when the stage was really reached).
    ``orders`` optionally supplies creation times, so views before creation are unmeasured.
    """
    created = {o.id: o.created_at for o in orders}
    timelines = build_timelines(records, created)
    acc = _AccuracyAcc(top)
    start, end = period.utc_bounds()
    for q in queries:
        if q.kind is QueryKind.VIEWED and start <= q.at < end:
            acc.add(q, timelines.get(q.order_id))
    return acc.result()
