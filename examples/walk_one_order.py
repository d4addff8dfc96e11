"""Walk one order through every stage with the bare workflow engine (R2, R3).

No store and no service: a :class:`~orderflow.workflow.Workflow`, an order and the
:class:`~orderflow.workflow.Facts` its guards read. Each refused step prints every
reason with the measured values (short stock, a late purchase order, a missing capacity
slot, a rework without a reason), then the facts are fixed and the step is retried.

Run: ``python examples/walk_one_order.py``
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from orderflow import (
    BomLine,
    CapacitySchedule,
    CapacitySlot,
    ChangeRecord,
    Component,
    Customer,
    Facts,
    InboundPO,
    InvalidTransition,
    Order,
    OrderLine,
    Policy,
    Product,
    ProductKind,
    TransitionRefused,
    Workflow,
    new_order,
)
from orderflow.workflow.machine import stage_deadline

START = dt.datetime(2026, 1, 22, 1, 0, tzinfo=dt.UTC)  # 09:00 in Ningbo
TODAY = dt.date(2026, 1, 22)


def step(
    workflow: Workflow,
    order: Order,
    event: str,
    facts: Facts,
    records: list[ChangeRecord],
    *,
    hours: int,
    actor: str,
    reason: str | None = None,
) -> Order:
    """Fire ``event``; print the move, or every reason it was refused (order unchanged)."""
    at = START + dt.timedelta(hours=hours)
    try:
        fired = workflow.fire(order, event, facts, actor=actor, at=at, reason=reason)
    except TransitionRefused as refused:
        print(f"REFUSED {event} ({', '.join(refused.codes)}):")
        for result in refused.reasons:
            measured = ", ".join(f"{k}={v}" for k, v in result.measured.items())
            print(f"    [{result.code}] {result.message}")
            if measured:
                print(f"        measured: {measured}")
        return order
    except InvalidTransition as invalid:
        print(f"INVALID {event}: {invalid}")
        return order
    records.append(fired.record)
    new = fired.order
    deadline = f", deadline {new.deadline:%H:%M} UTC" if new.deadline else ""
    note = f" ({reason})" if reason else ""
    print(f"ok      {event}: {order.stage} -> {new.stage} v{new.version}{deadline}{note}")
    return new


def main() -> None:
    """Run the walk-through."""
    policy = Policy()  # the seed's defaults: safety factor 1.05 regular, PO limit 7 days
    workflow = Workflow(policy=policy)
    seal_ring = Component("Q23-7", "seal ring", suppliers=("S-Ningbo", "S-Wenzhou"))
    body = Component("B-12", "valve body", imported=True, suppliers=("S-Osaka",))
    valve = Product(
        "HV-100",
        "hydraulic valve",
        ProductKind.REGULAR,
        (BomLine("Q23-7", 1), BomLine("B-12", 1)),
    )
    order, token = new_order(
        number="HY20260122-887",
        customer_id="C001",
        lines=[OrderLine("HV-100", 100, "85.00")],
        requested_date=dt.date(2026, 3, 1),
        factory_id="NB1",
        initial_stage=workflow.definition.initial,
        created_at=START,
        deadline=stage_deadline(policy, workflow.definition.initial, START),
    )
    print(f"order {order.number} in {order.stage}")
    late_po = InboundPO("PO-5521", "B-12", 500, dt.date(2026, 1, 12), supplier="S-Osaka")
    facts = Facts(
        today=TODAY,
        customer=Customer("C001", "Ningbo Valves", "A", credit_limit=500_000),
        products={"HV-100": valve},
        components={"Q23-7": seal_ring, "B-12": body},
        available={"Q23-7": Decimal(104), "B-12": Decimal(300)},
        inbound={"B-12": (late_po,)},
    )
    records: list[ChangeRecord] = []

    # Skipping is impossible: 'deliver' is simply not an event of pending_review.
    order = step(workflow, order, "deliver", facts, records, hours=0, actor="sales.zhang")

    # 104 seal rings < 100 x 1.05 = 105, and PO-5521 is 10 days late (limit 7).
    order = step(workflow, order, "lock_kitting", facts, records, hours=1, actor="wang.li")
    print("    enabled now:", workflow.enabled_events(order, facts) or "(none)")

    # Goods-in of seal rings; the late PO arrives. The same event now passes.
    facts = attrs.evolve(
        facts,
        available={"Q23-7": Decimal(304), "B-12": Decimal(300)},
        inbound={"B-12": (attrs.evolve(late_po, status=late_po.status.RECEIVED),)},
    )
    order = step(workflow, order, "lock_kitting", facts, records, hours=2, actor="wang.li")

    # No production line has a free slot before the requested date yet.
    order = step(workflow, order, "dispatch_production", facts, records, hours=3, actor="chen")
    slot = CapacitySlot("L1", dt.date(2026, 1, 23), dt.date(2026, 2, 20), 400)
    facts = attrs.evolve(facts, capacity=CapacitySchedule((slot,)))
    order = step(workflow, order, "dispatch_production", facts, records, hours=4, actor="chen")

    order = step(workflow, order, "release_qc", facts, records, hours=30, actor="qc.wu")
    # QC failure sends the work back, but only with a written reason.
    order = step(workflow, order, "fail_qc", facts, records, hours=31, actor="qc.wu")
    order = step(
        workflow,
        order,
        "fail_qc",
        facts,
        records,
        hours=31,
        actor="qc.wu",
        reason="batch 20260118-B03: seal leak at 25 MPa",
    )
    order = step(workflow, order, "release_qc", facts, records, hours=52, actor="qc.wu")
    order = step(
        workflow, order, "hold", facts, records, hours=53, actor="log.sun", reason="no truck today"
    )
    order = step(workflow, order, "resume", facts, records, hours=60, actor="log.sun")
    order = step(workflow, order, "deliver", facts, records, hours=80, actor="log.sun")

    print(f"\n{order.number} is {order.stage} after {len(records)} recorded changes:")
    for rec in records:
        why = f"  reason: {rec.reason}" if rec.reason else ""
        print(f"  #{rec.seq} {rec.at:%m-%d %H:%M} {rec.event:<20} {rec.actor}{why}")
    print("customer query token (shown once, stored hashed):", len(token), "characters")


if __name__ == "__main__":
    main()
