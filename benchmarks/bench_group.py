"""A group of plants on one PostgreSQL: N worker processes through the service, beside SQLite.

Every plant is its own factory (``P0``, ``P1``, ...) with its own order-number prefix,
customers, products, components and production line, as a group's plants are. Each
plant runs its share of ``--orders`` full lifecycles (submit + 4 transitions, every
operation with an idempotency key) through ``OrderService``:

- *batched*: ``--batch`` orders to a transaction (each operation in its own savepoint),
  as ``bench_year.py`` groups a minute of scans;
- *per call*: one transaction per operation (web handlers, scanners).

Each mode runs, in the same run and on the same orders: SQLite (one process, the embedded
default, ``synchronous=FULL``), PostgreSQL from one process (every plant's orders in
turn), and PostgreSQL from ``--plants`` processes at once (one per plant). A unit of work
that loses a race is retried whole by :func:`orderflow.retry_on_conflict`; the retries are
counted. Printed: orders/s, p50/p99 milliseconds per operation (per batch commit when
batched), conflicts retried, how busy the machine's cores were (the server's processes
included: at 100% the run is bound by the cores, not by orderflow's waits), and the CPU
milliseconds an order cost the plant processes and, when the server runs on this machine
(Linux), the server's processes: from one process, an order's wall time cannot be less
than the two together, whatever is saved in waits. The audit log is verified after every
PostgreSQL run.

Usage: ``python benchmarks/bench_group.py [--plants 4] [--orders 4000]
[--per-call-orders 1000] [--batch 500] [--url postgresql://...]`` (``0`` skips a mode).
The PostgreSQL URL defaults to ``ORDERFLOW_TEST_POSTGRES_URL`` or the local test server;
each run uses a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing as mp
import os
import secrets
import statistics
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from bench_year import EVENTS, START, weekly_slots  # the year benchmark's plant calendar

from orderflow import retry_on_conflict
from orderflow._batch import batch_gc
from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.domain import BomLine, Component, Customer, OrderLine, Product, ProductKind
from orderflow.service import OrderDraft, OrderService

CUSTOMERS, COMPONENTS, PRODUCTS = 60, 30, 10  # per plant


def plant_id(p: int) -> str:
    """The factory id of plant ``p``."""
    return f"P{p}"


def seed(svc: OrderService, plants: int) -> None:
    """Every plant's master data, stock and production slots."""
    with svc.store.transaction():
        for p in range(plants):
            f = plant_id(p)
            for i in range(CUSTOMERS):
                svc.put_customer(Customer(f"{f}C{i:03d}", f"customer {i}", "A", Decimal(10**12), 0))
            for i in range(COMPONENTS):
                svc.put_component(Component(f"{f}K{i:03d}", "part", safety_stock=Decimal(100)))
                svc.set_stock(f"{f}K{i:03d}", 10**12)
            for i in range(PRODUCTS):
                bom = tuple(BomLine(f"{f}K{(i * 3 + k) % COMPONENTS:03d}", 1 + k) for k in range(3))
                svc.put_product(Product(f"{f}HV{i:03d}", "valve", ProductKind.REGULAR, bom))
            svc.put_capacity(f, weekly_slots())


def draft(p: int, i: int) -> OrderDraft:
    """Order ``i`` of plant ``p``."""
    f = plant_id(p)
    return OrderDraft(
        f"{f}C{i % CUSTOMERS:03d}",
        tuple(
            OrderLine(f"{f}HV{(i + k) % PRODUCTS:03d}", 10 + i % 50, "99.5")
            for k in range(1 + i % 3)
        ),
        START.date() + dt.timedelta(days=400),
        f,
    )


