"""Workflow engine throughput vs. the peer state-machine libraries, in one run.

The same workload for every engine: N orders, each taken through the four mainline
transitions (lock_kitting, dispatch_production, release_qc, deliver). Every engine
evaluates the *same* guard functions (credit limit, BOM kitting, inbound PO lateness on
lock_kitting; capacity slot on dispatch_production) and records the same change record.

- orderflow: ``Workflow.fire`` on immutable orders (a new order per transition), change
  record included, full refusal reasons available.
- transitions: its fastest set-up, one shared ``Machine(model=None)`` and
  ``Event.trigger(model, ...)``; guards as conditions, the record built in ``after``.
- python-statemachine: one machine per order (its model), guards as ``cond``, the record
  built in ``after_transition``.

Usage: ``python benchmarks/bench_workflow.py [--orders 147000] [--psm-orders 5000]``.
python-statemachine is ~100x slower, so it runs on fewer orders; rates are per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import time
from collections.abc import Callable
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pendulum

from orderflow.domain import (
    BomLine,
    Component,
    Customer,
    Order,
    OrderLine,
    Product,
    ProductKind,
    new_order,
)
from orderflow.policy import Policy
from orderflow.workflow import (
    CapacitySchedule,
    CapacitySlot,
    ChangeRecord,
    Facts,
    Workflow,
    bom_kitting,
    capacity_slot,
    credit_limit,
    inbound_po_overdue,
)

EVENTS = ("lock_kitting", "dispatch_production", "release_qc", "deliver")
AT = pendulum.datetime(2026, 3, 2, 1, tz="UTC")


def make_workload(n: int) -> tuple[list[Order], Facts]:
    """``n`` orders of 1-3 lines over 3 products sharing 5 components, and their facts."""
    products = {
        "HV-100": Product(
            "HV-100",
            "hydraulic valve",
            ProductKind.REGULAR,
            (BomLine("Q23-7", 1), BomLine("B-12", 2), BomLine("S-40", 1)),
        ),
        "HV-200": Product(
            "HV-200", "custom valve", ProductKind.CUSTOM, (BomLine("Q23-7", 2), BomLine("C-9", 1))
        ),
        "PX-1": Product("PX-1", "pump", ProductKind.NEW, (BomLine("B-12", 1), BomLine("M-3", 4))),
    }
    codes = list(products)
    facts = Facts(
        today=dt.date(2026, 3, 2),
        customer=Customer("C001", "Ningbo Hydraulics", "A", Decimal("1e9"), Decimal(0)),
        products=products,
        components={"Q23-7": Component("Q23-7", "seal ring")},
        available={c: Decimal(10**6) for c in ("Q23-7", "B-12", "S-40", "C-9", "M-3")},
        capacity=CapacitySchedule(
            (CapacitySlot("L1", dt.date(2026, 3, 3), dt.date(2026, 3, 20), Decimal(10**6)),)
        ),
    )
    orders = []
    for i in range(n):
        lines = [
            OrderLine(codes[(i + k) % 3], Decimal(10 + i % 90), Decimal("12.5"))
            for k in range(1 + i % 3)
        ]
        order, _ = new_order(
            number=f"HY20260302-{i}",
            customer_id="C001",
            lines=lines,
            requested_date=dt.date(2026, 4, 1),
            factory_id="F1",
            initial_stage="pending_review",
            created_at=AT,
            order_id=f"o{i}",
        )
        orders.append(order)
    return orders, facts


def run_orderflow(orders: list[Order], facts: Facts) -> float:
    """Seconds to fire the four mainline events on every order."""
    fire = Workflow().fire
    start = time.perf_counter()
    for first in orders:
        order = first
        for event in EVENTS:
            order = fire(order, event, facts, actor="bench", at=AT).order
    return time.perf_counter() - start


POLICY = Policy()


def _guards_for(event: str) -> list[Callable[[Any, Facts, Policy], Any]]:
    if event == "lock_kitting":
        return [credit_limit, bom_kitting, inbound_po_overdue]
    if event == "dispatch_production":
        return [capacity_slot]
    return []


class _Model:
    """A mutable model, as both peers expect."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.state = order.stage
        self.version = 0
        self.records: list[ChangeRecord] = []


