"""Pure calculators for the health metrics (R8, R9), one result type per metric.

Every calculator takes plain iterables (orders, change records, incidents, query events)
and a :class:`~orderflow.metrics.Period`; none does I/O or reads the clock. Each returns a
small frozen result holding the numbers *and* the counts behind them (a
:class:`~orderflow.metrics.Ratio` for every share) plus a few worst cases naming the
orders involved, for drill-down. Shares are :class:`~decimal.Decimal` in [0, 1]; durations
are :class:`~decimal.Decimal` hours rounded to three places.

Each public function here is a thin wrapper over an accumulator that
:func:`~orderflow.metrics.compute_health` feeds in a single pass over each input.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections import Counter
from collections.abc import Collection, Iterable
from decimal import Decimal

import attrs
import pendulum

from orderflow.domain.incident import Incident
from orderflow.domain.order import Order
from orderflow.metrics.timeline import Timeline, build_timelines
from orderflow.metrics.values import (
    Count,
    Period,
    QueryEvent,
    QueryKind,
    Ratio,
    hours,
    micros,
)
from orderflow.policy.model import Policy
from orderflow.workflow.definition import DEFAULT_DEFINITION, WorkflowDefinition
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

SELF_SERVICE_TARGET = Decimal("0.92")
"""R8 (3): the seed plant reached a 92 % self-service query share."""

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


# --------------------------------------------------------------------------- incidents


@attrs.frozen
class HistogramBin:
    """Closure times in ``(lower_hours, upper_hours]`` (the first bin includes 0).

    ``upper_hours`` is ``None`` for the open-ended last bin.
    """

    lower_hours: Decimal
    upper_hours: Decimal | None
    count: int


@attrs.frozen
class IncidentRef:
    """An incident named in a result: its closure time, or its age if still open."""

    incident_id: str
    order_id: str
    category: str
    opened_at: dt.datetime
    hours: Decimal
    open: bool
    root_cause: str | None = None


@attrs.frozen
class ExceptionClosure:
    """Exception closure time, alert to resolution (R8 metric 2).

    Counts the incidents *opened* in the period. ``within_target`` is resolved-within-
    ``target_hours`` (closure ``<=`` target) over all resolved ones; incidents still open
    at ``as_of`` are not in it but counted in ``still_open``, and ``open_overdue`` of
    them are already older than the target. ``median_hours`` is the middle closure
    time (the mean of the two middle ones for an even count); ``p90_hours`` the 90th
    percentile by the nearest-rank method (the ``ceil(0.9 n)``-th smallest). ``slowest``
    lists the longest closures, ``oldest_open`` the oldest open incidents.
    """

    resolved: int
    still_open: int
    open_overdue: int
    within_target: Ratio
    target_hours: Decimal
    median_hours: Decimal | None
    p90_hours: Decimal | None
    max_hours: Decimal | None
    histogram: tuple[HistogramBin, ...]
    slowest: tuple[IncidentRef, ...] = ()
    oldest_open: tuple[IncidentRef, ...] = ()

    @property
    def meets_target(self) -> bool | None:
        """True when the median closure is within the target (``None``: nothing resolved)."""
        if self.median_hours is None:
            return None
        return self.median_hours <= self.target_hours


_BIN_FACTORS = (
    Decimal(0),
    Decimal("0.25"),
    Decimal("0.5"),
    Decimal("0.75"),
    Decimal(1),
    Decimal("1.5"),
    Decimal(2),
    Decimal(3),
    Decimal(6),
    Decimal(12),
)


def _ref(inc: Incident, micro: int, is_open: bool) -> IncidentRef:
    return IncidentRef(
        incident_id=inc.id,
        order_id=inc.order_id,
        category=inc.category,
        opened_at=inc.opened_at,
        hours=hours(micro),
        open=is_open,
        root_cause=inc.root_cause,
    )


class _ClosureAcc:
    def __init__(
        self, period: Period, target_hours: Decimal, as_of: dt.datetime | None, top: int
    ) -> None:
        self.start, self.end = period.utc_bounds()
        self.as_of = as_of
        self.age_at = as_of if as_of is not None else period.end
        self.target_hours = target_hours
        self.target_micros = int(target_hours * 3_600_000_000)
        self.closures: list[int] = []
        self.still_open = 0
        self.open_overdue = 0
        self.slow = _Top(top)
        self.old = _Top(top)

    def add(self, inc: Incident) -> None:
        if not self.start <= inc.opened_at < self.end:
            return
        resolved_at = inc.resolved_at
        if resolved_at is None or (self.as_of is not None and resolved_at > self.as_of):
            self.still_open += 1
            age = max(0, micros(dt.datetime.__sub__(self.age_at, inc.opened_at)))
            if age > self.target_micros:
                self.open_overdue += 1
            self.old.add(age, inc)
        else:
            closure = micros(dt.datetime.__sub__(resolved_at, inc.opened_at))
            self.closures.append(closure)
            self.slow.add(closure, inc)

    def result(self) -> ExceptionClosure:
        data = sorted(self.closures)
        n = len(data)
        within = sum(1 for c in data if c <= self.target_micros)
        median = p90 = top = None
        if n:
            mid = n // 2
            med = Decimal(data[mid]) if n % 2 else Decimal(data[mid - 1] + data[mid]) / 2
            median = hours(med)
            p90 = hours(data[-(-9 * n // 10) - 1])
            top = hours(data[-1])
        edges = [self.target_hours * f for f in _BIN_FACTORS]
        edge_micros = [int(e * 3_600_000_000) for e in edges]
        counts = [0] * len(edges)
        i = 0
        for c in data:  # sorted: walk the bins once
            while i + 1 < len(edges) and c > edge_micros[i + 1]:
                i += 1
            counts[i] += 1
        bins = tuple(
            HistogramBin(edges[k], edges[k + 1] if k + 1 < len(edges) else None, counts[k])
            for k in range(len(edges))
        )
        slowest = []
        for item in self.slow.items():
            assert isinstance(item, Incident)
            assert item.resolved_at is not None
            slowest.append(
                _ref(item, micros(dt.datetime.__sub__(item.resolved_at, item.opened_at)), False)
            )
        oldest = []
        for item in self.old.items():
            assert isinstance(item, Incident)
            age = max(0, micros(dt.datetime.__sub__(self.age_at, item.opened_at)))
            oldest.append(attrs.evolve(_ref(item, age, True), root_cause=None))
        return ExceptionClosure(
            resolved=n,
            still_open=self.still_open,
            open_overdue=self.open_overdue,
            within_target=Ratio(within, n),
            target_hours=self.target_hours,
            median_hours=median,
            p90_hours=p90,
            max_hours=top,
            histogram=bins,
            slowest=tuple(slowest),
            oldest_open=tuple(oldest),
        )


def exception_closure(
    incidents: Iterable[Incident],
    *,
    policy: Policy,
    period: Period,
    as_of: dt.datetime | None = None,
    top: int = DEFAULT_TOP,
) -> ExceptionClosure:
    """Closure times of the incidents opened in ``period`` (see :class:`ExceptionClosure`).

    ``as_of`` freezes the picture at an instant: resolutions after it are treated as not
    yet happened, and open incidents' ages are measured at it. ``None`` takes every
    resolution given and measures ages at the period's end. The target is
    ``policy.exception_closure_target_hours``.
    """
    acc = _ClosureAcc(period, policy.exception_closure_target_hours, as_of, top)
    for inc in incidents:
        acc.add(inc)
    return acc.result()


@attrs.frozen
class RootCauseDistribution:
    """Root causes of the incidents opened in the period and resolved (R5, R8).

    ``root_causes``, ``operators``, ``devices`` and ``batches`` count the resolved
    incidents by each trace field (blank device/batch fields are left out), most frequent
    first; ``unresolved`` counts those with no root cause yet.
    """

    resolved: int
    unresolved: int
    root_causes: tuple[Count, ...]
    operators: tuple[Count, ...]
    devices: tuple[Count, ...]
    batches: tuple[Count, ...]


class _RootCauseAcc:
    def __init__(self, period: Period, as_of: dt.datetime | None) -> None:
        self.start, self.end = period.utc_bounds()
        self.as_of = as_of
        self.unresolved = 0
        self.causes: Counter[str] = Counter()
        self.operators: Counter[str] = Counter()
        self.devices: Counter[str] = Counter()
        self.batches: Counter[str] = Counter()

    def add(self, inc: Incident) -> None:
        if not self.start <= inc.opened_at < self.end:
            return
        if (
            inc.root_cause is None
            or inc.resolved_at is None
            or (self.as_of is not None and inc.resolved_at > self.as_of)
        ):
            self.unresolved += 1
            return
        self.causes[inc.root_cause] += 1
        self.operators[inc.operator] += 1
        if inc.device:
            self.devices[inc.device] += 1
        if inc.batch:
            self.batches[inc.batch] += 1

    def result(self) -> RootCauseDistribution:
        return RootCauseDistribution(
            resolved=sum(self.causes.values()),
            unresolved=self.unresolved,
            root_causes=_counts(self.causes),
            operators=_counts(self.operators),
            devices=_counts(self.devices),
            batches=_counts(self.batches),
        )


def root_cause_distribution(
    incidents: Iterable[Incident], *, period: Period, as_of: dt.datetime | None = None
) -> RootCauseDistribution:
    """Count the root causes (and operators, devices, batches) of the period's incidents."""
    acc = _RootCauseAcc(period, as_of)
    for inc in incidents:
        acc.add(inc)
    return acc.result()


