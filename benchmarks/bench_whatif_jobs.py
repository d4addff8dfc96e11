"""``orderflow whatif`` under several policies: one replay after another (``--jobs 1``,
the baseline) against replays at once in child processes (``--jobs 2``), in one run.

A year is simulated into a SQLite file by ``orderflow simulate`` in a child process (or
read from ``--db``); then :func:`~orderflow.whatif.compare` measures one late month
(its replay starts at the log's first entry, so it replays most of the year) under
``--policies`` policies, first with ``jobs=1``, then with ``jobs=2``, and the two
comparisons must be equal. Printed: seconds for each, the ratio, and peak resident
memory of this process and of the largest child (``resource.getrusage``; Linux).

Usage: ``python benchmarks/bench_whatif_jobs.py [--orders 20000] [--db year.db]
[--month 2026-11] [--policies 2]``
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import attrs

from orderflow._batch import batch_gc
from orderflow.bootstrap import connect
from orderflow.policy import Policy
from orderflow.whatif import Scenario, compare

MIB = 1 << 20


def scenarios(policy: Policy, count: int) -> list[Scenario]:
    """The recorded policy, then other safety factors (1.0, 1.1, 1.2, ...)."""
    out = [Scenario("as recorded", policy)]
    for n in range(count - 1):
        factor = Decimal(1) + Decimal("0.1") * n
        safety = attrs.evolve(policy.safety, regular=factor, custom=factor)
        out.append(Scenario(f"safety {factor}", attrs.evolve(policy, safety=safety)))
    return out


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--db", default=None, help="an existing year database to use")
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--policies", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    year, month = (int(x) for x in args.month.split("-"))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(args.db) if args.db else Path(folder) / "year.db"
        if not args.db:
            subprocess.run(
                [sys.executable, "-m", "orderflow.cli", "simulate", "--db", str(db),
                 "--orders", str(args.orders), "--seed", str(args.seed), "--quiet"],
                check=True,
            )  # fmt: skip
        simulated = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        source = connect(f"sqlite:///{db}")
        chosen = scenarios(source.policy, args.policies)
        seconds = {}
        answers = {}
        with batch_gc():
            for jobs in (1, 2):
                started = time.perf_counter()
                answers[jobs] = compare(source, year, month, 1, chosen, jobs=jobs)
                seconds[jobs] = time.perf_counter() - started
                print(
                    f"jobs={jobs}: {args.month} under {len(chosen)} "
                    f"polic{'y' if len(chosen) == 1 else 'ies'}, "
                    f"{answers[jobs].orders:,} orders replayed each, in {seconds[jobs]:.1f} s",
                    flush=True,
                )
        source.store.close()
        same = "identical" if answers[1] == answers[2] else "DIFFERENT"
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        # the children's peak is only known when it passes the simulation's
        largest = f"{child / MIB:,.0f} MiB" if child > simulated else f"<= {child / MIB:,.0f} MiB"
        print(
            f"jobs=2 / jobs=1: {seconds[1] / seconds[2]:.2f}x faster; comparisons {same}; "
            f"peak memory {own / MIB:,.0f} MiB here, {largest} the largest replay child"
        )


if __name__ == "__main__":
    main()
