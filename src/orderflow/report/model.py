"""The monthly order fulfilment health report as data (R8): :func:`build_report`."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from orderflow.domain.incident import Incident
from orderflow.domain.order import Order
from orderflow.exceptions import InputError
from orderflow.metrics.health import HealthSnapshot
from orderflow.metrics.values import Ratio
from orderflow.policy.model import ExceptionCategory, Policy
from orderflow.workflow.machine import ChangeRecord

__all__ = [
    "ACCURACY_TARGET_HOURS",
    "HeadlineRow",
    "HealthReport",
    "OrderDrill",
    "RowStatus",
    "build_report",
    "headline_rows",
]

ACCURACY_TARGET_HOURS = Decimal("0.7")
"""R9: the seed plant brought the status gap down to ±0.7 h; the default target."""

DEFAULT_TITLE = "订单履约健康报告 · Order fulfilment health report"


class RowStatus(enum.StrEnum):
    """How a headline metric compares with its target."""

    OK = "ok"
    MISS = "miss"
    INFO = "info"
    """No target, or nothing to measure in the period."""


@attrs.frozen
class HeadlineRow:
    """One line of the headline table: a metric, its value, its target, the counts."""

    key: str
    label: str
    value: str
    target: str
    status: RowStatus
    basis: str


@attrs.frozen
class OrderDrill:
    """What the report shows about one order it names: its changes and incidents."""

    order_id: str
    number: str
    changes: tuple[ChangeRecord, ...]
    incidents: tuple[Incident, ...] = ()


def _texts(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _rows(rows: Iterable[Iterable[object]]) -> tuple[tuple[str, ...], ...]:
    return tuple(_texts(r) for r in rows)


@attrs.frozen
class ReportSection:
    """An extra table in the report, e.g. the ERP-vs-shelf stock discrepancies (R6).

    ``StockReport.health_section()`` of :mod:`orderflow.erp` returns exactly these
    fields: ``ReportSection(**stock_report.health_section())``.
    """

    id: str
    title: str
    summary: str
    columns: tuple[str, ...] = attrs.field(converter=_texts)
    rows: tuple[tuple[str, ...], ...] = attrs.field(converter=_rows)


@attrs.frozen
class HealthReport:
    """The monthly health report of one factory, ready to render (HTML or JSON).

    ``order_url`` is an optional link template such as ``orders/{order_id}``; without
    it every order named links to its drill-down section inside the report.
    """

    title: str
    factory: str
    generated_at: dt.datetime
    snapshot: HealthSnapshot
    headline: tuple[HeadlineRow, ...]
    categories: tuple[ExceptionCategory, ...]
    orders: tuple[OrderDrill, ...]
    order_url: str | None = None
    sections: tuple[ReportSection, ...] = ()

    @property
    def timezone(self) -> str:
        """The zone the report's calendar and local times use (the period's)."""
        return self.snapshot.period.timezone

    def drill(self, order_id: str) -> OrderDrill | None:
        """The drill-down of ``order_id``, if the report names it."""
        return next((o for o in self.orders if o.order_id == order_id), None)


def _status(ok: bool | None) -> RowStatus:
    if ok is None:
        return RowStatus.INFO
    return RowStatus.OK if ok else RowStatus.MISS


def _basis(r: Ratio, what: str) -> str:
    return f"{r.numerator:,} / {r.denominator:,} {what}"


def _h(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _pct(value: Decimal) -> str:
    text = f"{(value * 100).normalize():f}"
    return f"{text} %"


def headline_rows(
    snapshot: HealthSnapshot, accuracy_target_hours: Decimal = ACCURACY_TARGET_HOURS
) -> tuple[HeadlineRow, ...]:
    """The headline table: each R8/R9 metric against its target, with its counts."""
    s = snapshot
    t, c, q = s.timeliness, s.closure, s.self_service
    rows = [
        HeadlineRow(
            "timeliness",
            "状态更新及时率 · Status-update timeliness",
            t.updates.percent(2),
            f"≥ {_pct(t.target)}",
            _status(t.meets_target),
            _basis(t.updates, f"changes recorded within {t.tolerance_minutes} min"),
        ),
        HeadlineRow(
            "closure",
            "异常闭环时长 · Exception closure time (median)",
            "n/a" if c.median_hours is None else f"{_h(c.median_hours)} h",
            f"≤ {c.target_hours.normalize():f} h",
            _status(c.meets_target),
            f"p90 {'n/a' if c.p90_hours is None else _h(c.p90_hours)} h; "
            f"{c.within_target.percent()} of {c.resolved:,} resolved within target; "
            f"{c.still_open:,} still open ({c.open_overdue:,} overdue)",
        ),
        HeadlineRow(
            "self_service",
            "客户自助查询占比 · Customer self-service query share",
            q.queries.percent(1),
            f"≥ {_pct(q.target)}",
            _status(q.meets_target),
            _basis(q.queries, "enquiries answered by the status page (rest: phone calls)"),
        ),
        HeadlineRow(
            "on_time",
            "准时交付率 · On-time delivery rate",
            s.on_time.deliveries.percent(1),
            "—",
            RowStatus.INFO,
            _basis(s.on_time.deliveries, "deliveries on or before the requested date"),
        ),
        HeadlineRow(
            "traceability",
            "单据可追溯完整率 · Document traceability completeness",
            s.traceability.orders.percent(1),
            "= 100 %",
            _status(s.traceability.orders.meets(Decimal(1))),
            _basis(s.traceability.orders, "orders with a complete, verified audit chain"),
        ),
        HeadlineRow(
            "accuracy",
            "状态准确度 · Status accuracy (mean gap)",
            "n/a" if s.accuracy.mean_gap_hours is None else f"± {_h(s.accuracy.mean_gap_hours)} h",
            f"≤ ± {accuracy_target_hours.normalize():f} h",
            _status(
                None
                if s.accuracy.mean_gap_hours is None
                else s.accuracy.mean_gap_hours <= accuracy_target_hours
            ),
            f"{s.accuracy.measured:,} customer views measured, "
            f"{s.accuracy.exact.percent()} exact; {s.accuracy.unmeasured:,} not measurable",
        ),
    ]
    return tuple(rows)


def build_report(
    snapshot: HealthSnapshot,
    *,
    policy: Policy,
    generated_at: dt.datetime,
    records: Iterable[ChangeRecord] = (),
    incidents: Iterable[Incident] = (),
    orders: Iterable[Order] = (),
    factory: str = "",
    title: str = DEFAULT_TITLE,
    order_url: str | None = None,
    accuracy_target_hours: Decimal = ACCURACY_TARGET_HOURS,
    sections: Iterable[ReportSection] = (),
) -> HealthReport:
    """Assemble the report of ``snapshot`` (from :func:`~orderflow.metrics.compute_health`).

    ``records``, ``incidents`` and ``orders`` feed the drill-down: each is read once and
    only the items of orders the snapshot names are kept (pass the same history that fed
    the snapshot, or just those orders'). ``policy`` supplies the category labels and
    colours. ``order_url`` is a link template with an ``{order_id}`` field, e.g.
    ``"https://erp.example/orders/{order_id}"``; by default order links point to their
    section in the report. ``generated_at`` must be timezone-aware. ``sections`` adds
    extra tables such as the ERP stock reconciliation.
    """
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise InputError("generated_at must be timezone-aware")
    if order_url is not None:
        try:
            order_url.format(order_id="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(
                f"order_url must be a template with only an {{order_id}} field, got "
                f"{order_url!r} ({exc})"
            ) from None
    wanted = set(snapshot.order_ids())
    changes: dict[str, list[ChangeRecord]] = {oid: [] for oid in wanted}
    for rec in records:
        bucket = changes.get(rec.order_id)
        if bucket is not None:
            bucket.append(rec)
    found: dict[str, list[Incident]] = {oid: [] for oid in wanted}
    for inc in incidents:
        items = found.get(inc.order_id)
        if items is not None:
            items.append(inc)
    numbers = {o.id: o.number for o in orders if o.id in wanted}
    drills = tuple(
        OrderDrill(
            order_id=oid,
            number=numbers.get(oid, ""),
            changes=tuple(sorted(changes[oid], key=lambda r: r.seq)),
            incidents=tuple(sorted(found[oid], key=lambda i: (i.opened_at, i.id))),
        )
        for oid in sorted(wanted)
    )
    return HealthReport(
        title=title,
        factory=factory,
        generated_at=generated_at,
        snapshot=snapshot,
        headline=headline_rows(snapshot, accuracy_target_hours),
        categories=policy.exception_categories,
        orders=drills,
        order_url=order_url,
        sections=tuple(sections),
    )
