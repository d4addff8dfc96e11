"""Stock rows are locked in one global order: BOMs listing shared components in opposite
orders, kitted at once by two writers on PostgreSQL, never deadlock (issue 15)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import attrs

from orderflow.adapters.postgres import PostgresStore
from orderflow.domain import BomLine, Component, Product, ProductKind
from orderflow.service import OrderService
from orderflow.testing.contracts import draft, seeded_service

ORDERS = 40  # per writer; each kitting locks both shared rows
BATCH = 5  # orders kitted in one transaction: locks held long enough to cross


def test_opposite_bom_orders_never_deadlock(
    pg_store_factory: Callable[..., PostgresStore],
) -> None:
    svc = seeded_service(pg_store_factory())
    for code in ("X-1", "Y-1"):
        svc.put_component(Component(code, "shared part"))
        svc.set_stock(code, 10**6)
    for code, bom in (("P-XY", ("X-1", "Y-1")), ("P-YX", ("Y-1", "X-1"))):
        lines = tuple(BomLine(c, 1) for c in bom)
        svc.put_product(Product(code, "valve", ProductKind.REGULAR, lines))
    ids: dict[str, list[str]] = {}
    for product in ("P-XY", "P-YX"):
        base = draft(1)
        line = attrs.evolve(base.lines[0], product=product)
        made = [svc.submit(attrs.evolve(base, lines=(line,)), actor="s").order.id
                for _ in range(ORDERS)]  # fmt: skip
        ids[product] = made
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def kit(order_ids: list[str]) -> None:
        writer = OrderService(pg_store_factory(), clock=svc.clock)
        start.wait()
        try:
            for first in range(0, len(order_ids), BATCH):
                with writer.store.transaction():
                    for oid in order_ids[first : first + BATCH]:
                        writer.fire(oid, "lock_kitting", actor="p")
        except BaseException as exc:  # a deadlock would surface here
            errors.append(exc)

    threads = [threading.Thread(target=kit, args=(ids[p],)) for p in ("P-XY", "P-YX")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert svc.stock("X-1").reserved == svc.stock("Y-1").reserved == Decimal(2 * ORDERS)
    initial = svc.workflow.definition.initial
    assert all(svc.get(i, actor="p").stage != initial for p in ids for i in ids[p])
