"""PostgresStore: adapter-level behaviour against a real PostgreSQL server (issue 4).

Covers the schema migrations, the write path's conflict detection (version check,
``UNIQUE (chain, seq)``, row and document locks, lock timeouts), savepoints, documents,
the integrator that numbers the global log (threads, processes, out-of-order commits),
raw-SQL tampering caught by ``verify_log``, and the two-process race: 10,000 attempts,
zero lost updates, every loser gets ``ConcurrencyConflict``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import random
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from orderflow.adapters.postgres import MIGRATIONS, PostgresStore
from orderflow.audit import (
    Checkpoint,
    EntryType,
    encode,
    entry_link,
    leaf_hash,
    next_entry,
    verify_log,
)
from orderflow.domain.order import Order, OrderLine, new_order
from orderflow.exceptions import (
    ConcurrencyConflict,
    InputError,
    MissingExtra,
    StoreError,
    TamperDetected,
)
from tests.adapters.conftest import pg_execute

pg = pytest.mark.postgres
AT = dt.datetime(2026, 1, 22, 2, tzinfo=dt.UTC)
T0 = 1_768_982_400_000_000
Factory = Callable[..., PostgresStore]


# --- helpers (module level: the process workers import them) -------------------------------
def make_order(n: int, **changes: Any) -> Order:
    """An order numbered ``HY20260122-<n>`` with id ``o<n>``."""
    order, _ = new_order(
        number=f"HY20260122-{n}",
        customer_id="C001",
        lines=[OrderLine("HV-100", 100, "10")],
        requested_date=dt.date(2026, 3, 1),
        factory_id="NB1",
        initial_stage="pending_review",
        created_at=AT,
        order_id=f"o{n}",
    )
    return attrs.evolve(order, **changes) if changes else order


def append_next(tx: Any, origin: str, chain: str, at: int, actor: str = "wang.li") -> int:
    """Append the next entry of ``chain`` (built from ``tx.chain_head``); return its seq."""
    head = tx.chain_head(chain)
    kind = EntryType.CREATED if head is None else EntryType.FIELD_UPDATE
    entry = next_entry(head, origin=origin, order_id=chain, type=kind, actor=actor, at=at)
    data = encode(entry)
    tx.append_audit(chain, entry.seq, data, leaf_hash(data))
    return entry.seq


def create_orders(store: PostgresStore, numbers: range) -> list[str]:
    """Insert orders with their ``created`` entries, one transaction each."""
    ids = []
    for n in numbers:
        order = make_order(n)
        with store.transaction() as tx:
            tx.insert_order(order)
            append_next(tx, store.origin, order.id, T0 + n)
        ids.append(order.id)
    return ids


def log_stats(url: str, schema: str) -> tuple[int, int, int, int, int]:
    """``(rows, numbered rows, distinct indices, min index, max index)`` of the audit log."""
    rows = pg_execute(
        url,
        f"SELECT count(*), count(idx), count(DISTINCT idx), COALESCE(min(idx), -1), "
        f'COALESCE(max(idx), -1) FROM "{schema}".audit_log',
    )
    a, b, c, d, e = rows[0]
    return int(a), int(b), int(c), int(d), int(e)


def assert_contiguous(store: PostgresStore, url: str) -> int:
    """After integration every row has exactly one index and indices are 0..n-1."""
    store.integrate()
    rows, numbered, distinct, low, high = log_stats(url, store.schema)
    assert rows == numbered == distinct == high + 1
    assert low == (0 if rows else -1)
    assert store.audit_size() == rows
    return rows


def race_worker(
    url: str, schema: str, ids: list[str], attempts: int, seed: int, barrier: Any, out: Any
) -> None:
    """Read the version, then update conditionally and append the chain's next entry."""
    store = PostgresStore(url, schema=schema, origin="plant1.example/pg-test", pool_size=1)
    rng = random.Random(seed)
    wins = losses = 0
    barrier.wait()
    try:
        for i in range(attempts):
            order_id = rng.choice(ids)
            try:
                with store.transaction() as tx:
                    current = tx.get_order(order_id)
                    assert current is not None
                    changed = attrs.evolve(current, version=current.version + 1)
                    tx.update_order(changed, current.version)
                    append_next(tx, store.origin, order_id, T0 + i, actor=f"p{seed}")
                wins += 1
            except ConcurrencyConflict:
                losses += 1
    finally:
        store.close()
    out.put((wins, losses))


def writer_worker(
    url: str, schema: str, name: str, writes: int, shared: list[str], barrier: Any, out: Any
) -> None:
    """Append to an own chain and to shared ones, integrating now and then."""
    store = PostgresStore(url, schema=schema, origin="plant1.example/pg-test", pool_size=2)
    rng = random.Random(name)
    done = 0
    barrier.wait()
    try:
        for i in range(writes):
            chain = name if i % 2 else rng.choice(shared)
            try:
                with store.transaction() as tx:
                    append_next(tx, store.origin, chain, T0 + i)
                done += 1
            except ConcurrencyConflict:
                pass
            if i % 25 == 0:
                store.integrate()
    finally:
        store.close()
    out.put(done)


