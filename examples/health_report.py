"""Build a small synthetic month by hand and write its health report (R8, R9).

Run ``python examples/health_report.py [out.html]``: it computes every health metric for
January 2026 at a plant in Asia/Shanghai and writes ``report.html`` (and ``report.json``)
next to the output path. No database: the orders, change records, incidents and
customer query events are built right here.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pendulum

from orderflow.domain import Order, OrderLine
from orderflow.domain.incident import Incident, open_incident, resolve_incident
from orderflow.metrics import HealthSnapshot, Period, QueryEvent, QueryKind, compute_health
from orderflow.policy import Policy
from orderflow.report import HealthReport, build_report, render_html, render_json
from orderflow.workflow import ChangeRecord

TZ = "Asia/Shanghai"
MAIN = ("pending_review", "kitting_locked", "production_dispatched", "qc_released", "delivered")
EVENTS = {
    "kitting_locked": "lock_kitting",
    "production_dispatched": "dispatch_production",
    "qc_released": "release_qc",
    "delivered": "deliver",
    "cancelled": "cancel",
    "on_hold": "hold",
}


def local(day: int, hour: int, minute: int = 0, month: int = 1) -> pendulum.DateTime:
    """A shop-floor instant in January 2026, Shanghai time, as UTC."""
    return pendulum.datetime(2026, month, day, hour, minute, tz=TZ).in_timezone("UTC")


def make_order(
    n: int, created: pendulum.DateTime, requested: dt.date, steps: list[tuple[str, float, int]]
) -> tuple[Order, list[ChangeRecord]]:
    """An order and its change records: ``(to_stage, hours after creation, minutes late)``."""
    order = Order(
        id=f"ord-{n:03d}",
        number=f"HY{created.in_timezone(TZ):%Y%m%d}-{n}",
        customer_id="cust-ningbo-7",
        lines=(OrderLine("VALVE-DN50", Decimal(100), Decimal("86.50")),),
        requested_date=requested,
        factory_id="ningbo-1",
        stage="pending_review",
        created_at=created,
        stage_entered_at=created,
    )
    records = []
    stage = "pending_review"
    for seq, (to_stage, after_h, late_min) in enumerate(steps, start=1):
        occurred = created.add(minutes=int(after_h * 60))
        records.append(
            ChangeRecord(
                order_id=order.id,
                seq=seq,
                event=EVENTS[to_stage],
                from_stage=stage,
                to_stage=to_stage,
                actor="planner-li",
                at=occurred.add(minutes=late_min),
                reason="客户撤单 customer withdrew" if to_stage == "cancelled" else None,
                policy_version=3,
                occurred_at=occurred,
            )
        )
        stage = to_stage
    # The order as a store would hand it back today: in its latest stage.
    return attrs.evolve(order, stage=stage, version=len(records)), records


def full(
    k: float = 1.0, late: tuple[int, int, int, int] = (2, 3, 1, 4)
) -> list[tuple[str, float, int]]:
    """A complete run through the five mainline stages, ``k`` times the usual pace."""
    hours = (3, 20, 70, 96)
    return [(s, h * k, m) for s, h, m in zip(MAIN[1:], hours, late, strict=True)]


def synthetic_month() -> tuple[
    list[Order], list[ChangeRecord], list[Incident], list[QueryEvent], set[str], Policy
]:
    """Fourteen orders, their changes, nine incidents and the customers' queries."""
    policy = Policy(version=3)
    plan: list[tuple[pendulum.DateTime, dt.date, list[tuple[str, float, int]]]] = [
        (local(2, 9), dt.date(2026, 1, 8), full()),
        (local(3, 10), dt.date(2026, 1, 9), full(1.2)),
        (local(5, 8), dt.date(2026, 1, 9), full(1.1, (2, 45, 3, 1))),  # late record, late delivery
        (local(6, 14), dt.date(2026, 1, 14), full(0.9)),
        (local(8, 9), dt.date(2026, 1, 12), full(1.4, (5, 2, 90, 2))),  # late record + delivery
        (local(9, 11), dt.date(2026, 1, 20), [("kitting_locked", 2, 1), ("cancelled", 30, 0)]),
        (local(12, 9), dt.date(2026, 1, 19), full()),
        (local(14, 15), dt.date(2026, 1, 22), full(1.05)),
        (local(16, 10), dt.date(2026, 1, 21), full(0.95)),
        (local(19, 9), dt.date(2026, 1, 28), full()),
        (local(22, 16), dt.date(2026, 1, 30), full(0.8)),
        (local(26, 9), dt.date(2026, 2, 4), full()[:2]),  # still in production at month end
        (local(28, 10), dt.date(2026, 2, 6), full()[:1]),
        (local(30, 11), dt.date(2026, 2, 9), []),  # still pending review
    ]
    orders, records = [], []
    for n, (created, requested, steps) in enumerate(plan, start=1):
        order, recs = make_order(n, created, requested, steps)
        orders.append(order)
        records.extend(recs)

    def incident(
        n: int,
        order: int,
        category: str,
        opened: pendulum.DateTime,
        hours: float | None,
        *,
        cause: str = "",
        device: str = "",
        batch: str = "",
    ) -> Incident:
        inc = open_incident(
            policy,
            incident_id=f"inc-{n:02d}",
            order_id=f"ord-{order:03d}",
            category=category,
            opened_at=opened,
            operator="warehouse-wang",
            device=device,
            batch=batch,
        )
        if hours is None:
            return inc
        return resolve_incident(inc, cause, "supervisor-zhao", opened.add(minutes=int(hours * 60)))

    incidents = [
        incident(
            1,
            1,
            "stock_shortage",
            local(2, 13),
            2.5,
            cause="密封圈 Q23-7 缺货 seal ring Q23-7 short",
            batch="20260102-A1",
        ),
        incident(
            2, 3, "drawing_change", local(5, 15), 6.0, cause="客户改图 customer revised drawing"
        ),
        incident(
            3,
            3,
            "stock_shortage",
            local(6, 9),
            1.5,
            cause="密封圈 Q23-7 缺货 seal ring Q23-7 short",
            batch="20260106-A2",
        ),
        incident(4, 5, "logistics", local(12, 17), 3.0, cause="承运商改期 carrier rescheduled"),
        incident(
            5,
            5,
            "mould_maintenance",
            local(9, 10),
            9.5,
            cause="模具 M-12 维修 mould M-12 repair",
            device="M-12",
        ),
        incident(
            6,
            8,
            "qc_failure",
            local(16, 11),
            3.5,
            cause="批次 20260118-B03 尺寸超差",
            batch="20260118-B03",
        ),
        incident(
            7,
            10,
            "stock_shortage",
            local(20, 9),
            0.8,
            cause="密封圈 Q23-7 缺货 seal ring Q23-7 short",
        ),
        incident(8, 12, "drawing_version_conflict", local(27, 10), None),
        incident(9, 13, "logistics", local(29, 14), None),
    ]
    queries: list[QueryEvent] = []
    for order in orders[:11]:
        sent = order.created_at + dt.timedelta(hours=4)
        queries.append(QueryEvent(order.id, QueryKind.SENT, sent))
        queries.append(QueryEvent(order.id, QueryKind.OPENED, sent + dt.timedelta(minutes=20)))
    # Customers viewing their status: (order, hours after creation, stage shown)
    views = [
        (1, 30, "production_dispatched"),
        (2, 30, "kitting_locked"),
        (3, 40, "production_dispatched"),
        (4, 50, "production_dispatched"),
        (5, 50, "kitting_locked"),
        (7, 80, "qc_released"),
        (8, 25, "production_dispatched"),
        (9, 30, "production_dispatched"),
        (10, 100, "delivered"),
        (11, 60, "qc_released"),
        (11, 90, "delivered"),
    ]
    for n, after, shown in views:
        order = orders[n - 1]
        at = order.created_at + dt.timedelta(hours=after)
        queries.append(QueryEvent(order.id, QueryKind.VIEWED, at, shown))
    queries.append(
        QueryEvent("ord-005", QueryKind.CALLED, orders[4].created_at + dt.timedelta(hours=52))
    )
    verified = {o.id for o in orders} - {"ord-006"}
    return orders, records, incidents, queries, verified, policy


