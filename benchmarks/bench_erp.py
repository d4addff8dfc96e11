"""ERP bridge benchmark (R7): backfill rate and ERP-commit -> orderflow-commit latency.

Builds a K3-shaped fixture database (SQLite file or a PostgreSQL schema), fills it with
the seeded generator (default 147,000 orders x 3 lines), then, for each target, backfills
it with ``sync_once`` and measures, with ``follow`` polling every second, the latency
from an ERP commit (a K3 client saving a new sales order) to the order being committed
in orderflow: p50 and p99. Target p99 < 2 s (the seed's figure is < 8 s).

Targets (one row each in the same run):

- ``service/sqlite``: the real :class:`~orderflow.service.OrderService` on a SQLite
  file (``synchronous=FULL``) through :class:`~orderflow.service.erp_store.ServiceErpStore`
  (``--store URL`` picks another orderflow store);
- ``fake/memory``: the reference in-memory target (``InMemoryErpStore``), for comparison.

The latency clock stops when the unit of work that created the order has committed.

Usage::

    .venv/bin/python benchmarks/bench_erp.py                      # SQLite ERP, 147,000 orders
    .venv/bin/python benchmarks/bench_erp.py --db postgres        # PostgreSQL ERP
    .venv/bin/python benchmarks/bench_erp.py --orders 20000 --latency-orders 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import attrs
import sqlalchemy as sa

from orderflow.adapters.erp_sql import SqlErpSource
from orderflow.bootstrap import connect
from orderflow.domain import Order
from orderflow.erp import (
    ChangeValue,
    ErpMapping,
    ErpOrder,
    ErpOrderTarget,
    ErpSyncStore,
    ErpUnitOfWork,
    SyncStateStore,
    follow,
    load_preset,
    sync_once,
)
from orderflow.service.erp_store import ServiceErpStore
from orderflow.testing.erp_fakes import InMemoryErpStore
from orderflow.testing.k3_fixture import (
    SEAL_RING,
    K3Writer,
    create_k3_schema,
    drop_k3_schema,
    k3_header,
    k3_line,
    populate_k3,
)


class _RecordingOrders:
    """Passes writes through and notes the ERP ids of imported orders."""

    def __init__(self, inner: ErpOrderTarget, imported: list[str]) -> None:
        self.inner = inner
        self.imported = imported

    def find_by_erp_id(self, erp_id: str) -> Order | None:
        return self.inner.find_by_erp_id(erp_id)

    def import_order(self, draft: ErpOrder, *, actor: str, idempotency_key: str) -> Order:
        order = self.inner.import_order(draft, actor=actor, idempotency_key=idempotency_key)
        self.imported.append(draft.erp_id)
        return order

    def update_order_fields(
        self,
        order_id: str,
        changes: Mapping[str, tuple[ChangeValue, ChangeValue]],
        *,
        values: Mapping[str, object],
        expected_version: int,
        actor: str,
        idempotency_key: str,
    ) -> Order:
        return self.inner.update_order_fields(
            order_id,
            changes,
            values=values,
            expected_version=expected_version,
            actor=actor,
            idempotency_key=idempotency_key,
        )

    def cancel_order(
        self, order_id: str, reason: str, *, actor: str, idempotency_key: str
    ) -> Order:
        return self.inner.cancel_order(
            order_id, reason, actor=actor, idempotency_key=idempotency_key
        )

    def deliver_order(
        self,
        order_id: str,
        reason: str,
        *,
        delivered_at: dt.datetime,
        actor: str,
        idempotency_key: str,
    ) -> Order:
        return self.inner.deliver_order(
            order_id,
            reason,
            delivered_at=delivered_at,
            actor=actor,
            idempotency_key=idempotency_key,
        )


@attrs.define
class _RecordingUow:
    inner: ErpUnitOfWork
    imported: list[str] = attrs.field(factory=list)

    @property
    def orders(self) -> ErpOrderTarget:
        return _RecordingOrders(self.inner.orders, self.imported)

    @property
    def state(self) -> SyncStateStore:
        return self.inner.state


class CommitTimes:
    """An :class:`ErpSyncStore` wrapper: when did each imported order's transaction commit."""

    def __init__(self, inner: ErpSyncStore) -> None:
        self.inner = inner
        self.committed: dict[str, float] = {}
        self.watch: Collection[str] = ()

    @contextmanager
    def unit_of_work(self) -> Iterator[_RecordingUow]:
        with self.inner.unit_of_work() as uow:
            recording = _RecordingUow(uow)
            yield recording
        now = time.time()  # after the commit
        for erp_id in recording.imported:
            if erp_id in self.watch:
                self.committed.setdefault(erp_id, now)


