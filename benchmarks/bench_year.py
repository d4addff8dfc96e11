"""A plant's year through the full stack: submit + 4 transitions + audit, persisted.

Every order goes through ``OrderService`` (facts gathered from the store, guards,
stock reservation and issue, exposure, audit entries, idempotency keys) and commits
to a real store. Operations are grouped ``--batch`` orders to a transaction (each
operation still in its own savepoint), as a plant's integration would group a
minute of scans. Prints orders/s per store, side by side, then verifies the log.

Usage: ``python benchmarks/bench_year.py [--orders 147000] [--keyless-orders 50000]
[--pg-orders 20000]`` (``0`` skips a run)
(PostgreSQL is skipped with a note when the server is unreachable). Like every
orderflow batch job it runs under ``orderflow._batch.batch_gc`` (fewer young-generation
collections); ``--default-gc`` measures with CPython's defaults instead.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import tempfile
import time
from decimal import Decimal

from orderflow._batch import batch_gc
from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.domain import BomLine, Component, Customer, OrderLine, Product, ProductKind
from orderflow.service import OrderDraft, OrderService
from orderflow.workflow import CapacitySlot

EVENTS = ("lock_kitting", "dispatch_production", "release_qc", "deliver")
START = dt.datetime(2026, 1, 5, 1, tzinfo=dt.UTC)


def weekly_slots(weeks: int = 60) -> list[CapacitySlot]:
    """One line's weekly production slots from ``START``, with room for any year."""
    return [
        CapacitySlot(
            "L1",
            START.date() + dt.timedelta(days=7 * w),
            START.date() + dt.timedelta(days=7 * w + 6),
            Decimal(10**12),
        )
        for w in range(weeks)
    ]


def seed(svc: OrderService) -> list[OrderDraft]:
    """Master data for 40 products over 120 components, and a cycle of drafts."""
    with svc.store.transaction():
        for i in range(300):
            svc.put_customer(Customer(f"C{i:03d}", f"customer {i}", "A", Decimal(10**12), 0))
        for i in range(120):
            svc.put_component(Component(f"K{i:03d}", "part", safety_stock=Decimal(100)))
            svc.set_stock(f"K{i:03d}", 10**12)
        for i in range(40):
            bom = tuple(BomLine(f"K{(i * 3 + k) % 120:03d}", 1 + k) for k in range(3))
            svc.put_product(Product(f"HV-{i:03d}", "valve", ProductKind.REGULAR, bom))
        svc.put_capacity("NB1", weekly_slots())
    return [
        OrderDraft(
            f"C{i % 300:03d}",
            tuple(
                OrderLine(f"HV-{(i + k) % 40:03d}", 10 + i % 50, "99.5") for k in range(1 + i % 3)
            ),
            START.date() + dt.timedelta(days=400),
            "NB1",
        )
        for i in range(1000)
    ]


def run(svc: OrderService, label: str, orders: int, batch: int | None, keys: bool = True) -> float:
    """Orders/s for ``orders`` full lifecycles; ``batch`` orders share a transaction
    (``None``: one transaction per operation); ``keys``: every operation carries an
    idempotency key (a retry-safe integration), else none does."""
    clock = svc.clock
    assert isinstance(clock, FrozenClock)
    drafts = seed(svc)
    step = dt.timedelta(seconds=20)
    per_tx = batch or 1
    started = time.perf_counter()
    for first in range(0, orders, per_tx):
        with svc.store.transaction() if batch else contextlib.nullcontext():
            for i in range(first, min(first + per_tx, orders)):
                clock.advance(step)
                key = f"s{i}" if keys else None
                order = svc.submit(drafts[i % 1000], actor="sales", idempotency_key=key).order
                for event in EVENTS:
                    key = f"{event}{i}" if keys else None
                    svc.fire(order.id, event, actor="plant", idempotency_key=key)
    elapsed = time.perf_counter() - started
    verify_started = time.perf_counter()
    checkpoint = svc.audit.verify()
    verify_s = time.perf_counter() - verify_started
    rate = orders / elapsed
    how = f"{batch} orders per transaction" if batch else "one transaction per operation"
    how += "" if keys else ", no idempotency keys"
    print(
        f"{label:10s} {orders:8,d} orders  {elapsed:7.1f} s  {rate:8,.0f} orders/s  "
        f"(year of 147,000: {147_000 / rate:5.0f} s; {how})  verify {checkpoint.size:,} "
        f"entries in {verify_s:.2f} s"
    )
    svc.store.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=147_000)
    parser.add_argument("--pg-orders", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--keyless-orders",
        type=int,
        default=50_000,
        help="also run this many orders without idempotency keys (0: skip)",
    )
    parser.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL"])
    parser.add_argument("--default-gc", action="store_true", help="keep CPython's GC defaults")
    args = parser.parse_args()
    with contextlib.nullcontext() if args.default_gc else batch_gc():
        _main(args)


def _main(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="orderflow-year-")
    if args.orders:
        url = f"sqlite:///{folder}/year.db?synchronous={args.synchronous}"
        run(connect(url, clock=FrozenClock(START)), "sqlite", args.orders, args.batch)
    if args.keyless_orders:
        url = f"sqlite:///{folder}/keyless.db?synchronous={args.synchronous}"
        run(
            connect(url, clock=FrozenClock(START)), "sqlite", args.keyless_orders, args.batch, False
        )
    if not args.pg_orders:
        return
    pg = os.environ.get("ORDERFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        psycopg.connect(pg, connect_timeout=3).close()
    except Exception as exc:
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return
    schema = f"bench_year_{os.getpid()}"
    try:
        from orderflow.adapters.postgres import PostgresStore

        store = PostgresStore(pg, schema=schema, origin="orderflow.bench/pg")
        run(OrderService(store, clock=FrozenClock(START)), "postgresql", args.pg_orders, None)
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
