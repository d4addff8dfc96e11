"""Status accuracy under recording lag, hand-computed (R9): the case the simulator produces."""

from __future__ import annotations

from decimal import Decimal

from orderflow.metrics import (
    Period,
    QueryEvent,
    Ratio,
    compute_health,
    status_accuracy,
    status_timeliness,
)
from orderflow.policy.model import Policy
from tests.metrics.helpers import order, rec, sh

JAN = Period.month(2026, 1, "Asia/Shanghai")
POLICY = Policy()  # tolerance 15 min

# Order A (Shanghai time): created Mon 5 Jan 08:00; kitting locked 09:00 (scanned, recorded
# 5 min later); production 10:00 (scanned); QC released Fri 9 Jan 18:00 on a paper slip the
# office keys in on Mon 12 Jan 08:30 (62.5 h = 3,750 min late); delivered Tue 13 Jan 10:00.
RECORDS = [
    rec("A", 1, "pending_review", "kitting_locked", sh(5, 9), 5),
    rec("A", 2, "kitting_locked", "production_dispatched", sh(5, 10), 1),
    rec("A", 3, "production_dispatched", "qc_released", sh(9, 18), 3_750),
    rec("A", 4, "qc_released", "delivered", sh(13, 10), 2),
]
ORDERS = [order("A", sh(5, 8))]
# what the status page showed: the stage the store held at that moment
VIEWS = [
    QueryEvent("A", "viewed", sh(5, 9, 2), "pending_review"),  # lock not recorded: 2 min
    QueryEvent("A", "viewed", sh(7, 12), "production_dispatched"),  # exact
    QueryEvent("A", "viewed", sh(10, 18), "production_dispatched"),  # slip pending: 24 h
    QueryEvent("A", "viewed", sh(11, 18), "production_dispatched"),  # slip pending: 48 h
    QueryEvent("A", "viewed", sh(12, 9), "qc_released"),  # keyed in at 08:30: exact
    QueryEvent("A", "viewed", sh(13, 12), "delivered"),  # exact
]


def test_accuracy_averages_every_view_including_the_exact_ones() -> None:
    a = status_accuracy(VIEWS, RECORDS, period=JAN, orders=ORDERS)
    # gaps 2/60, 0, 24, 48, 0, 0 h: mean 72.0333 / 6 = 12.00556 -> 12.006 h
    assert a.views == a.measured == 6
    assert a.unmeasured == 0
    assert a.exact == Ratio(3, 6)
    assert a.mean_gap_hours == Decimal("12.006")
    assert a.p90_gap_hours == Decimal("48.000")  # ceil(5.4) = 6th smallest
    assert a.max_gap_hours == Decimal("48.000")
    assert [(g.shown_stage, g.real_stage, g.gap_hours) for g in a.worst] == [
        ("production_dispatched", "qc_released", Decimal("48.000")),
        ("production_dispatched", "qc_released", Decimal("24.000")),
        ("pending_review", "kitting_locked", Decimal("0.033")),
    ]


def test_only_the_slip_is_late_and_compute_health_agrees() -> None:
    t = status_timeliness(RECORDS, policy=POLICY, period=JAN)
    assert t.updates == Ratio(3, 4)
    assert [(u.to_stage, u.delay_minutes) for u in t.worst] == [
        ("qc_released", Decimal("3750.000"))
    ]
    snap = compute_health(
        orders=ORDERS,
        records=RECORDS,
        incidents=[],
        queries=VIEWS,
        verified_order_ids={"A"},
        policy=POLICY,
        period=JAN,
    )
    assert snap.timeliness == t
    assert snap.accuracy == status_accuracy(VIEWS, RECORDS, period=JAN, orders=ORDERS)