def _record(model: _Model, event: str, source: str, target: str) -> None:
    model.version += 1
    model.records.append(
        ChangeRecord(model.order.id, model.version, event, source, target, "bench", AT, None, 1)
    )


def _condition(guard: Callable[[Any, Facts, Policy], Any]) -> Callable[[_Model, Facts], bool]:
    def condition(model: _Model, facts: Facts) -> bool:
        return bool(guard(model.order, facts, POLICY).ok)

    return condition


def _after(event: str, source: str, target: str) -> Callable[[_Model, Facts], None]:
    def after(model: _Model, facts: Facts) -> None:
        _record(model, event, source, target)

    return after


def run_transitions(orders: list[Order], facts: Facts) -> float:
    """Seconds for the same work on one shared transitions Machine."""
    from transitions import Machine

    stages = [
        "pending_review",
        "kitting_locked",
        "production_dispatched",
        "qc_released",
        "delivered",
    ]
    machine = Machine(model=None, states=stages, initial="pending_review", auto_transitions=False)
    for event, (source, target) in zip(EVENTS, pairwise(stages), strict=True):
        conditions: list[Callable[..., bool | None] | str] = [
            _condition(g) for g in _guards_for(event)
        ]
        machine.add_transition(
            event, source, target, conditions=conditions, after=_after(event, source, target)
        )
    triggers = [machine.events[e].trigger for e in EVENTS]
    models = [_Model(o) for o in orders]
    start = time.perf_counter()
    for model in models:
        for trigger in triggers:
            trigger(model, model, facts)
    elapsed = time.perf_counter() - start
    assert all(m.state == "delivered" for m in models)
    return elapsed


def run_python_statemachine(orders: list[Order], facts: Facts) -> float:
    """Seconds for the same work with one python-statemachine machine per order."""
    from statemachine import State, StateMachine

    class OrderMachine(StateMachine):
        pending_review = State(initial=True)
        kitting_locked = State()
        production_dispatched = State()
        qc_released = State()
        delivered = State(final=True)
        lock_kitting = pending_review.to(kitting_locked, cond="lock_guards")
        dispatch_production = kitting_locked.to(production_dispatched, cond="capacity_guard")
        release_qc = production_dispatched.to(qc_released)
        deliver = qc_released.to(delivered)

        def lock_guards(self, facts: Facts) -> bool:
            order = self.model.order
            return all(g(order, facts, POLICY).ok for g in _guards_for("lock_kitting"))

        def capacity_guard(self, facts: Facts) -> bool:
            return bool(capacity_slot(self.model.order, facts, POLICY).ok)

        def after_transition(self, event: Any, source: Any, target: Any) -> None:
            _record(self.model, str(event), source.id, target.id)

    models = [_Model(o) for o in orders]
    for m in models:
        m.state = None  # type: ignore[assignment]  # the library sets the initial state
    start = time.perf_counter()
    for model in models:
        machine = OrderMachine(model)
        for event in EVENTS:
            machine.send(event, facts=facts)
    elapsed = time.perf_counter() - start
    assert all(m.state == "delivered" for m in models)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=147_000)
    parser.add_argument("--psm-orders", type=int, default=3_000)
    args = parser.parse_args()
    orders, facts = make_workload(args.orders)
    gc.collect()
    results = {}
    for name, runner, subset in (
        ("orderflow", run_orderflow, orders),
        ("transitions", run_transitions, orders),
        ("python-statemachine", run_python_statemachine, orders[: args.psm_orders]),
    ):
        gc.collect()
        seconds = runner(subset, facts)
        rate = len(subset) * len(EVENTS) / seconds
        results[name] = rate
        print(f"{name:20s} {len(subset):7d} orders  {seconds:7.2f} s  {rate:11,.0f} transitions/s")
    ours = results["orderflow"]
    for peer, target in (("transitions", 3), ("python-statemachine", 40)):
        print(f"ratio orderflow / {peer:20s} {ours / results[peer]:6.1f}x  (target >= {target}x)")


if __name__ == "__main__":
    main()