def build_demo_report(order_url: str | None = None) -> HealthReport:
    """The January 2026 report of the synthetic plant."""
    orders, records, incidents, queries, verified, policy = synthetic_month()
    period = Period.month(2026, 1, TZ)
    snapshot: HealthSnapshot = compute_health(
        orders=orders,
        records=records,
        incidents=incidents,
        queries=queries,
        verified_order_ids=verified,
        policy=policy,
        period=period,
        as_of=local(5, 9, month=2),
    )
    return build_report(
        snapshot,
        policy=policy,
        generated_at=local(5, 9, month=2),
        records=records,
        incidents=incidents,
        orders=orders,
        factory="宁波液压阀一厂 Ningbo valve plant 1",
        order_url=order_url,
    )


def main(argv: list[str]) -> None:
    """Write the report as HTML and JSON."""
    out = Path(argv[1] if len(argv) > 1 else "report.html")
    report = build_demo_report()
    out.write_text(render_html(report), encoding="utf-8")
    out.with_suffix(".json").write_text(render_json(report), encoding="utf-8")
    s = report.snapshot
    print(f"wrote {out} ({s.distribution.total} orders, {s.heatmap.total} incidents)")
    for row in report.headline:
        print(f"  {row.label}: {row.value} (target {row.target}, {row.status.value})")


if __name__ == "__main__":
    main(sys.argv)