def _full_erp_index(path: str) -> None:
    """Bench workaround: a full index on ``orders.erp_id``.

    The shipped schema's index is partial (``WHERE erp_id <> ''``); SQLite cannot use it
    for ``WHERE erp_id = ?`` (``find_order_id``), so every lookup scans the table and a
    backfill is quadratic. The adapter fix is to query ``erp_id = ? AND erp_id <> ''``.
    """
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE INDEX IF NOT EXISTS bench_orders_erp_full ON orders (erp_id)")
    print("note: added a full index on orders.erp_id (see --shipped-index)", flush=True)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@attrs.define
class Row:
    target: str
    imported: int = 0
    backfill_s: float = 0.0
    rerun_s: float = 0.0
    reconciled: int = 0
    latencies: list[float] = attrs.field(factory=list)
    missing: int = 0

    def line(self) -> str:
        lat = self.latencies or [float("nan")]
        return (
            f"{self.target:15s} {self.imported:>9,} {self.imported / self.backfill_s:>10,.0f} "
            f"{self.reconciled / self.rerun_s:>10,.0f} "
            f"{_percentile(lat, 0.5):>8.3f} {_percentile(lat, 0.99):>8.3f} {max(lat):>8.3f} "
            f"{len(self.latencies):>5}"
            + (f"  ({self.missing} not synced in 30 s)" if self.missing else "")
        )