def fast_commit(url: str) -> str:
    """``url`` with ``synchronous_commit=off`` for the session: the loops below test
    locking and visibility, not durability, and need not wait for a WAL flush per commit."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(url, options="-c synchronous_commit=off")


def _spawn(target: Callable[..., None], arglists: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``target`` in one spawned process per arglist; return what each put on the queue."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(arglists))
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, out)) for args in arglists]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0, f"worker exited with {p.exitcode}"
    return results


# --- the extra ------------------------------------------------------------------------------
def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtra, match=r'pip install "orderflow\[postgres\]"'):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none")


def test_schema_name_is_checked() -> None:
    with pytest.raises(InputError, match="schema"):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none", schema='x"; DROP TABLE orders')


def test_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="connecting") as info:
        PostgresStore("postgresql://nobody:secret@127.0.0.1:1/none", connect_timeout=2)
    assert "secret" not in str(info.value)
    assert info.value.__cause__ is not None


# --- migrations -----------------------------------------------------------------------------
@pg
def test_migrations_are_idempotent(pg_store_factory: Factory, postgres_url: str) -> None:
    first = pg_store_factory()
    create_orders(first, range(1, 3))
    again = pg_store_factory()
    assert again.schema_version() == first.schema_version() == MIGRATIONS[-1][0]
    rows = pg_execute(postgres_url, f'SELECT version FROM "{first.schema}".schema_migrations')
    assert rows == [(v,) for v, _, _ in MIGRATIONS]
    assert sorted(o.id for o in again.orders()) == ["o1", "o2"]


@pg
def test_concurrent_first_opens_migrate_once(
    pg_store_factory: Factory, postgres_url: str, pg_schema: str
) -> None:
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            pg_store_factory()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert pg_execute(postgres_url, f'SELECT count(*) FROM "{pg_schema}".schema_migrations') == [
        (len(MIGRATIONS),)
    ]


@pg
def test_a_newer_schema_version_is_refused(pg_store_factory: Factory) -> None:
    store = pg_store_factory()
    store.execute_raw(
        "INSERT INTO schema_migrations (version, description) VALUES (%s, %s)", (99, "future")
    )
    with pytest.raises(StoreError, match="version 99, newer than this orderflow knows"):
        pg_store_factory()


# --- orders and the version check -----------------------------------------------------------
@pg
def test_orders_round_trip_and_lookups(pg_store: PostgresStore) -> None:
    order = make_order(887, erp_id="10042", deadline=AT + dt.timedelta(hours=2))
    with pg_store.transaction() as tx:
        tx.insert_order(order)
    with pg_store.transaction() as tx:
        assert tx.get_order(order.id) == order
        assert tx.get_order(order.id, for_update=True) == order
        assert tx.get_order("nope") is None
        assert tx.find_order_id("number", order.number) == order.id
        assert tx.find_order_id("query_token_hash", order.query_token_hash) == order.id
        assert tx.find_order_id("erp_id", "10042") == order.id
        assert tx.find_order_id("number", "HY20260122-1") is None
        with pytest.raises(InputError):
            tx.find_order_id("customer_id", "C001")
    assert list(pg_store.orders()) == [order]


@pg
def test_duplicate_order_is_a_conflict_and_the_transaction_goes_on(
    pg_store: PostgresStore,
) -> None:
    with pg_store.transaction() as tx:
        tx.insert_order(make_order(1))
    with pg_store.transaction() as tx:
        with pytest.raises(ConcurrencyConflict):
            tx.insert_order(make_order(1))  # same id
        with pytest.raises(ConcurrencyConflict):
            tx.insert_order(attrs.evolve(make_order(2), number="HY20260122-1"))  # same number
        tx.insert_order(make_order(3))
        # in a savepoint the check may go out ahead: the savepoint's end raises it
        with pytest.raises(ConcurrencyConflict), tx.savepoint():
            tx.insert_order(attrs.evolve(make_order(4), number="HY20260122-3"))

        def two_inserts() -> None:  # the second's check reads the first's answer
            with tx.savepoint():
                tx.insert_order(make_order(4))
                tx.insert_order(attrs.evolve(make_order(5), number="HY20260122-1"))

        with pytest.raises(ConcurrencyConflict):
            two_inserts()
        with tx.savepoint():
            tx.insert_order(make_order(6))
    assert sorted(o.id for o in pg_store.orders()) == ["o1", "o3", "o6"]


@pg
def test_stale_version_is_a_conflict(pg_store: PostgresStore) -> None:
    order = make_order(1)
    with pg_store.transaction() as tx:
        tx.insert_order(order)
    with pg_store.transaction() as tx:
        tx.update_order(attrs.evolve(order, version=1, stage="kitting_locked"), 0)
    with pytest.raises(ConcurrencyConflict) as info, pg_store.transaction() as tx:
        tx.update_order(attrs.evolve(order, version=1, stage="qc_released"), 0)
    assert info.value.order_id == "o1"
    assert info.value.expected_version == 0
    with pytest.raises(ConcurrencyConflict), pg_store.transaction() as tx:
        tx.update_order(attrs.evolve(make_order(2), version=1), 0)  # no such order
    (stored,) = pg_store.orders()
    assert (stored.version, stored.stage) == (1, "kitting_locked")


@pg
@pytest.mark.parametrize("orders", [1, 3])
def test_one_row_and_many_rows_are_written_alike(pg_store: PostgresStore, orders: int) -> None:
    # one row of a table goes out as a plain statement, several as arrays (unnest)
    made = [make_order(n) for n in range(orders)]
    with pg_store.transaction() as tx:
        for order in made:
            tx.insert_order(order)
            tx.put_doc("stock", order.id, "5")
            tx.put_idempotent(f"k-{order.id}", "fp", "r")
            tx.append_audit(order.id, 0, b"data", b"l" * 32)
    with pg_store.transaction() as tx:
        for order in made:
            edited = attrs.evolve(order, version=1, delivery_address="Quay 3", lines=(
                OrderLine("HV-200", 7, "2.5"),))  # fmt: skip
            tx.update_order(edited, 0)
            tx.update_order(attrs.evolve(edited, version=2, stage="kitting_locked"), 1)
            tx.delete_doc("stock", order.id)
    stored = {o.id: o for o in pg_store.orders()}
    for order in made:
        got = stored[order.id]
        assert (got.version, got.stage, got.delivery_address) == (2, "kitting_locked", "Quay 3")
        assert got.lines == (OrderLine("HV-200", 7, "2.5"),)
        assert [data for _, data in pg_store.audit_chain(order.id)] == [b"data"]
    with pg_store.transaction() as tx:
        assert tx.get_docs("stock", [o.id for o in made]) == {}
        assert all(tx.get_idempotent(f"k-{o.id}") == ("fp", "r") for o in made)

    def stale_updates() -> None:
        with pg_store.transaction() as tx:
            for order in made:  # every expected version is stale
                tx.update_order(attrs.evolve(order, version=1, stage="qc_released"), 0)

    with pytest.raises(ConcurrencyConflict):
        stale_updates()


@pg
def test_writer_blocked_on_a_row_lock_sees_the_new_version(pg_store: PostgresStore) -> None:
    order = make_order(1)
    with pg_store.transaction() as tx:
        tx.insert_order(order)
    locked, result = threading.Event(), []

    def holder() -> None:
        with pg_store.transaction() as tx:
            current = tx.get_order("o1", for_update=True)
            assert current is not None
            locked.set()
            time.sleep(0.3)
            tx.update_order(attrs.evolve(current, version=1), 0)

    t = threading.Thread(target=holder)
    t.start()
    locked.wait()
    with pg_store.transaction() as tx:
        current = tx.get_order("o1", for_update=True)  # waits for the holder's commit
        assert current is not None
        result.append(current.version)
    t.join()
    assert result == [1]


@pg
def test_lock_timeout_is_a_conflict_and_a_swallowed_error_commits_nothing(
    pg_store_factory: Factory,
) -> None:
    store = pg_store_factory(lock_timeout=0.2)
    with store.transaction() as tx:
        tx.insert_order(make_order(1))
    locked, release = threading.Event(), threading.Event()

    def holder() -> None:
        with store.transaction() as tx:
            tx.get_order("o1", for_update=True)
            locked.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    locked.wait()
    try:

        def swallow_and_commit() -> None:
            with store.transaction() as tx:
                tx.put_doc("stock", "Q23-7", "12")
                with pytest.raises(ConcurrencyConflict, match="lock timeout"):
                    tx.get_order("o1", for_update=True)

        with pytest.raises(StoreError, match="aborted by an error"):
            swallow_and_commit()

        # savepoints are write-behind too: one that no flush made real cannot undo a
        # failed statement, so a conflict inside one still ends the whole transaction
        def swallow_in_savepoint() -> None:
            with store.transaction() as tx:
                assert tx.get_doc("stock", "Q23-7") is None
                with pytest.raises(ConcurrencyConflict), tx.savepoint():
                    tx.get_order("o1", for_update=True)
                tx.put_doc("stock", "Q23-7", "11")

        with pytest.raises(StoreError, match="aborted by an error"):
            swallow_in_savepoint()
    finally:
        release.set()
        t.join()
    with store.transaction() as tx:
        assert tx.get_doc("stock", "Q23-7") is None


# --- audit rows -----------------------------------------------------------------------------
@pg
def test_unique_chain_seq_is_a_conflict(pg_store: PostgresStore) -> None:
    with pg_store.transaction() as tx:
        append_next(tx, pg_store.origin, "o1", T0)
    entry = next_entry(None, origin=pg_store.origin, order_id="o1", type="created",
                       actor="x", at=T0)  # fmt: skip
    data = encode(entry)

    def append_again() -> None:
        with pg_store.transaction() as tx:
            tx.append_audit("o1", 0, data, leaf_hash(data))

    with pytest.raises(ConcurrencyConflict, match="audit chain moved on"):
        append_again()
    assert pg_store.audit_size() == 1


@pg
def test_concurrent_appends_to_one_chain_the_second_conflicts(pg_store: PostgresStore) -> None:
    with pg_store.transaction() as tx:
        append_next(tx, pg_store.origin, "o1", T0)
    both_read, errors = threading.Barrier(2), []

    def writer(at: int) -> None:
        try:
            with pg_store.transaction() as tx:
                head = tx.chain_head("o1")
                both_read.wait()
                entry = next_entry(head, origin=pg_store.origin, order_id="o1",
                                   type="field_update", actor=f"w{at}", at=at)  # fmt: skip
                data = encode(entry)
                tx.append_audit("o1", entry.seq, data, leaf_hash(data))
        except ConcurrencyConflict as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(T0 + k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1
    assert pg_store.audit_size() == 2
    verify_log(pg_store.audit_entries())


@pg
def test_chain_head_sees_committed_entries_before_integration(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    with pg_store.transaction() as tx:
        append_next(tx, pg_store.origin, "o1", T0)
    with pg_store.transaction() as tx:
        append_next(tx, pg_store.origin, "o1", T0 + 1)
    assert log_stats(postgres_url, pg_store.schema)[:2] == (2, 0)  # nothing numbered yet
    with pg_store.transaction() as tx:
        head = tx.chain_head("o1")
        assert head is not None
        assert head.seq == 1
        assert tx.chain_head("o2") is None
    chain = pg_store.audit_chain("o1")
    assert [i for i, _ in chain] == [0, 1]
    assert [entry_link(d)[1] for _, d in chain] == [0, 1]
    assert head.leaf_hash == leaf_hash(chain[1][1])
    assert pg_store.audit_entries(1) == [chain[1][1]]
    assert pg_store.audit_entries(0, 1) == [chain[0][1]]
    assert pg_store.audit_chain("nobody") == []


# --- savepoints and rollback ----------------------------------------------------------------
@pg
def test_savepoint_rollback_keeps_the_outer_writes(pg_store: PostgresStore) -> None:
    with pg_store.transaction() as outer:
        outer.insert_order(make_order(1))
        append_next(outer, pg_store.origin, "o1", T0)

        def nested() -> None:
            with pg_store.transaction() as inner:
                assert inner is outer
                inner.insert_order(make_order(2))
                inner.put_doc("stock", "Q23-7", "12")
                raise RuntimeError("boom")

        def in_savepoint() -> None:
            with outer.savepoint():
                append_next(outer, pg_store.origin, "o1", T0 + 1)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            nested()
        with pytest.raises(RuntimeError):
            in_savepoint()
        with outer.savepoint():
            outer.put_doc("stock", "Q23-8", "5")
    assert [o.id for o in pg_store.orders()] == ["o1"]
    assert pg_store.audit_size() == 1
    with pg_store.transaction() as tx:
        assert tx.docs("stock") == [("Q23-8", "5")]


@pg
def test_an_exception_rolls_everything_back(pg_store: PostgresStore) -> None:
    def fail() -> None:
        with pg_store.transaction() as tx:
            tx.insert_order(make_order(1))
            append_next(tx, pg_store.origin, "o1", T0)
            tx.put_idempotent("req-1", "fp", "{}")
            tx.put_doc("stock", "Q23-7", "12")
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    assert list(pg_store.orders()) == []
    assert pg_store.audit_size() == 0
    with pg_store.transaction() as tx:
        assert tx.get_idempotent("req-1") is None
        assert tx.docs("stock") == []


@pg
def test_driver_errors_are_store_errors_with_the_cause(pg_store: PostgresStore) -> None:
    import psycopg

    with pytest.raises(StoreError, match="no_such_table") as info:
        pg_store.execute_raw("SELECT * FROM no_such_table")
    assert isinstance(info.value.__cause__, psycopg.errors.UndefinedTable)
    assert not isinstance(info.value, ConcurrencyConflict)


@pg
def test_pool_exhaustion_and_close(pg_store_factory: Factory) -> None:
    store = pg_store_factory(pool_size=1, pool_timeout=0.2)
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with store.transaction():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    inside.wait()
    try:
        with pytest.raises(StoreError, match="pool_size=1"), store.transaction():
            pass
    finally:
        release.set()
        t.join()
    with store.transaction() as tx:
        tx.put_doc("k", "a", "1")
    store.close()
    with pytest.raises(StoreError, match="closed"), store.transaction():
        pass


def _write_doc_in_child(store: PostgresStore) -> None:
    with store.transaction() as tx:
        tx.put_doc("k", "child", str(tx._c.info.backend_pid))  # the session it used
    store.close()


def _backend_pids(store: PostgresStore) -> set[int]:
    pool: Any = store._conns.pool
    return {c.info.backend_pid for c in pool._pool}  # psycopg_pool's idle connections


@pg
def test_a_read_beside_a_transaction_holding_the_only_connection_fails_at_once(
    pg_store_factory: Factory,
) -> None:
    store = pg_store_factory(pool_size=1, pool_timeout=20)
    started = time.monotonic()
    with store.transaction() as tx:
        tx.put_doc("t", "a", "1")
        with pytest.raises(StoreError, match="raise pool_size above 1"):
            store.audit_size()  # its own connection: none is left, and none will be
    assert time.monotonic() - started < 5  # not the pool's 20 s
    assert store.audit_size() == 0  # the connection went back: the store goes on
    with store.transaction() as tx:
        assert tx.get_doc("t", "a") == "1"


@pg
def test_a_forked_child_leaves_the_parents_connections_alone(pg_store: PostgresStore) -> None:
    with pg_store.transaction() as tx:
        tx.put_doc("k", "parent", "1")
    before = _backend_pids(pg_store)
    child = multiprocessing.get_context("fork").Process(
        target=_write_doc_in_child, args=(pg_store,)
    )
    child.start()
    child.join(30)
    assert child.exitcode == 0
    with pg_store.transaction() as tx:  # the same pooled session still works
        assert [k for k, _ in tx.docs("k")] == ["child", "parent"]
        child_pid = int(tx.get_doc("k", "child") or 0)
    assert before <= _backend_pids(pg_store)  # the pool may have grown, never lost one
    assert child_pid not in before  # the child opened its own session


# --- idempotency and documents --------------------------------------------------------------
@pg
def test_idempotency_records(pg_store: PostgresStore) -> None:
    with pg_store.transaction() as tx:
        assert tx.get_idempotent("req-1") is None
        tx.put_idempotent("req-1", "fp1", '{"ok":true}')
    with pg_store.transaction() as tx:
        assert tx.get_idempotent("req-1") == ("fp1", '{"ok":true}')
        with pytest.raises(ConcurrencyConflict):
            tx.put_idempotent("req-1", "fp2", "{}")
        tx.put_idempotent("req-2", "fp2", "{}")
    with pg_store.transaction() as tx:
        assert tx.get_idempotent("req-1") == ("fp1", '{"ok":true}')
        assert tx.get_idempotent("req-2") == ("fp2", "{}")


@pg
def test_an_idempotency_lookup_goes_ahead_once_the_transaction_has_begun(
    pg_store: PostgresStore,
) -> None:
    with pg_store.transaction() as tx:
        tx.put_idempotent("k", "fp", "r")
    with pg_store.transaction() as tx:
        assert tx.ask_idempotent("k") is None  # BEGIN rides with the plain lookup instead
        assert tx.get_doc("stock", "a") is None
        assert tx.ask_idempotent("k", lock_order="o-1") is None  # locked with the lookup
        ahead = tx.ask_idempotent("k")
        assert ahead is not None
        other = tx.ask_idempotent("other")  # one on the wire at a time: reads the first
        assert other is not None and other() is None
        assert ahead() == ("fp", "r")
        missing = tx.ask_idempotent("missing")
        assert missing is not None
        tx.put_idempotent("missing", "fp2", "r2")  # reads the answer first
        assert missing() == ("fp2", "r2")  # the cache: this transaction's own write


@pg
def test_a_lookup_sent_ahead_is_prepared_once_per_connection(
    pg_store_factory: Callable[..., PostgresStore],
) -> None:
    # an unnamed statement is parsed and planned on every send; a named one once per
    # connection, and it outlives a rolled-back transaction
    store = pg_store_factory(pool_size=1)
    for attempt in range(3):
        with contextlib.suppress(RuntimeError), store.transaction() as tx:
            assert tx.get_doc("stock", "a") is None  # the transaction has begun
            ahead = tx.ask_idempotent(f"k{attempt}")
            assert ahead is not None and ahead() is None
            if attempt == 1:
                raise RuntimeError("rolled back")
    with store.transaction() as tx:
        rows = tx._run(
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE starts_with(name, 'orderflow')"
        ).fetchall()
    named = [(name.split("_")[:3], runs) for name, runs in rows]
    assert named == [(["orderflow", "ahead", "idem"], 3)]


@pg
@pytest.mark.parametrize("undo", ["transaction", "savepoint", "raw sql"])
def test_the_lookups_sent_ahead_outlive_psycopgs_deallocate_all(
    pg_store_factory: Callable[..., PostgresStore], undo: str
) -> None:
    # once psycopg has prepared statements of its own on a connection (after a
    # statement's fifth run), a ROLLBACK, a DROP or an ALTER it sees makes it send
    # DEALLOCATE ALL, which drops the named lookups sent ahead as well
    store = pg_store_factory(pool_size=1)

    def ask(tx: Any, key: str) -> tuple[str, str] | None:
        assert tx.get_doc("stock", "a") is None  # the transaction has begun
        ahead = tx.ask_idempotent(key)
        assert ahead is not None
        return ahead()  # type: ignore[no-any-return]

    for attempt in range(8):
        with store.transaction() as tx:
            assert ask(tx, f"k{attempt}") is None
    with store.transaction() as tx:
        tx.put_idempotent("done", "fp", "r")
    if undo == "transaction":
        with contextlib.suppress(RuntimeError), store.transaction() as tx:
            tx.put_doc("t", "a", "1")
            tx.flush()
            raise RuntimeError("rolled back")
    elif undo == "savepoint":
        with store.transaction() as tx:
            tx.put_doc("t", "a", "1")
            with contextlib.suppress(RuntimeError), tx.savepoint():
                tx.put_doc("t", "b", "2")
                tx.flush()  # writes on both sides: the savepoint is on the server now
                raise RuntimeError("rolled back to the savepoint")
            assert ask(tx, "done") == ("fp", "r")
    else:
        store.execute_raw("DROP TABLE IF EXISTS no_such_table")
    with store.transaction() as tx:
        assert ask(tx, "done") == ("fp", "r")
    with store.transaction() as tx:
        assert tx.get_docs("t", ["a", "b"]) == ({"a": "1"} if undo == "savepoint" else {})


@pg
def test_a_lookup_dropped_behind_the_stores_back_is_a_conflict_then_prepared_again(
    pg_store_factory: Callable[..., PostgresStore],
) -> None:
    store = pg_store_factory(pool_size=1)
    with store.transaction() as tx:
        tx.put_idempotent("k", "fp", "r")
    for dropped in (False, True, False):
        with contextlib.ExitStack() as stack:
            if dropped:  # an integrator's session reset, say, on the pooled connection
                stack.enter_context(pytest.raises(ConcurrencyConflict, match="prepared"))
            with store.transaction() as tx:
                assert tx.get_doc("stock", "a") is None
                if dropped:
                    tx._run("DEALLOCATE ALL")
                ahead = tx.ask_idempotent("k")
                assert ahead is not None and ahead() == ("fp", "r")


@pg
def test_a_submission_in_its_own_transaction_waits_for_three_round_trips(
    pg_store_factory: Callable[..., PostgresStore],
) -> None:
    # the key's lookup (with BEGIN); the day's counter locked with the facts' reads; the
    # commit. The new-order check is sent ahead and read when the call's savepoint ends.
    import tempfile

    from psycopg import pq

    from orderflow.clock import FrozenClock
    from orderflow.service import OrderService
    from orderflow.testing.contracts import START, draft, seeded_service

    seeded_service(pg_store_factory()).submit(draft(100), actor="s")  # the index backfilled
    store = pg_store_factory(pool_size=1)
    svc = OrderService(store, clock=FrozenClock(START))
    svc.submit(draft(100), actor="s", idempotency_key="warm")  # master data now cached
    conn = store._conns.get()  # the pool's only connection
    store._conns.put(conn)
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            order = svc.submit(draft(100), actor="s", idempotency_key="traced").order
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
    answers = [i for i, line in enumerate(lines) if "\tReadyForQuery" in line]
    assert len(answers) == 4  # three waited for, one sent ahead
    counter = next(i for i, line in enumerate(lines) if "'counter'" in line)
    exposure = next(i for i, line in enumerate(lines) if "'exposure'" in line)
    assert not any(counter < i < exposure for i in answers)  # one round trip
    assert svc.get(order.id) == order


def _key_lookups() -> dict[str, str]:
    from orderflow.adapters import postgres_sql
    from orderflow.adapters.postgres_docs import _listing

    named = ["_SELECT_TAKEN", "_SELECT_IDEM", "_SELECT_ORDER", "_SELECT_HEAD", "_SELECT_DOC",
             "_SELECT_DOCS", "_LOCK_DOCS"]  # fmt: skip
    found = {name: getattr(postgres_sql, name) for name in named}
    found["listing"] = _listing("kind", "prefix/", None)[0]
    found["listing window"] = _listing("kind", "prefix/", 10)[0]
    for field in ("number", "erp_id", "query_token_hash"):  # as _PgTx._fetch_order_id asks
        found[f"order by {field}"] = (
            f"SELECT id FROM orders WHERE {field} = %s AND {field} <> '' LIMIT 1"
        )
    return found


@pg
@pytest.mark.parametrize("name", sorted(_key_lookups()))
def test_a_key_lookups_generic_plan_reads_an_index(
    pg_store: PostgresStore, postgres_url: str, name: str
) -> None:
    # prepared statements (psycopg's after 5 runs, the lookups sent ahead) keep a generic
    # plan made when the tables were small: a sequential scan would grow with the year
    import psycopg

    from orderflow.adapters import postgres_sql

    sql = postgres_sql._numbered(_key_lookups()[name]).decode()
    count = sql.count("$")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{pg_store.schema}"')
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE q AS {sql}".encode())
        args = ", ".join("NULL" for _ in range(count))
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN EXECUTE q({args})"))
    assert "Index" in plan and "Seq Scan" not in plan, plan


@pg
def test_prefetch_takes_the_declared_locks_in_the_same_round_trip(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    with pg_store.transaction() as tx:
        tx.put_doc("stock", "K1", "5")
        tx.put_doc("exposure", "C1", "10")
    nowait = (
        f"SELECT key FROM {pg_store.schema}.docs WHERE kind = %s AND key = %s FOR UPDATE NOWAIT"
    )
    with pg_store.transaction() as tx:
        tx.prefetch({"streak": ["F/P"]}, (), {"stock": ["K1", "K2"], "exposure": ["C1"]})
        for kind, key in (("stock", "K1"), ("exposure", "C1")):
            with pytest.raises(Exception, match="could not obtain lock"):
                pg_execute(postgres_url, nowait, (kind, key))
        # the reads for update they stand for are answered from the cache
        assert tx.get_docs("stock", ["K1"], for_update=True) == {"K1": "5"}
        assert tx.get_doc("exposure", "C1", for_update=True) == "10"
        assert tx.get_docs("stock", ["K2"], for_update=True) == {}  # absent: locked now
        tx.put_doc("stock", "K1", "4")
    assert pg_execute(postgres_url, nowait, ("stock", "K1")) == [("K1",)]


@pg
def test_a_listing_leaves_other_kinds_writes_queued(pg_store: PostgresStore) -> None:
    with pg_store.transaction() as tx:
        tx.put_doc("cap", "F1/a", "1")
    with pg_store.transaction() as tx:
        tx.put_doc("stock", "K1", "5")
        tx.prefetch({"stock": ["K2"], "streak": ["F1/P"]}, [("cap", "F1/")])
        assert tx.pending()  # no write went out to read the listing
        assert tx.docs("cap", "F1/") == [("F1/a", "1")]
        assert tx.docs("po", "K1/", limit=3) == []
        assert tx.pending()
        tx.put_doc("cap", "F1/b", "2")
        assert tx.docs("cap", "F2/") == []  # its kind is queued: written out first
        assert not tx.pending()
    with pg_store.transaction() as tx:
        assert tx.docs("cap") == [("F1/a", "1"), ("F1/b", "2")]
        assert tx.get_doc("stock", "K1") == "5"


@pg
def test_documents_upsert_delete_and_prefix_listing(pg_store: PostgresStore) -> None:
    keys = ["NB1/Q23-7", "NB1/Q23-8", "NB1/Z", "NB10/A", "NB1/é", "NB1/\U0001f600", "NB2/A", "NB"]
    with pg_store.transaction() as tx:
        for k in keys:
            tx.put_doc("stock", k, f"v-{k}")
        tx.put_doc("stock", "NB1/Q23-7", "updated")
        tx.put_doc("alert", "NB1/Q23-7", "other kind")
        tx.delete_doc("stock", "NB1/Z")
        tx.delete_doc("stock", "absent")
    with pg_store.transaction() as tx:
        assert tx.get_doc("stock", "NB1/Q23-7") == "updated"
        assert tx.get_doc("stock", "NB1/Z") is None
        assert tx.get_doc("stock", "NB1/Q23-7", for_update=True) == "updated"
        listed = tx.docs("stock", "NB1/")
        assert listed == [
            ("NB1/Q23-7", "updated"),
            ("NB1/Q23-8", "v-NB1/Q23-8"),
            ("NB1/é", "v-NB1/é"),
            ("NB1/\U0001f600", "v-NB1/\U0001f600"),
        ]
        assert [k for k, _ in tx.docs("stock", "NB1")] == [
            "NB1/Q23-7", "NB1/Q23-8", "NB1/é", "NB1/\U0001f600", "NB10/A",
        ]  # fmt: skip
        everything = [k for k, _ in tx.docs("stock")]
        assert everything == sorted(k for k in keys if k != "NB1/Z")
        assert tx.docs("stock", "NB1/\U0001f600") == [("NB1/\U0001f600", "v-NB1/\U0001f600")]
        assert tx.docs("stock", "X") == []
        assert tx.docs("alert", "") == [("NB1/Q23-7", "other kind")]


@pg
def test_locking_a_missing_document_serialises_its_creators(pg_store_factory: Factory) -> None:
    store = pg_store_factory(pool_size=8)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(10):
                with store.transaction() as tx:
                    body = tx.get_doc("counter", "c", for_update=True)
                    time.sleep(0.001)
                    tx.put_doc("counter", "c", str(int(body or "0") + 1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.transaction() as tx:
        assert tx.get_doc("counter", "c") == "60"


# --- the integrator -------------------------------------------------------------------------
@pg
def test_a_row_committed_late_is_numbered_later_never_skipped(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    """T1 inserts first (lower id) but commits after T2's row was already numbered."""
    inserted, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with pg_store.transaction() as tx:
            append_next(tx, pg_store.origin, "slow", T0)
            tx.flush()  # written now (as before a listing), committed later
            inserted.set()
            release.wait(10)

    t = threading.Thread(target=slow_writer)
    t.start()
    inserted.wait()
    with pg_store.transaction() as tx:
        append_next(tx, pg_store.origin, "fast", T0 + 1)
    assert pg_store.audit_size() == 1  # only committed rows are numbered
    release.set()
    t.join()
    assert pg_store.integrate() == 1
    rows = pg_execute(
        postgres_url, f'SELECT chain, id, idx FROM "{pg_store.schema}".audit_log ORDER BY idx'
    )
    (fast, fast_id, fast_idx), (slow, slow_id, slow_idx) = rows
    assert (fast, slow) == ("fast", "slow")
    assert slow_id < fast_id and (fast_idx, slow_idx) == (0, 1)
    assert pg_store.integrate() == 0
    assert [i for i, _ in pg_store.audit_chain("slow")] == [1]
    verify_log(pg_store.audit_entries())


