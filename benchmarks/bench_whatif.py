"""A plant's year replayed in memory under its own policy, and exported to OCEL 2.0.

The year is simulated into a SQLite file by ``orderflow simulate`` in a child process
(so this process's memory peak is the replay's and the export's alone), or read from
``--db``. Then the whole year is replayed through the real service on an in-memory store
(orders/s, peak resident memory from ``resource.getrusage``), the record and the replay
are measured over the year and compared (they must be equal: the recorded policy
reproduces the record), and the log is exported to OCEL 2.0 JSON (seconds, file size).

Targets (issue 20): a 147,000-order year replayed in < 60 s on 2 cores, < 1 GiB.

Usage: ``python benchmarks/bench_whatif.py [--orders 147000] [--db year.db] [--seed 2026]``
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs

from orderflow._batch import batch_gc
from orderflow.bootstrap import connect
from orderflow.clock import to_micros
from orderflow.export import write_ocel_json
from orderflow.whatif import months, outcome, replay, survey

GIB = 1 << 30


def peak_bytes() -> int:
    """This process's peak resident set size (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def simulate(path: Path, orders: int, seed: int) -> None:
    """Simulate the year into ``path`` in a child process."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "orderflow.cli", "simulate", "--db", str(path),
         "--orders", str(orders), "--seed", str(seed), "--quiet"],
        check=True,
    )  # fmt: skip
    print(f"simulated {orders:,} orders in {time.perf_counter() - started:.0f} s")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=147_000)
    parser.add_argument("--db", default=None, help="an existing year database to use")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(args.db) if args.db else Path(folder) / "year.db"
        if not args.db:
            simulate(db, args.orders, args.seed)
        source = connect(f"sqlite:///{db}")
        policy = source.policy
        period = months(2026, 1, 12, policy.timezone)
        with batch_gc():
            started = time.perf_counter()
            plan = survey(source)
            surveyed = time.perf_counter() - started
            result = replay(
                source, plan, policy,
                start_us=to_micros(period.start), end_us=to_micros(period.end), last=True,
            )  # fmt: skip
            seconds = time.perf_counter() - started
        peak = peak_bytes()
        print(
            f"replayed {result.orders:,} orders ({result.service.store.audit_size():,} entries) "
            f"in {seconds:.1f} s ({surveyed:.1f} s reading the record): "
            f"{result.orders / seconds:,.0f} orders/s; peak memory {peak / GIB:.2f} GiB "
            f"(targets: < 60 s, < 1 GiB)"
        )
        started = time.perf_counter()
        recorded = outcome("recorded", source, policy, period)
        replayed = outcome("replayed", result.service, policy, period,
                           refusals=result.refusals, waits=result.waits_hours)  # fmt: skip
        same = attrs.evolve(replayed, label="recorded") == recorded
        print(
            f"measured both in {time.perf_counter() - started:.1f} s: on-time "
            f"{recorded.on_time.share:.4f} recorded, {replayed.on_time.share:.4f} replayed; "
            f"kitting refusals {recorded.kitting_refusals} / {replayed.kitting_refusals}; "
            f"{'identical' if same else 'DIFFERENT'}"
        )
        del result, replayed
        out = Path(folder) / "year.jsonocel"
        summary = write_ocel_json(source.store, out)
        print(
            f"OCEL 2.0 JSON export: {summary.events:,} events, {summary.objects:,} objects, "
            f"{summary.bytes / 1_048_576:,.0f} MiB in {summary.seconds:.1f} s"
        )
        source.store.close()
        os.sync()


if __name__ == "__main__":
    main()
