"""Incident metrics (R8): exception closure times, root causes, the weekly heatmap.

Pure calculators like the rest of :mod:`orderflow.metrics.calculators`, which re-exports them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

import attrs
import pendulum

from orderflow.domain.incident import Incident
from orderflow.metrics.drilldown import DEFAULT_TOP, _counts, _Top
from orderflow.metrics.values import (
    Count,
    Period,
    Ratio,
    hours,
    micros,
)
from orderflow.policy.model import Policy

__all__ = [
    "ExceptionClosure",
    "ExceptionHeatmap",
    "HistogramBin",
    "IncidentRef",
    "RootCauseDistribution",
    "exception_closure",
    "exception_heatmap",
    "period_weeks",
    "root_cause_distribution",
]


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
