"""Raw store throughput: SQLite (file, synchronous FULL and NORMAL) and PostgreSQL, in one run.

Run: ``.venv/bin/python benchmarks/bench_store.py [--orders 1000] [--threads 4]
[--url postgresql://postgres@127.0.0.1:5432/test]``

The same two transactions for every store, straight on the store API (no service layer,
no workflow guards), so the figures are what persistence itself costs:

- *create*: ``insert_order`` + append the order's ``created`` audit entry;
- *change*: ``get_order(for_update=True)`` + ``chain_head`` + ``update_order`` (version
  check) + append the next audit entry.

Each store runs ``--orders`` creates then ``--orders`` changes from one thread; PostgreSQL
also runs the changes from ``--threads`` threads on distinct orders (SQLite serialises
writers, PostgreSQL only locks the order's row). Durability is each store's default: SQLite
``FULL`` fsyncs every commit, ``NORMAL`` (WAL) survives application crashes only;
PostgreSQL waits for the WAL flush (``synchronous_commit=on``). The PostgreSQL URL defaults
to ``ORDERFLOW_TEST_POSTGRES_URL`` or the local test server; an unreachable server is
reported and skipped. The integrator's cost is measured separately (``integrate()`` over
everything written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from orderflow.adapters.sqlite import SqliteStore
from orderflow.audit import EntryType, encode, leaf_hash, next_entry
from orderflow.domain.order import Order, OrderLine, new_order
from orderflow.ports import Store

AT = dt.datetime(2026, 1, 22, 2, tzinfo=dt.UTC)
T0 = 1_768_982_400_000_000
ORIGIN = "plant1.example/bench"


def make_orders(n: int) -> list[Order]:
    """``n`` distinct orders numbered ``HY20260122-<k>``."""
    orders = []
    for k in range(n):
        order, _ = new_order(
            number=f"HY20260122-{k}",
            customer_id="C001",
            lines=[OrderLine("HV-100", 100, "10")],
            requested_date=dt.date(2026, 3, 1),
            factory_id="NB1",
            initial_stage="pending_review",
            created_at=AT,
        )
        orders.append(order)
    return orders


def create(store: Store, orders: Sequence[Order]) -> None:
    """One transaction per order: insert it and append its ``created`` entry."""
    for k, order in enumerate(orders):
        entry = next_entry(None, origin=ORIGIN, order_id=order.id, type=EntryType.CREATED,
                           actor="sales.zhang", at=T0 + k)  # fmt: skip
        data = encode(entry)
        with store.transaction() as tx:
            tx.insert_order(order)
            tx.append_audit(order.id, entry.seq, data, leaf_hash(data))


def change(store: Store, ids: Sequence[str]) -> None:
    """One transaction per order: lock, check version, update, append the next entry."""
    for k, order_id in enumerate(ids):
        with store.transaction() as tx:
            current = tx.get_order(order_id, for_update=True)
            assert current is not None
            head = tx.chain_head(order_id)
            entry = next_entry(head, origin=ORIGIN, order_id=order_id,
                               type=EntryType.STATE_CHANGE, actor="wang.li", at=T0 + k,
                               from_state="pending_review", to_state="kitting_locked")  # fmt: skip
            data = encode(entry)
            tx.update_order(
                attrs.evolve(current, version=current.version + 1, stage="kitting_locked"),
                current.version,
            )
            tx.append_audit(order_id, entry.seq, data, leaf_hash(data))


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn`` took."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def threaded(store: Store, ids: Sequence[str], threads: int) -> float:
    """Run :func:`change` on ``threads`` disjoint slices of ``ids`` at once; seconds taken."""
    slices = [ids[k::threads] for k in range(threads)]
    workers = [threading.Thread(target=change, args=(store, s)) for s in slices]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - started


def report(name: str, n: int, create_s: float, change_s: float, extra: str = "") -> None:
    """One line of the results table."""
    both = 2 * n / (create_s + change_s)
    print(
        f"{name:<34} {n / create_s:>10,.0f} {n / change_s:>10,.0f} {both:>10,.0f}"
        + (f"   {extra}" if extra else "")
    )


def run_sqlite(n: int, synchronous: str, workdir: Path) -> None:
    """Both workloads on a fresh SQLite file."""
    store = SqliteStore(workdir / f"bench-{synchronous}.db", origin=ORIGIN, synchronous=synchronous)
    try:
        orders = make_orders(n)
        create_s = timed(lambda: create(store, orders))
        change_s = timed(lambda: change(store, [o.id for o in orders]))
        report(f"SQLite file, synchronous={synchronous}", n, create_s, change_s)
    finally:
        store.close()


def run_postgres(url: str, n: int, threads: int) -> None:
    """Both workloads on a fresh schema (dropped afterwards), then threaded changes."""
    try:
        from orderflow.adapters.postgres import PostgresStore

        store = PostgresStore(
            url, origin=ORIGIN, schema=f"of_bench_{secrets.token_hex(4)}", pool_size=threads + 2
        )
    except Exception as exc:
        print(f"{'PostgreSQL':<34} skipped: {str(exc).splitlines()[0]}")
        return
    try:
        orders = make_orders(n)
        ids = [o.id for o in orders]
        create_s = timed(lambda: create(store, orders))
        change_s = timed(lambda: change(store, ids))
        report("PostgreSQL, 1 thread", n, create_s, change_s)
        threaded_s = threaded(store, ids, threads)
        print(
            f"{f'PostgreSQL, {threads} threads':<34} {'':>10} {n / threaded_s:>10,.0f}"
            f"{'':>11}   change only, disjoint orders"
        )
        integrate_s = timed(store.integrate)
        size = store.audit_size()
        print(
            f"integrate(): {size:,} entries numbered in {integrate_s * 1000:.0f} ms "
            f"({size / integrate_s:,.0f} entries/s, batches of {store.batch_size:,})"
        )
    finally:
        schema = store.schema
        store.execute_raw(f'DROP SCHEMA "{schema}" CASCADE')
        store.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "ORDERFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args: Any = parser.parse_args(argv)
    n = args.orders
    print(f"{n:,} creates then {n:,} changes per store; transactions/s")
    print(f"{'store':<34} {'create':>10} {'change':>10} {'both':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        run_sqlite(n, "FULL", Path(tmp))
        run_sqlite(n, "NORMAL", Path(tmp))
    run_postgres(args.url, n, args.threads)


if __name__ == "__main__":
    main()