@pg
def test_integration_is_contiguous_with_writer_threads(
    pg_store_factory: Factory, postgres_url: str
) -> None:
    store = pg_store_factory(pool_size=12, batch_size=7)
    shared = ["s1", "s2", "s3"]
    stop, errors, done = threading.Event(), [], [0]
    lock = threading.Lock()

    def writer(name: str) -> None:
        rng = random.Random(name)
        try:
            for i in range(60):
                chain = name if i % 2 else rng.choice(shared)
                try:
                    with store.transaction() as tx:
                        append_next(tx, store.origin, chain, T0 + i)
                    with lock:
                        done[0] += 1
                except ConcurrencyConflict:
                    pass
        except BaseException as exc:
            errors.append(exc)

    def integrator() -> None:
        try:
            while not stop.is_set():
                store.integrate()
        except BaseException as exc:
            errors.append(exc)

    helpers = [threading.Thread(target=integrator) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(6)]
    for t in helpers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in helpers:
        t.join()
    assert errors == []
    assert assert_contiguous(store, postgres_url) == done[0]
    verify_log(store.audit_entries())


@pg
def test_integration_is_contiguous_with_writer_processes(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    shared = ["s1", "s2"]
    counts = _spawn(
        writer_worker,
        [(fast_commit(postgres_url), pg_store.schema, f"p{k}", 150, shared) for k in range(3)],
    )
    assert assert_contiguous(pg_store, postgres_url) == sum(counts)
    verify_log(pg_store.audit_entries())


# --- tampering with raw SQL -----------------------------------------------------------------
def _build_log(store: PostgresStore) -> tuple[list[bytes], Checkpoint]:
    """Three orders, four entries each, interleaved: A0 B0 C0 A1 B1 C1 A2 ..."""
    for step in range(4):
        for chain in ("A", "B", "C"):
            with store.transaction() as tx:
                append_next(tx, store.origin, chain, T0 + step)
    entries = store.audit_entries()
    return entries, verify_log(entries)


def _index_of(entries: list[bytes], chain: str, seq: int) -> int:
    key = f'"{chain}"'.encode()[1:-1]
    return next(i for i, d in enumerate(entries) if entry_link(d)[:2] == (key, seq))


@pg
def test_tamper_update_of_an_entry_is_reported_at_that_entry(pg_store: PostgresStore) -> None:
    entries, checkpoint = _build_log(pg_store)
    k = _index_of(entries, "B", 1)
    forged = entries[k].replace(b'"actor":"wang.li"', b'"actor":"zhao.mu"')
    pg_store.execute_raw("UPDATE audit_log SET data = %s WHERE idx = %s", (forged, k))
    with pytest.raises(TamperDetected) as info:
        verify_log(pg_store.audit_entries(), checkpoint)
    assert (info.value.first_bad_index, info.value.kind) == (k, "edited")


@pg
def test_tamper_delete_of_an_entry_is_reported(pg_store: PostgresStore) -> None:
    entries, checkpoint = _build_log(pg_store)
    k = _index_of(entries, "C", 1)
    nxt = _index_of(entries, "C", 2)
    pg_store.execute_raw("DELETE FROM audit_log WHERE idx = %s", (k,))
    tampered = pg_store.audit_entries()
    assert len(tampered) == len(entries) - 1
    with pytest.raises(TamperDetected) as info:
        verify_log(tampered, checkpoint)
    # C seq 2 moved up one place and is now the first entry that does not fit
    assert (info.value.first_bad_index, info.value.kind) == (nxt - 1, "missing")


@pg
def test_tamper_delete_of_the_tail_is_truncation(pg_store: PostgresStore) -> None:
    entries, checkpoint = _build_log(pg_store)
    pg_store.execute_raw("DELETE FROM audit_log WHERE idx = %s", (len(entries) - 1,))
    with pytest.raises(TamperDetected) as info:
        verify_log(pg_store.audit_entries(), checkpoint)
    assert (info.value.first_bad_index, info.value.kind) == (len(entries) - 1, "truncated")


@pg
def test_tamper_swap_of_two_entries_of_one_order_is_reordering(pg_store: PostgresStore) -> None:
    entries, checkpoint = _build_log(pg_store)
    a, b = _index_of(entries, "A", 1), _index_of(entries, "A", 2)
    pg_store.execute_raw(
        "UPDATE audit_log SET data = CASE idx WHEN %s THEN %s ELSE %s END WHERE idx IN (%s, %s)",
        (a, entries[b], entries[a], a, b),
    )
    with pytest.raises(TamperDetected) as info:
        verify_log(pg_store.audit_entries(), checkpoint)
    assert (info.value.first_bad_index, info.value.kind) == (a, "reordered")


@pg
def test_tamper_renumbering_rows_across_orders_breaks_the_root(pg_store: PostgresStore) -> None:
    entries, checkpoint = _build_log(pg_store)
    a, b = _index_of(entries, "A", 1), _index_of(entries, "B", 1)  # adjacent: 3 and 4
    older = verify_log(entries[:a])
    for sql, params in (
        ("UPDATE audit_log SET idx = 1000000 WHERE idx = %s", (a,)),
        ("UPDATE audit_log SET idx = %s WHERE idx = %s", (a, b)),
        ("UPDATE audit_log SET idx = %s WHERE idx = 1000000", (b,)),
    ):
        pg_store.execute_raw(sql, params)
    tampered = pg_store.audit_entries()
    verify_log(tampered)  # each order's chain alone still looks fine ...
    with pytest.raises(TamperDetected) as info:
        verify_log(tampered, checkpoint, checkpoints=[older])  # ... the checkpoint does not
    assert (info.value.first_bad_index, info.value.kind) == (a, "root_mismatch")


# --- the race -------------------------------------------------------------------------------
@pg
def test_two_processes_race_10000_times_without_a_lost_update(
    pg_store: PostgresStore, postgres_url: str
) -> None:
    ids = create_orders(pg_store, range(1, 4))
    attempts = 5_000
    results = _spawn(
        race_worker,
        [(fast_commit(postgres_url), pg_store.schema, ids, attempts, seed) for seed in (1, 2)],
    )
    wins = sum(w for w, _ in results)
    losses = sum(n for _, n in results)
    assert wins + losses == 2 * attempts  # every attempt either won or got ConcurrencyConflict
    assert losses > 0, "the processes never raced; the test proves nothing"
    versions = {o.id: o.version for o in pg_store.orders()}
    assert sum(versions.values()) == wins  # zero lost updates
    rows = assert_contiguous(pg_store, postgres_url)
    assert rows == len(ids) + wins  # one audit entry per successful update (+ created)
    entries = pg_store.audit_entries()
    verify_log(entries)
    for order_id, version in versions.items():
        chain = pg_store.audit_chain(order_id)
        assert [entry_link(d)[1] for _, d in chain] == list(range(version + 1))


# --- master data cached between transactions ------------------------------------------------
@pg
def test_master_data_cache_sees_every_committed_change(pg_store_factory: Factory) -> None:
    reader, writer = pg_store_factory(), pg_store_factory()
    with writer.transaction() as tx:
        tx.put_doc("product", "HV-1", "v1")
        tx.put_doc("product", "HV-2", "w1")
    with reader.transaction() as tx:
        assert tx.get_doc("product", "HV-1") == "v1"
        assert tx.docs("product") == [("HV-1", "v1"), ("HV-2", "w1")]
    with reader.transaction() as tx:  # served from the process cache: no statement
        assert tx.get_docs("product", ["HV-1", "HV-2", "HV-3"]) == {"HV-1": "v1", "HV-2": "w1"}
    with writer.transaction() as tx:  # another process's commit moves the generation on
        tx.put_doc("product", "HV-1", "v2")
    with reader.transaction() as tx:
        assert tx.get_doc("product", "HV-1") == "v2"
        assert tx.docs("product") == [("HV-1", "v2"), ("HV-2", "w1")]
    writer.execute_raw("DELETE FROM docs WHERE kind = 'product' AND key = 'HV-2'")  # raw SQL
    with reader.transaction() as tx:
        assert tx.get_doc("product", "HV-2") is None
        tx.put_doc("product", "HV-3", "mine")  # own writes never reach the shared cache ...
        assert tx.docs("product") == [("HV-1", "v2"), ("HV-3", "mine")]

    def write_then_fail() -> None:
        with reader.transaction() as tx:
            tx.put_doc("product", "HV-4", "rolled back")
            assert tx.get_doc("product", "HV-4") == "rolled back"
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        write_then_fail()
    with reader.transaction() as tx:  # ... so a rolled-back one is not seen after
        assert tx.get_doc("product", "HV-4") is None
        assert tx.get_doc("product", "HV-3") == "mine"