def measure(
    name: str,
    target: ErpSyncStore,
    source: SqlErpSource,
    writer: K3Writer,
    mapping: ErpMapping,
    args: argparse.Namespace,
    stored: Callable[[], Iterable[Order]],
) -> Row:
    """Backfill, idempotent re-run and follow latency for one target."""
    row = Row(name)
    began = time.perf_counter()
    report = sync_once(
        source, target, mapping, batch_size=args.batch, progress=True, reconcile=False
    )
    row.backfill_s = time.perf_counter() - began
    row.imported = report.imported
    print(
        f"[{name}] backfill: {report.imported:,} orders in {row.backfill_s:.1f} s = "
        f"{report.imported / row.backfill_s:,.0f} orders/s ({report.quarantined} quarantined, "
        f"{sum(1 for _ in stored()):,} orders stored)",
        flush=True,
    )
    began = time.perf_counter()
    again = sync_once(source, target, mapping, batch_size=args.batch, progress=True)
    row.rerun_s = time.perf_counter() - began
    row.reconciled = again.reconciled
    print(
        f"[{name}] idempotent re-run: {again.changed} changes, {again.reconciled:,} reconciled "
        f"in {row.rerun_s:.1f} s = {again.reconciled / row.rerun_s:,.0f} orders/s",
        flush=True,
    )

    timed = CommitTimes(target)
    stop = threading.Event()
    follower = threading.Thread(
        target=follow,
        args=(source, timed, mapping),
        kwargs={"interval": args.interval, "stop": stop, "batch_size": args.batch},
        daemon=True,
    )
    rng = random.Random(11)
    erp_commits: dict[str, float] = {}
    key = writer.next_interid()
    timed.watch = {str(k) for k in range(key, key + args.latency_orders)}
    follower.start()
    for _ in range(args.latency_orders):
        time.sleep(rng.expovariate(args.rate))
        # a K3 client saving an audited sales order (all the columns the preset reads)
        header = k3_header(key, FDate=dt.datetime(2026, 6, 1, 9), FCustID=rng.randint(1, 200))
        lines = [
            k3_line(
                key,
                e,
                10_000 + rng.randint(1, 500),
                Decimal(rng.randint(1, 50)),
                Decimal("9.90"),
                dt.datetime(2026, 6, 20),
            )
            for e in range(1, args.lines + 1)
        ]
        erp_commits[str(key)] = writer.insert_order(header, lines)
        key += 1
    deadline = time.time() + 30
    while len(timed.committed.keys() & erp_commits.keys()) < len(erp_commits):
        if time.time() > deadline:
            break
        time.sleep(0.05)
    stop.set()
    follower.join(timeout=60)
    row.latencies = [timed.committed[k] - t for k, t in erp_commits.items() if k in timed.committed]
    row.missing = len(erp_commits) - len(row.latencies)
    lat = row.latencies or [float("nan")]
    print(
        f"[{name}] latency ({len(row.latencies)} orders, poll {args.interval:g} s): "
        f"p50 {_percentile(lat, 0.5):.3f} s, p99 {_percentile(lat, 0.99):.3f} s, "
        f"max {max(lat):.3f} s, mean {statistics.fmean(lat):.3f} s",
        flush=True,
    )
    return row


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite", help="the ERP")
    parser.add_argument(
        "--store", default=None, help="orderflow store URL (default: a SQLite file)"
    )
    parser.add_argument("--orders", type=int, default=147_000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--latency-orders", type=int, default=100)
    parser.add_argument("--rate", type=float, default=8.0, help="new ERP orders per second")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
    parser.add_argument(
        "--shipped-index",
        action="store_true",
        help="do not add the full orders.erp_id index (quadratic backfill on SQLite)",
    )
    parser.add_argument(
        "--targets", default="service,memory", help="comma-separated: service, memory"
    )
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
    rows: list[Row] = []
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
            f"({stats.rows_per_second:,.0f} rows/s) [ERP on {args.db}]",
            flush=True,
        )
        source = SqlErpSource(url, schema=schema)
        writer = K3Writer(admin, schema)
        for target in args.targets.split(","):
            if target == "service":
                store_url = args.store or f"sqlite:///{Path(tmp.name) / 'orderflow.db'}"
                svc = connect(store_url)
                if store_url.startswith("sqlite:///") and not args.shipped_index:
                    _full_erp_index(store_url.removeprefix("sqlite:///"))
                shown = "service/" + store_url.split(":", 1)[0]
                service_store = ServiceErpStore(svc)
                rows.append(
                    measure(shown, service_store, source, writer, mapping, args, svc.store.orders)
                )
                svc.store.close()
            elif target == "memory":
                fake = InMemoryErpStore()
                rows.append(
                    measure("fake/memory", fake, source, writer, mapping, args, fake.orders.values)
                )
            else:
                parser.error(f"unknown target {target!r}")
        source.close()
        print()
        print(
            f"{'target':15s} {'orders':>9s} {'backfill/s':>10s} {'rerun/s':>10s} "
            f"{'p50 s':>8s} {'p99 s':>8s} {'max s':>8s} {'n':>5s}"
        )
        for row in rows:
            print(row.line())
        for row in rows:
            p99 = _percentile(row.latencies, 0.99) if row.latencies else float("inf")
            met = p99 < 2 and not row.missing
            print(f"{row.target}: target p99 < 2 s {'met' if met else 'MISSED'}")
    finally:
        if schema is not None:
            drop_k3_schema(admin, schema)
        admin.dispose()
        tmp.cleanup()


if __name__ == "__main__":
    main()
