"""A small hand-built month for the report tests, with awkward ids and Chinese text."""

from __future__ import annotations

import datetime as dt

from orderflow.domain.incident import Incident
from orderflow.domain.order import Order
from orderflow.metrics import Period, QueryEvent, compute_health
from orderflow.policy.model import Policy
from orderflow.report import HealthReport, build_report
from orderflow.workflow.machine import ChangeRecord
from tests.metrics.helpers import order, rec, sh

JAN = Period.month(2026, 1, "Asia/Shanghai")
POLICY = Policy(version=4)
EVIL = "o<b>&\"1'"  # an order id that must be escaped everywhere
FACTORY = "宁波<液压>阀厂 & Co"


def sample_data() -> tuple[list[Order], list[ChangeRecord], list[Incident], list[QueryEvent]]:
    """Orders, records, incidents and queries for January 2026."""
    orders = [
        order("ok-1", sh(2), requested=dt.date(2026, 1, 20)),
        order("late-1", sh(3), requested=dt.date(2026, 1, 5)),
        order(EVIL, sh(4)),
        order("pend-1", sh(20)),
    ]
    records = [
        rec("ok-1", 1, "pending_review", "kitting_locked", sh(2, 3)),
        rec("ok-1", 2, "kitting_locked", "production_dispatched", sh(3, 3)),
        rec("ok-1", 3, "production_dispatched", "qc_released", sh(6, 3)),
        rec("ok-1", 4, "qc_released", "delivered", sh(8, 3)),
        rec("late-1", 1, "pending_review", "kitting_locked", sh(3, 9), 50),
        rec("late-1", 2, "kitting_locked", "production_dispatched", sh(4, 9)),
        rec("late-1", 3, "production_dispatched", "qc_released", sh(7, 9)),
        rec("late-1", 4, "qc_released", "delivered", sh(9, 9)),
        rec(EVIL, 1, "pending_review", "kitting_locked", sh(5, 9), 120),
    ]
    incidents = [
        Incident(
            "i1",
            "late-1",
            "stock_shortage",
            sh(3, 10),
            "wang",
            device="press-3",
            resolved_at=sh(3, 16),
            root_cause="密封圈 Q23-7 缺货",
            resolved_by="zhao",
        ),
        Incident("i2", EVIL, "drawing_change", sh(12, 10), "li", note="<script>alert(1)</script>"),
        Incident(
            "i3",
            "ok-1",
            "logistics",
            sh(7, 8),
            "wang",
            resolved_at=sh(7, 9),
            root_cause="carrier <late>",
            resolved_by="zhao",
        ),
    ]
    queries = [
        QueryEvent("ok-1", "sent", sh(2, 5)),
        QueryEvent("ok-1", "opened", sh(2, 6)),
        QueryEvent("ok-1", "viewed", sh(3, 9), "pending_review"),  # stale by 30 h
        QueryEvent("late-1", "sent", sh(3, 10)),
        QueryEvent("late-1", "viewed", sh(4, 10), "production_dispatched"),
        QueryEvent("late-1", "called", sh(4, 11)),
    ]
    return orders, records, incidents, queries


def sample_report(order_url: str | None = None) -> HealthReport:
    """The report of :func:`sample_data`."""
    orders, records, incidents, queries = sample_data()
    snap = compute_health(
        orders=orders,
        records=records,
        incidents=incidents,
        queries=queries,
        verified_order_ids={"ok-1", "late-1"},
        policy=POLICY,
        period=JAN,
    )
    return build_report(
        snap,
        policy=POLICY,
        generated_at=sh(5, 9, month=2),
        records=records,
        incidents=incidents,
        orders=orders,
        factory=FACTORY,
        order_url=order_url,
    )
