"""Customer self-service lookup latency (R9: target <= 0.3 s; ours p99 < 1 ms in process).

Fills a SQLite store with ``--orders`` orders taken through a few stages, then looks up
``--lookups`` random customer query tokens (and a share of unknown ones, which must get
the same answer) and prints p50/p99/max in milliseconds, plus the slip lookup (R11).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time

from orderflow.adapters.sqlite import SqliteStore
from orderflow.exceptions import NotFound
from orderflow.testing.contracts import draft, seeded_service


def percentiles(samples: list[float]) -> str:
    """p50 / p99 / max of samples in seconds, shown in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered) * 1e3:6.3f} ms  p99 {p99 * 1e3:6.3f} ms  "
        f"max {ordered[-1] * 1e3:6.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    args = parser.parse_args()
    store = SqliteStore(f"{tempfile.mkdtemp()}/lookup.db", synchronous="NORMAL")
    svc = seeded_service(store, seal_rings=10**9)
    tokens: list[str] = []
    slips: list[tuple[str, str]] = []
    with store.transaction():
        for i in range(args.orders):
            sub = svc.submit(draft(1), actor="sales")
            assert sub.query_token is not None
            tokens.append(sub.query_token)
            slips.append((sub.order.number, svc.slip_code(sub.order.id, actor="sales")))
            for event in ("lock_kitting", "dispatch_production")[: i % 3]:
                svc.fire(sub.order.id, event, actor="plant")
    rng = random.Random(7)
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(args.lookups):
        if rng.random() < 0.1:
            started = time.perf_counter()
            with contextlib.suppress(NotFound):
                svc.customer_status("x" * 22)
            unknown.append(time.perf_counter() - started)
        else:
            token = rng.choice(tokens)
            started = time.perf_counter()
            svc.customer_status(token)
            known.append(time.perf_counter() - started)
    slip_times = []
    for number, code in rng.sample(slips, min(len(slips), 1000)):
        started = time.perf_counter()
        svc.slip_status(number, code)
        slip_times.append(time.perf_counter() - started)
    print(f"store: SQLite file, {args.orders:,} orders")
    print(f"customer status, known token   {percentiles(known)}   (n={len(known):,})")
    print(f"customer status, unknown token {percentiles(unknown)}   (n={len(unknown):,})")
    print(f"paper slip status (R11)        {percentiles(slip_times)}   (n={len(slip_times):,})")
    store.close()


if __name__ == "__main__":
    main()