class Stats:
    """Latencies (seconds) by operation, conflicts retried and CPU seconds used, for one
    worker (or merged)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.retries = 0
        self.cpu = 0.0  # the plant processes' CPU seconds

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.times.setdefault(name, []).append(time.perf_counter() - started)

    def retried(self, attempt: int, exc: BaseException) -> None:
        self.retries += 1


def work(svc: OrderService, plants: list[int], orders: int, batch: int | None, st: Stats) -> None:
    """Run ``orders`` lifecycles of each plant in ``plants`` (interleaved)."""
    clock = svc.clock
    assert isinstance(clock, FrozenClock)
    jobs = [(p, i) for i in range(orders) for p in plants]
    retry: Callable[[Callable[[], Any]], Callable[[], Any]] = retry_on_conflict(
        attempts=20, on_retry=st.retried
    )

    # one transaction per call: each operation is the unit of work to retry; batched:
    # the batch is (a conflict ends the whole transaction)
    once = retry if batch is None else (lambda fn: fn)

    def lifecycle(p: int, i: int) -> None:
        key = f"{plant_id(p)}-{i}"
        with st.timed("submit"):
            order = once(
                lambda: svc.submit(draft(p, i), actor="sales", idempotency_key=f"s{key}")
            )().order
        for event in EVENTS:
            with st.timed(event):
                once(
                    lambda e=event: svc.fire(  # type: ignore[misc]
                        order.id, e, actor="plant", idempotency_key=f"{e}{key}"
                    )
                )()

    if batch is None:
        for p, i in jobs:
            clock.advance(dt.timedelta(seconds=20))
            lifecycle(p, i)
        return
    for first in range(0, len(jobs), batch):
        chunk = jobs[first : first + batch]

        def one_batch(chunk: list[tuple[int, int]] = chunk) -> None:
            with svc.store.transaction():
                for p, i in chunk:
                    clock.advance(dt.timedelta(seconds=20))
                    lifecycle(p, i)

        with st.timed("batch commit"):
            retry(one_batch)()


def open_service(url: str, plant: int | None) -> OrderService:
    """A service on ``url`` with plant ``plant``'s number prefix (``None``: the group's)."""
    prefix = "GR" if plant is None else "P" + chr(ord("A") + plant)  # PA, PB, ...
    return connect(url, clock=FrozenClock(START), number_prefix=prefix)


def worker(url: str, plant: int, orders: int, batch: int | None, barrier: Any, out: Any) -> None:
    """One plant's process: wait for the others, run, report ``(stats, seconds)``."""
    try:
        with batch_gc():
            svc = open_service(url, plant)
            st = Stats()
            barrier.wait()
            started, cpu = time.perf_counter(), time.process_time()
            work(svc, [plant], orders, batch, st)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            svc.store.close()
    except BaseException as exc:
        out.put(exc)
        raise
    out.put((st.times, st.retries, elapsed, cpu))


def run_processes(
    url: str, plants: int, orders: int, batch: int | None
) -> tuple[float, Stats, str]:
    """``plants`` processes at once; wall seconds from the start signal, merged stats
    (with the plants' CPU seconds), how busy the machine was meanwhile."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(plants + 1)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(url, p, orders, batch, barrier, out))
        for p in range(plants)
    ]
    for proc in procs:
        proc.start()
    barrier.wait()
    ticks, server, started = cpu_ticks(), server_cpu(url), time.perf_counter()
    results = [out.get(timeout=3600) for _ in procs]
    wall = time.perf_counter() - started
    for result in results:
        if isinstance(result, BaseException):
            raise RuntimeError(f"a plant process failed: {result!r}") from result
    merged = Stats()
    for times, retries, _, cpu_seconds in results:
        merged.retries += retries
        merged.cpu += cpu_seconds
        for name, values in times.items():
            merged.times.setdefault(name, []).extend(values)
    cpu = busy_since(ticks, plants * orders, merged.cpu, server_cpu_since(url, server))
    for proc in procs:
        proc.join()
    return wall, merged, cpu


def cpu_ticks() -> tuple[int, int] | None:
    """``(busy, total)`` CPU time of the whole machine so far (all cores, the server's
    processes included), from Linux's ``/proc/stat``; ``None`` elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, sum(values)


def server_cpu(url: str) -> float | None:
    """CPU seconds used so far by the PostgreSQL server's processes (ended backends are
    counted in their parent's children time), from Linux's ``/proc``; ``None`` when
    ``url`` names another machine or no server process is visible (another system)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in ("", "localhost", "127.0.0.1", "::1"):
        return None
    total, seen = 0, False
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
                head, _, rest = f.read().rpartition(")")
        except OSError:
            continue  # ended meanwhile
        if head.split("(", 1)[-1] != "postgres":
            continue
        fields = rest.split()
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        seen = True
    return total / os.sysconf("SC_CLK_TCK") if seen else None


def server_cpu_since(url: str, before: float | None) -> float | None:
    """The server's CPU seconds since ``before`` (a :func:`server_cpu` reading), if known."""
    after = server_cpu(url) if before is not None else None
    return None if after is None or before is None else after - before


def busy_since(
    before: tuple[int, int] | None, orders: int, plant_cpu: float, server_used: float | None
) -> str:
    """How busy the machine's cores were since ``before`` (``cpu_ticks()``), and the CPU
    milliseconds an order cost the plant processes and (if known) the server, as text."""
    after = cpu_ticks()
    text = ""
    if before is not None and after is not None and after[1] != before[1]:
        share = (after[0] - before[0]) / (after[1] - before[1])
        text = f"  cpu {share:4.0%} of {os.cpu_count()} cores"
    text += f"  cpu ms/order: plant {plant_cpu * 1000 / orders:.2f}"
    if server_used is not None:
        text += f" + server {server_used * 1000 / orders:.2f}"
    return text


