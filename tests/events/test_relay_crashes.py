"""SIGKILL the relay at random points while it publishes to JetStream: every event
arrives, none twice, each order's in order (10 kills of 2,000 events; 50 of 20,000 in
the nightly session)."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import random
import secrets
import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from orderflow.adapters.sqlite import SqliteStore
from orderflow.events import Relay
from orderflow.service.outbox import OUTBOX
from orderflow.testing.contracts import MAINLINE, draft, seeded_service
from tests.events.test_jetstream import NATS_URL, _read_all, _sink

NIGHTLY = os.environ.get("ORDERFLOW_NIGHTLY") == "1"
KILLS, ORDERS = (50, 4_000) if NIGHTLY else (10, 400)  # 5 events an order


def _relay(path: str, stream: str, prefix: str) -> None:
    from orderflow.events.jetstream import JetStreamSink

    sink = JetStreamSink(NATS_URL, stream=stream, prefix=prefix)
    store = SqliteStore(path)
    try:
        Relay(store, sink, batch=50).run()
    finally:
        sink.close()
        store.close()


def _left(probe: SqliteStore) -> int:
    with probe.transaction() as tx:
        return len(tx.docs(OUTBOX))


def _wait_until_left(probe: SqliteStore, child: Any, target: int) -> None:
    """Until at most ``target`` events are left to send (or 30 s, or the relay ended)."""
    deadline = time.monotonic() + 30
    while child.is_alive() and time.monotonic() < deadline and _left(probe) > target:
        time.sleep(0.002)


@pytest.mark.slow
def test_a_killed_relay_loses_and_doubles_nothing(tmp_path: Path) -> None:
    _sink("OF_PROBE", "ofprobe").close()  # NATS must be up (skips, or fails under CI)
    tag = secrets.token_hex(4)
    stream, prefix = f"OF_KILL_{tag}", f"ofk{tag}"
    path = str(tmp_path / "relay.db")
    svc = seeded_service(SqliteStore(path, synchronous="NORMAL"), seal_rings=10**9)
    with svc.store.transaction():
        for _ in range(ORDERS):
            order = svc.submit(draft(), actor="s").order
            for event in MAINLINE[:4]:
                svc.fire(order.id, event, actor="p")
    with svc.store.transaction() as tx:
        total = len(tx.docs(OUTBOX))
    svc.store.close()
    rng = random.Random(20261202)
    ctx = mp.get_context("fork")
    left: list[int] = []
    probe = SqliteStore(path)
    for i in range(KILLS):
        child = ctx.Process(target=_relay, args=(path, stream, prefix), daemon=True)
        child.start()
        # killed once it has worked through its share of the outbox (a fixed delay
        # found the whole outbox sent on a fast machine), then anywhere in the batch
        # it was publishing
        _wait_until_left(probe, child, total - (i + 1) * total // (KILLS + 1))
        time.sleep(rng.uniform(0, 0.02))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        left.append(_left(probe))
    probe.close()
    # the kills fell while there was work: some mid-way, the outbox shrinking
    assert sum(0 < n < total for n in left) >= 3, left
    _relay(path, stream, prefix)  # the last one runs to the end
    store = SqliteStore(path)
    with store.transaction() as tx:
        assert tx.docs(OUTBOX) == []
    store.close()
    got = asyncio.run(_read_all(stream, prefix))
    ids = [i for i, _ in got]
    assert len(ids) == len(set(ids)) == total
    seqs: dict[str, list[int]] = defaultdict(list)
    for _, doc in got:
        seqs[doc["body"]["chain"]].append(doc["body"]["seq"])
    assert all(s == sorted(s) for s in seqs.values())