@attrs.frozen
class ExceptionHeatmap:
    """Incidents opened in the period, by category (rows) and ISO week (columns).

    ``weeks`` are ISO week labels such as ``2026-W05`` of every week overlapping the
    period in its time zone, in order; ``categories`` the policy's category codes in
    policy order, followed by any unknown codes met. ``counts[i][j]`` counts category
    ``i`` in week ``j``; all counts sum to ``total``.
    """

    categories: tuple[str, ...]
    weeks: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    total: int

    def cell(self, category: str, week: str) -> int:
        """The count for one category and week (0 if either is not in the map)."""
        if category not in self.categories or week not in self.weeks:
            return 0
        return self.counts[self.categories.index(category)][self.weeks.index(week)]

    @property
    def max_count(self) -> int:
        """The largest single cell (0 for an empty map)."""
        return max((max(row, default=0) for row in self.counts), default=0)


def _week_label(day: dt.date) -> str:
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def period_weeks(period: Period) -> tuple[str, ...]:
    """ISO week labels of every week overlapping ``period`` in its time zone, in order."""
    zone = pendulum.timezone(period.timezone)
    first = dt.datetime.astimezone(period.start, zone).date()
    last = dt.datetime.astimezone(period.end - dt.timedelta(microseconds=1), zone).date()
    labels: dict[str, None] = {}
    day = first
    while day <= last:
        labels[_week_label(day)] = None
        day += dt.timedelta(days=1)
    return tuple(labels)


