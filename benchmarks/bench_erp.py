"""ERP bridge benchmark (R7): backfill rate and ERP-commit -> orderflow-commit latency.

Builds a K3-shaped fixture database (SQLite file or a PostgreSQL schema), fills it with
the seeded generator (default 147,000 orders x 3 lines), backfills it with
``sync_once`` and then measures, with ``follow`` polling every second, the latency from
an ERP commit (a K3 client saving a new sales order) to the order being committed in
orderflow: p50 and p99. Target p99 < 2 s (the seed's figure is < 8 s).

The target is the in-memory order service for now (``InMemoryErpStore``); switch
``make_store`` to the real SQLite/PostgreSQL service to measure end to end.

Usage::

    .venv/bin/python benchmarks/bench_erp.py                      # SQLite, 147,000 orders
    .venv/bin/python benchmarks/bench_erp.py --db postgres        # PostgreSQL
    .venv/bin/python benchmarks/bench_erp.py --orders 20000 --latency-orders 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from orderflow.adapters.erp_sql import SqlErpSource
from orderflow.erp import follow, load_preset, sync_once
from orderflow.testing.erp_fakes import AuditRecord, InMemoryErpStore
from orderflow.testing.k3_fixture import (
    SEAL_RING,
    K3Writer,
    create_k3_schema,
    drop_k3_schema,
    populate_k3,
)


def make_store() -> InMemoryErpStore:
    """The orderflow side under test."""
    return InMemoryErpStore()


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--orders", type=int, default=147_000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--latency-orders", type=int, default=100)
    parser.add_argument("--rate", type=float, default=8.0, help="new ERP orders per second")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
    args = parser.parse_args()

    mapping = load_preset("kingdee-k3-wise")
    schema = None
    tmp = tempfile.TemporaryDirectory()
    if args.db == "sqlite":
        url = f"sqlite:///{Path(tmp.name) / 'k3.db'}"
        admin = sa.create_engine(url)
    else:
        base = os.environ.get(
            "ORDERFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        )
        url = base.replace("postgresql://", "postgresql+psycopg://", 1)
        admin = sa.create_engine(url)
        schema = f"k3_bench_{secrets.token_hex(4)}"
    create_k3_schema(admin, schema)
    try:
        stats = populate_k3(
            admin,
            orders=args.orders,
            lines_per_order=args.lines,
            schema=schema,
            stock={SEAL_RING: Decimal(200)},
        )
        print(
            f"fixture: {stats.orders:,} orders x {args.lines} lines in {stats.seconds:.1f} s "
            f"({stats.rows_per_second:,.0f} rows/s) [{args.db}]"
        )
        source = SqlErpSource(url, schema=schema)
        store = make_store()
        began = time.perf_counter()
        report = sync_once(
            source, store, mapping, batch_size=args.batch, progress=True, reconcile=False
        )
        took = time.perf_counter() - began
        print(
            f"backfill: {report.imported:,} orders in {took:.1f} s = "
            f"{report.imported / took:,.0f} orders/s ({report.quarantined} quarantined)"
        )
        began = time.perf_counter()
        again = sync_once(source, store, mapping, batch_size=args.batch, progress=True)
        took = time.perf_counter() - began
        print(
            f"idempotent re-run: {again.changed} changes, {again.reconciled:,} reconciled "
            f"in {took:.1f} s = {again.reconciled / took:,.0f} orders/s"
        )

        committed: dict[str, float] = {}
        by_id: dict[str, str] = {}

        def on_commit(records: Sequence[AuditRecord]) -> None:
            now = time.time()
            for record in records:
                if record.type == "created":
                    erp_id = store.orders[record.order_id].erp_id
                    by_id[record.order_id] = erp_id
                    committed.setdefault(erp_id, now)

        store.on_commit = on_commit
        stop = threading.Event()
        follower = threading.Thread(
            target=follow,
            args=(source, store, mapping),
            kwargs={"interval": args.interval, "stop": stop, "batch_size": args.batch},
            daemon=True,
        )
        follower.start()
        writer = K3Writer(admin, schema)
        rng = random.Random(11)
        erp_commits: dict[str, float] = {}
        key = writer.next_interid()
        for _ in range(args.latency_orders):
            time.sleep(rng.expovariate(args.rate))
            header = {
                "FInterID": key,
                "FBillNo": f"SEORD{key:06d}",
                "FDate": dt.datetime(2026, 6, 1, 9),
                "FCustID": rng.randint(1, 200),
                "FCancellation": 0,
                "FStatus": 1,
            }
            lines = [
                {
                    "FInterID": key,
                    "FEntryID": e,
                    "FItemID": 10_000 + rng.randint(1, 500),
                    "FQty": Decimal(rng.randint(1, 50)),
                    "FPrice": Decimal("9.90"),
                    "FDate": dt.datetime(2026, 6, 20),
                }
                for e in range(1, args.lines + 1)
            ]
            erp_commits[str(key)] = writer.insert_order(header, lines)
            key += 1
        deadline = time.time() + 30
        while (
            len(committed.keys() & erp_commits.keys()) < len(erp_commits) and time.time() < deadline
        ):
            time.sleep(0.05)
        stop.set()
        follower.join(timeout=30)
        latencies = [committed[k] - t for k, t in erp_commits.items() if k in committed]
        missing = len(erp_commits) - len(latencies)
        print(
            f"latency ({len(latencies)} orders, poll {args.interval:g} s): "
            f"p50 {_percentile(latencies, 0.5):.3f} s, p99 {_percentile(latencies, 0.99):.3f} s, "
            f"max {max(latencies):.3f} s, mean {statistics.fmean(latencies):.3f} s"
            + (f"; {missing} not synced within 30 s" if missing else "")
        )
        p99 = _percentile(latencies, 0.99)
        print(f"target p99 < 2 s: {'met' if p99 < 2 and not missing else 'MISSED'}")
        source.close()
    finally:
        if schema is not None:
            drop_k3_schema(admin, schema)
        admin.dispose()
        tmp.cleanup()


if __name__ == "__main__":
    main()
