"""Audit log benchmark (R5): append rate, full verification of a year, proof cost.

Run: ``.venv/bin/python benchmarks/bench_audit.py [--orders 147000]``

Prints entries/s for appending (build + encode + hash + tree append), the time
to verify 588,000 entries (147,000 orders x 4 transitions) from their stored
bytes, the per-entry cost of ``json.loads`` versus the byte-level link
extraction the verifier uses, and the time of one inclusion proof plus its check.
Targets: full verification < 3 s; proof + check < 100 us.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from orderflow.audit import (
    AuditLog,
    EntryType,
    entry_link,
    verify_inclusion,
    verify_log,
)

STAGES = ("pending_review", "kitting_locked", "production_dispatched", "qc_released", "delivered")
T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds


def build_log(orders: int, transitions: int) -> tuple[AuditLog, float]:
    """Append ``orders * transitions`` state changes, interleaved like a working plant."""
    log = AuditLog("plant1.example/audit")
    record = log.record
    ids = [f"HY2026{n:07d}" for n in range(orders)]
    batch = 400  # about a day of orders in flight at once
    started = time.perf_counter()
    at = T0
    for first in range(0, orders, batch):
        group = ids[first : first + batch]
        for step in range(transitions):
            for order_id in group:
                at += 1_000
                record(
                    order_id,
                    EntryType.STATE_CHANGE,
                    actor="wang.li",
                    at=at,
                    from_state=STAGES[step],
                    to_state=STAGES[step + 1],
                    idempotency_key=f"{order_id}-{step}",
                )
    return log, time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=147_000)
    parser.add_argument("--transitions", type=int, default=4)
    args = parser.parse_args()
    n = args.orders * args.transitions

    log, append_s = build_log(args.orders, args.transitions)
    print(
        f"append: {n:,} entries in {append_s:.2f} s = {n / append_s:,.0f} entries/s "
        f"({append_s / n * 1e6:.2f} us/entry: build + encode + hash + tree append)"
    )

    stored = list(log.entries)
    checkpoint = log.checkpoint()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        result = verify_log(stored, checkpoint)
        best = min(best, time.perf_counter() - started)
    assert result == checkpoint
    print(
        f"verify_log: {n:,} entries in {best:.2f} s = {n / best:,.0f} entries/s "
        f"(best of 3; every leaf, chain link and the root)"
    )

    sample = stored[:50_000]
    started = time.perf_counter()
    for d in sample:
        json.loads(d)
    loads_us = (time.perf_counter() - started) / len(sample) * 1e6
    started = time.perf_counter()
    for d in sample:
        entry_link(d)
    link_us = (time.perf_counter() - started) / len(sample) * 1e6
    print(
        f"link extraction per entry: json.loads {loads_us:.2f} us, "
        f"entry_link {link_us:.2f} us (the verifier inlines the latter)"
    )

    rng = random.Random(7)
    tree = log.tree
    root = tree.root()
    indices = [rng.randrange(n) for _ in range(2_000)]
    started = time.perf_counter()
    for i in indices:
        verify_inclusion(i, n, tree.leaf(i), tree.inclusion_proof(i), root)
    proof_us = (time.perf_counter() - started) / len(indices) * 1e6
    print(f"inclusion proof + check at size {n:,}: {proof_us:.1f} us")

    old_sizes = [rng.randrange(1, n) for _ in range(500)]
    started = time.perf_counter()
    for old in old_sizes:
        tree.consistency_proof(old)
    cons_us = (time.perf_counter() - started) / len(old_sizes) * 1e6
    print(f"consistency proof at size {n:,}: {cons_us:.1f} us")


if __name__ == "__main__":
    main()