class _HeatmapAcc:
    def __init__(self, period: Period, policy: Policy) -> None:
        self.start, self.end = period.utc_bounds()
        self.zone = pendulum.timezone(period.timezone)
        self.weeks = period_weeks(period)
        self.codes = [c.code for c in policy.exception_categories]
        self.cells: Counter[tuple[str, str]] = Counter()

    def add(self, inc: Incident) -> None:
        if not self.start <= inc.opened_at < self.end:
            return
        local = dt.datetime.astimezone(inc.opened_at, self.zone).date()
        self.cells[(inc.category, _week_label(local))] += 1

    def result(self) -> ExceptionHeatmap:
        cats = list(self.codes)
        cats.extend(sorted({c for c, _ in self.cells} - set(cats)))
        return ExceptionHeatmap(
            categories=tuple(cats),
            weeks=self.weeks,
            counts=tuple(tuple(self.cells[(c, w)] for w in self.weeks) for c in cats),
            total=sum(self.cells.values()),
        )


def exception_heatmap(
    incidents: Iterable[Incident], *, policy: Policy, period: Period
) -> ExceptionHeatmap:
    """Count the period's incidents by category and ISO week (see :class:`ExceptionHeatmap`)."""
    acc = _HeatmapAcc(period, policy)
    for inc in incidents:
        acc.add(inc)
    return acc.result()


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
