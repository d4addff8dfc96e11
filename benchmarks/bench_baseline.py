"""The year benchmark's SQLite workload against a baseline checkout, interleaved.

An issue that must not make the service slower names a baseline commit; check it out
beside this tree (``git worktree add /tmp/base 89ca3f0``) and pass its ``src``. Each
round runs the same orders (``bench_year.run``: submit + 4 transitions with idempotency
keys, ``--batch`` orders a transaction) once on the baseline and once on this tree, each
in a fresh process, and prints wall and CPU seconds; the summary compares the best
round of each (the least disturbed by whatever else the machine runs). ``--config``
also runs this tree without the features added after the baseline that have their own
price (``plain``: no event outbox, no risk flags), to separate their cost.

Usage: ``python benchmarks/bench_baseline.py --baseline /tmp/base/src [--orders 10000]
[--rounds 3] [--config plain]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def child(orders: int, batch: int, plain: bool) -> None:
    """One run in this process: print a JSON line with wall and CPU seconds."""
    sys.path.insert(0, str(HERE))
    import bench_year

    from orderflow._batch import batch_gc
    from orderflow.bootstrap import open_store
    from orderflow.clock import FrozenClock
    from orderflow.service import OrderService

    folder = tempfile.mkdtemp(prefix="orderflow-base-")
    store = open_store(f"sqlite:///{folder}/y.db?synchronous=FULL", origin="bench.local/base")
    options: dict[str, Any] = {"events": False} if plain else {}  # the baseline has no outbox
    svc = OrderService(store, clock=FrozenClock(bench_year.START), **options)
    if plain:
        from orderflow.policy import RiskThresholds

        svc.policies.update(risk=RiskThresholds(enabled=False))
    with batch_gc():
        cpu, wall = time.process_time(), time.perf_counter()
        bench_year.run(svc, "child", orders, batch)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"cpu": cpu, "wall": wall}))


def _one(src: Path, orders: int, batch: int, plain: bool) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, __file__, "--child", "--orders", str(orders), "--batch", str(batch)]
    out = subprocess.run(argv + (["--plain"] if plain else []), env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the rounds and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="the baseline checkout's src folder")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--config", choices=["plain"], action="append", default=[])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.orders, args.batch, args.plain)
        return
    if args.baseline is None or not (args.baseline / "orderflow").is_dir():
        parser.error("--baseline must be a checkout's src folder (it holds orderflow/)")
    runs = [("baseline", args.baseline, False), ("this tree", SRC, False)]
    runs += [("this tree, plain", SRC, True)] * ("plain" in args.config)
    best: dict[str, dict[str, float]] = {}
    for n in range(1, args.rounds + 1):
        for label, src, plain in runs:
            got = _one(src, args.orders, args.batch, plain)
            rate = args.orders / got["wall"]
            print(f"round {n}  {label:18s} {got['wall']:6.1f} s wall  {got['cpu']:6.1f} s CPU  "
                  f"{rate:7,.0f} orders/s")  # fmt: skip
            if label not in best or got["cpu"] < best[label]["cpu"]:
                best[label] = got
    base = best["baseline"]["cpu"]
    for label, got in best.items():
        print(f"best {label:18s} {got['cpu']:6.1f} s CPU = {got['cpu'] / base:5.2f}x the baseline")


if __name__ == "__main__":
    main()
