"""A small simulated year shared by the export tests (one per session: it takes ~1 s)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import attrs
import pytest

from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.service import OrderDraft, OrderService
from orderflow.simulate import PlantProfile, simulate_year


@pytest.fixture(scope="session")
def year() -> Iterator[OrderService]:
    """150 simulated orders with shortages, QC failures and incidents, then one edit of a
    requested date and one policy change, so that every kind of entry is in the log."""
    svc = connect("sqlite:///:memory:", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
    profile = PlantProfile(orders=150, shortage_rate=0.08, qc_failure_rate=0.08)
    simulate_year(svc, profile, seed=20)
    # a new, open order to edit (finished orders can no longer be edited)
    done = next(iter(svc.store.orders()))
    order = svc.submit(
        OrderDraft(done.customer_id, done.lines, done.requested_date, done.factory_id),
        actor="sales",
    ).order
    svc.edit(order.id, {"requested_date": order.requested_date + dt.timedelta(days=3)},
             actor="planner")  # fmt: skip
    svc.change_policy(attrs.evolve(svc.policy, po_overdue_days=9), actor="ops")
    yield svc
    svc.store.close()
