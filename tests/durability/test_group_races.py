"""A group of plants on one store: 4 writer processes, overlapping orders, and a SIGKILL.

Run on SQLite (one file) and on PostgreSQL (one schema), through the service:

- Contested updates: 4 processes edit the same few orders at once (2,000 updates in CI,
  10,000 with ``ORDERFLOW_NIGHTLY=1``), in transactions of 1-5 edits, each transaction
  retried whole by :func:`orderflow.retry_on_conflict` and acknowledged after its commit.
  Afterwards: no lost update (every order's version = its acknowledged edits), no
  duplicate ``(chain, seq)`` and no gap (every chain is 0..version), every acknowledged
  operation present exactly once (its idempotency record, one audit entry each), and
  the audit log verifies.
- SIGKILL: one of the 4 writers is killed mid-batch; nothing it or the others
  acknowledged is lost, its in-flight batch is all there or not at all, and the log
  verifies.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orderflow import ConcurrencyConflict, retry_on_conflict
from orderflow.adapters.sqlite import SqliteStore
from orderflow.audit import decode
from orderflow.clock import FrozenClock
from orderflow.ports import Store
from orderflow.service import OrderService
from orderflow.testing.contracts import START, draft, seeded_service

NIGHTLY = os.environ.get("ORDERFLOW_NIGHTLY") == "1"
UPDATES = 10_000 if NIGHTLY else 2_000
WORKERS = 4
ORDERS = 8  # few, so that the writers really collide

Opener = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """A function that opens the shared store (each process calls it for its own)."""
    if request.param == "sqlite":
        path = tmp_path / "group.db"
        yield lambda: SqliteStore(path, synchronous="NORMAL")
        return
    from orderflow.adapters.postgres import PostgresStore

    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("pg_schema")
    yield lambda: PostgresStore(url, schema=schema, origin="group.example/test", pool_size=2)


def _seed(opener: Opener) -> list[str]:
    store = opener()
    svc = seeded_service(store)
    ids = [svc.submit(draft(), actor="sales").order.id for _ in range(ORDERS)]
    store.close()
    return ids


def _writer(opener: Opener, name: str, ids: list[str], updates: int, ack: Any, go: Any) -> None:
    """Edit random orders in transactions of 1-5 edits; send each batch's keys once it
    committed.

    ``ack`` is this writer's own pipe, written synchronously. A shared
    ``multiprocessing.Queue`` cannot be used: its writes go through one lock shared by
    every process, and a writer SIGKILLed while holding it leaves the others' feeder
    threads blocked for ever (CI hung that way once). Given ``go`` (the victim of a
    kill: a second one-way pipe, from the parent) the writer waits for the parent's go
    after each "begin", so it can never run ahead of the parent's reading and finish
    before its kill (CI saw that once, when the parent read the pipe late on a loaded
    machine). Pipes, not a duplex socket pair: a socket closed with a go unread resets
    the connection, and the parent's last reads fail instead of ending.
    """
    store = opener()
    svc = OrderService(store, clock=FrozenClock(START))
    rng = random.Random(name)
    done = 0
    while done < updates:
        size = min(rng.randint(1, 5), updates - done)
        # lock order rows in one order (id order), as a batch writer should
        targets = sorted(rng.choice(ids) for _ in range(size))
        keys = [f"{name}-{done + k}" for k in range(size)]
        ack.send(("begin", name, keys))
        if go is not None:
            go.recv()

        @retry_on_conflict(attempts=50, base_delay=0.002)
        def batch(targets: list[str] = targets, keys: list[str] = keys) -> None:
            with store.transaction():
                for order_id, key in zip(targets, keys, strict=True):
                    svc.edit(order_id, {"delivery_address": key}, actor=name, idempotency_key=key)

        batch()
        ack.send(("acked", name, keys))
        done += size
    store.close()
    ack.send(("done", name, []))


def _check(opener: Opener, ids: list[str], acked: list[str], maybe: list[list[str]]) -> None:
    """No lost update, no duplicate or missing entry, every acknowledged key once."""
    store = opener()
    svc = OrderService(store)
    with store.transaction() as tx:
        missing = [k for k in acked if tx.get_idempotent(k) is None]
        in_flight = [[tx.get_idempotent(k) is not None for k in keys] for keys in maybe]
    assert missing == []
    assert all(all(flags) or not any(flags) for flags in in_flight)  # atomic batches
    committed = set(acked) | {
        k for keys, f in zip(maybe, in_flight, strict=True) for k in keys if all(f)
    }
    edits = Counter[str]()
    keys_seen = Counter[str]()
    for order_id in ids:
        order = svc.get(order_id)
        chain = store.audit_chain(order_id)
        entries = [decode(data) for _, data in chain]
        assert [e.seq for e in entries] == list(range(order.version + 1))  # no gap, no twin
        for e in entries[1:]:
            edits[order_id] += 1
            assert e.idempotency_key is not None
            keys_seen[e.idempotency_key] += 1
    assert set(keys_seen) == committed and set(keys_seen.values()) == {1}  # each once
    assert sum(edits.values()) == len(committed)  # no lost update
    svc.audit.verify(deep=True)
    store.close()


def _run(opener: Opener, ids: list[str], per_worker: int, kill: tuple[int, float] | None) -> None:
    """Run the writers; with ``kill = (n, delay)``, SIGKILL the first writer ``delay``
    seconds after it began its ``n``-th batch (timed from its own messages, so that the
    kill lands while it still writes, whatever the machine's speed; the victim waits for
    the parent's go after each "begin", so it cannot finish unseen)."""
    ctx = mp.get_context("fork")
    names = [f"w{n}" for n in range(WORKERS)]
    victim = names[0] if kill is not None else None
    pipes = {n: ctx.Pipe(duplex=False) for n in names}
    go_recv, go_send = ctx.Pipe(duplex=False)
    procs = {
        n: ctx.Process(
            target=_writer,
            args=(opener, n, ids, per_worker, pipes[n][1], go_recv if n == victim else None),
            daemon=True,
        )
        for n in names
    }
    for p in procs.values():
        p.start()
    for _, send in pipes.values():
        send.close()  # the parent keeps only the reading ends
    go_recv.close()
    readers = {pipes[n][0]: n for n in names}
    kill_at = float("inf")
    begun = Counter[str]()
    open_batches: dict[str, list[str]] = {}
    acked: list[str] = []

    def take(conn: mp_connection.Connection) -> None:
        nonlocal kill_at
        try:
            kind, name, keys = conn.recv()
        except EOFError:  # the victim's pipe, once no live writer holds a copy of its end
            del readers[conn]
            return
        if kind == "begin":
            open_batches[name] = keys
            begun[name] += 1
            if name == victim:
                if kill is not None and begun[name] == kill[0]:
                    kill_at = time.monotonic() + kill[1]
                if procs[name].exitcode is None:  # not after its kill, while draining
                    go_send.send("go")
        elif kind == "acked":  # acknowledged means: sent on the pipe
            acked.extend(keys)
            open_batches.pop(name, None)
        else:
            del readers[conn]

    deadline = time.monotonic() + 600
    while readers:
        alive = sorted(readers.values())
        assert time.monotonic() < deadline, f"the writers did not finish: {alive}"
        if victim is not None and procs[victim].exitcode is None and time.monotonic() >= kill_at:
            pid = procs[victim].pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            procs[victim].join()
            # what it sent before it died is all in the pipe now; writers still running
            # hold copies of its writing end (forked), so EOF may never come
            dead = pipes[victim][0]
            while dead in readers and dead.poll(0):
                take(dead)
            readers.pop(dead, None)
        for conn in mp_connection.wait(list(readers), timeout=0.001):
            assert isinstance(conn, mp_connection.Connection)
            take(conn)
    for name, p in procs.items():
        p.join(30)
        if name != victim:
            assert p.exitcode == 0, f"{name} exited with {p.exitcode}"
    if victim is not None:
        assert procs[victim].exitcode == -signal.SIGKILL, "the victim finished before its kill"
        assert acked, "nothing was acknowledged"
    _check(opener, ids, acked, list(open_batches.values()))


@pytest.mark.slow
def test_four_processes_contested_updates_lose_nothing(opener: Opener) -> None:
    ids = _seed(opener)
    _run(opener, ids, UPDATES // WORKERS, None)


@pytest.mark.slow
def test_sigkill_of_one_writer_mid_batch_loses_nothing_acknowledged(opener: Opener) -> None:
    ids = _seed(opener)
    rng = random.Random(20260122)
    _run(opener, ids, 150, (rng.randint(5, 25), rng.uniform(0, 0.003)))


def test_conflicts_are_conflicts_not_lost_updates(tmp_path: Path) -> None:
    """The retry helper only retries conflicts (sanity for the writers above)."""
    calls = 0

    @retry_on_conflict(attempts=2, sleep=lambda s: None)
    def once() -> None:
        nonlocal calls
        calls += 1
        raise ConcurrencyConflict("o", 0)

    with pytest.raises(ConcurrencyConflict):
        once()
    assert calls == 2