def report(
    label: str, orders: int, seconds: float, st: Stats, base: float | None, cpu: str = ""
) -> float:
    """One result line (orders/s, ratio to SQLite, latencies, retries, how busy the
    machine was); the rate."""
    rate = orders / seconds
    ratio = f"{rate / base:5.2f}x sqlite" if base else " " * 12
    lat = "  ".join(
        f"{name} {statistics.median(v) * 1000:.1f}/{_p99(v) * 1000:.1f}"
        for name, v in st.times.items()
    )
    print(
        f"  {label:<26} {rate:8,.0f} orders/s  {ratio}  retries {st.retries:4d}{cpu}  "
        f"p50/p99 ms: {lat}"
    )
    return rate


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def pg_schema_url(url: str, schema: str) -> str:
    """``url`` with ``?schema=`` for :func:`orderflow.connect`."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def run_mode(args: argparse.Namespace, batch: int | None, orders: int) -> None:
    """SQLite, PostgreSQL x1 and PostgreSQL xN for one mode, on the same orders."""
    plants = args.plants
    per_plant = max(orders // plants, 1)
    total = per_plant * plants
    how = f"{batch} orders per transaction" if batch else "one transaction per operation"
    print(f"{total:,} orders over {plants} plants, {how}:")
    with tempfile.TemporaryDirectory() as folder:
        svc = open_service(f"sqlite:///{folder}/group.db", None)
        seed(svc, plants)
        st = Stats()
        ticks, started, used = cpu_ticks(), time.perf_counter(), time.process_time()
        with batch_gc():
            work(svc, list(range(plants)), per_plant, batch, st)
        seconds = time.perf_counter() - started
        cpu = busy_since(ticks, total, time.process_time() - used, None)
        base = report("sqlite, 1 process", total, seconds, st, None, cpu)
        svc.store.close()
    if not args.url:
        return
    for procs in (1, plants):
        schema = f"bench_group_{secrets.token_hex(4)}"
        url = pg_schema_url(args.url, schema)
        admin = open_service(url, None)
        try:
            seed(admin, plants)
            if procs == 1:
                svc = open_service(url, None)
                st = Stats()
                ticks, server = cpu_ticks(), server_cpu(url)
                started, used = time.perf_counter(), time.process_time()
                with batch_gc():
                    work(svc, list(range(plants)), per_plant, batch, st)
                seconds = time.perf_counter() - started
                used = time.process_time() - used
                cpu = busy_since(ticks, total, used, server_cpu_since(url, server))
                svc.store.close()
            else:
                seconds, st, cpu = run_processes(url, plants, per_plant, batch)
            label = f"postgresql, {procs} process{'es' if procs > 1 else ''}"
            report(label, total, seconds, st, base, cpu)
            admin.audit.verify()
        finally:
            store: Any = admin.store
            store.execute_raw(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            store.close()


def server_latency(url: str, n: int = 500) -> tuple[float, float]:
    """Milliseconds of one ``SELECT 1`` round trip and of one durable one-row commit:
    what every statement and every per-call commit costs on this machine, whatever
    orderflow does (a loopback round trip is ~0.05 ms on bare metal, several times that
    in some VMs)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE latency_probe (x int)")
        for _ in range(50):
            conn.execute("SELECT 1").fetchone()
        started = time.perf_counter()
        for _ in range(n):
            conn.execute("SELECT 1").fetchone()
        trip = (time.perf_counter() - started) / n
        conn.execute("DROP TABLE latency_probe")
        conn.execute("CREATE TABLE IF NOT EXISTS orderflow_latency_probe (x int)")
        try:
            started = time.perf_counter()
            for _ in range(n // 5):
                conn.execute("INSERT INTO orderflow_latency_probe VALUES (1)")
            commit = (time.perf_counter() - started) / (n // 5)
        finally:
            conn.execute("DROP TABLE orderflow_latency_probe")
    return trip * 1000, commit * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=4)
    parser.add_argument("--orders", type=int, default=4000, help="batched mode, all plants")
    parser.add_argument("--per-call-orders", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "ORDERFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    try:
        import psycopg

        psycopg.connect(args.url, connect_timeout=3).close()
    except Exception as exc:
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        args.url = ""
    if args.url:
        trip, commit = server_latency(args.url)
        print(
            f"PostgreSQL server: a round trip {trip:.2f} ms, a durable one-row commit "
            f"{commit:.2f} ms"
        )
    if args.orders:
        run_mode(args, args.batch, args.orders)
    if args.per_call_orders:
        run_mode(args, None, args.per_call_orders)


if __name__ == "__main__":
    main()
