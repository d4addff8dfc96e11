"""SQLite queues writes until commit; it must still behave exactly like the memory store.

Random programs of writes, reads, nested savepoints that fail or succeed, and reads
that force the queue out to SQLite half-way through a savepoint are run against both
stores; every read must agree, and so must what a fresh connection finds afterwards.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orderflow.adapters.memory import MemoryStore
from orderflow.adapters.sqlite import SqliteStore
from orderflow.audit import leaf_hash
from orderflow.clock import FrozenClock
from orderflow.domain import OrderLine, new_order
from orderflow.exceptions import ConcurrencyConflict
from orderflow.ports import Store, StoreTx
from orderflow.service import OrderDraft, OrderService
from orderflow.testing.contracts import START, seeded_service

KEYS = st.sampled_from(["a", "b", "c", "F1/a", "F1/b", "F2/a"])
KINDS = st.sampled_from(["stock", "cap"])
ORDER_IDS = st.sampled_from(["o1", "o2", "o3"])


class Boom(Exception):
    """Raised inside a savepoint that the program wants rolled back."""


@functools.cache
def _order(oid: str) -> Any:
    """The same order (same random token) for both stores."""
    order, _ = new_order(
        number=f"HY20260511-{oid[1:]}",
        customer_id="C",
        lines=[OrderLine("P", 1)],
        requested_date=dt.date(2026, 6, 1),
        factory_id="NB1",
        initial_stage="pending_review",
        created_at=START,
        order_id=oid,
    )
    return order


leaf_ops = st.one_of(
    st.tuples(st.just("put"), KINDS, KEYS, st.text("xyz0", min_size=1, max_size=3)),
    st.tuples(st.just("delete"), KINDS, KEYS),
    st.tuples(st.just("get"), KINDS, KEYS),
    st.tuples(st.just("list"), KINDS, st.sampled_from(["", "F1/", "F2/"])),
    st.tuples(st.just("audit"), st.sampled_from(["x", "y"]), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("idem"), st.sampled_from(["k1", "k2", "k3"])),
    st.tuples(st.just("insert"), ORDER_IDS),
    st.tuples(st.just("advance"), ORDER_IDS),
    st.tuples(st.just("readdress"), ORDER_IDS, st.text("ab", min_size=1, max_size=2)),
    st.tuples(st.just("find"), ORDER_IDS),
    st.tuples(st.just("store_read")),
)
ops = st.recursive(
    st.lists(leaf_ops, max_size=6),
    lambda inner: st.lists(
        st.one_of(leaf_ops, st.tuples(st.just("savepoint"), inner, st.booleans())), max_size=5
    ),
    max_leaves=25,
)
programs = st.lists(st.tuples(ops, st.booleans()), min_size=1, max_size=4)


def _run(store: Store, tx: StoreTx, program: list[Any], out: list[Any]) -> None:
    for op in program:
        name = op[0]
        try:
            if name == "put":
                tx.put_doc(op[1], op[2], op[3])
            elif name == "delete":
                tx.delete_doc(op[1], op[2])
            elif name == "get":
                out.append(tx.get_doc(op[1], op[2]))
            elif name == "list":
                out.append(tx.docs(op[1], op[2]))
            elif name == "audit":
                head = tx.chain_head(op[1])
                seq = 0 if head is None else head.seq + 1
                tx.append_audit(op[1], seq, op[2], leaf_hash(op[2]))
            elif name == "idem":
                out.append(tx.get_idempotent(op[1]))
                tx.put_idempotent(op[1], "fp", f"r{len(out)}")
            elif name == "insert":
                tx.insert_order(_order(op[1]))
            elif name == "advance":
                old = tx.get_order(op[1])
                if old is not None:
                    tx.update_order(attrs.evolve(old, version=old.version + 1), old.version)
            elif name == "readdress":
                old = tx.get_order(op[1])
                if old is not None:
                    new = attrs.evolve(old, version=old.version + 1, delivery_address=op[2])
                    tx.update_order(new, old.version)
            elif name == "find":
                out.append(tx.find_order_id("number", f"HY20260511-{op[1][1:]}"))
                out.append(tx.get_order(op[1]))
            elif name == "store_read":
                out.append((store.audit_size(), store.audit_entries()))
            else:  # a nested savepoint, failing at its end when op[2]
                try:
                    with tx.savepoint():
                        _run(store, tx, op[1], out)
                        if op[2]:
                            raise Boom
                except Boom:
                    out.append("rolled back")
        except ConcurrencyConflict:
            out.append("conflict")


def _observe(store: Store) -> list[Any]:
    with store.transaction() as tx:
        seen: list[Any] = [tx.docs("stock"), tx.docs("cap")]
        seen += [tx.get_order(o) for o in ("o1", "o2", "o3")]
        seen += [tx.get_idempotent(k) for k in ("k1", "k2", "k3")]
        seen += [tx.chain_head(c) for c in ("x", "y")]
    return [*seen, store.audit_entries()]


def _execute(store: Store, program: list[Any]) -> list[Any]:
    out: list[Any] = []
    for body, fail in program:
        try:
            with store.transaction() as tx:
                _run(store, tx, body, out)
                if fail:
                    raise Boom
        except Boom:
            out.append("transaction rolled back")
        out.append(_observe(store))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
@example([([("insert", "o1")], False), ([("advance", "o1"), ("readdress", "o1", "a")], False)])
def test_sqlite_agrees_with_the_memory_store(program: list[Any]) -> None:
    expected = _execute(MemoryStore(), program)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wb.db"
        sqlite = SqliteStore(path, synchronous="OFF")
        try:
            assert _execute(sqlite, program) == expected
        finally:
            sqlite.close()
        fresh = SqliteStore(path)  # a new connection reads only what was committed
        try:
            assert _observe(fresh) == expected[-1]
        finally:
            fresh.close()


def test_a_batch_of_operations_survives_a_failed_operation_in_the_middle(tmp_path: Path) -> None:
    """Service-level: one batch transaction, an operation that fails half-way through."""
    store = SqliteStore(tmp_path / "batch.db", synchronous="OFF")
    svc = seeded_service(store)
    draft = OrderDraft("C001", (OrderLine("HV-100", 10, "10"),), dt.date(2026, 7, 1), "NB1")
    with store.transaction():
        a = svc.submit(draft, actor="s").order
        svc.fire(a.id, "lock_kitting", actor="p")
        try:
            with store.transaction() as tx:
                tx.put_doc("stock", "Q23-7", "0|0|0")
                store.audit_size()  # forces the queue out while the savepoint is open
                raise Boom
        except Boom:
            pass
        b = svc.submit(draft, actor="s").order
    assert isinstance(svc.clock, FrozenClock)
    assert svc.stock("Q23-7").reserved == 10
    assert [o.id for o in sorted(store.orders(), key=lambda o: o.number)] == [a.id, b.id]
    svc.audit.verify(deep=True)
    reopened = OrderService(SqliteStore(tmp_path / "batch.db"), clock=svc.clock)
    assert reopened.stock("Q23-7").reserved == 10
    reopened.audit.verify(deep=True)
    store.close()
    reopened.store.close()


def test_a_listing_sends_only_the_queued_writes_of_its_own_kind(tmp_path: Path) -> None:
    """A listing read from SQLite must see this transaction's writes of its kind; queued
    writes of other kinds stay queued (a flush per listing made every batch of a year
    write half-way, and on PostgreSQL it is a round trip that takes row locks early)."""
    store = SqliteStore(tmp_path / "q.db", synchronous="OFF")
    with store.transaction() as tx:
        tx.put_doc("stock", "K1", "5")
        assert tx.docs("cap", "F1/") == []
        assert tx.pending()  # the stock write is still queued
        tx.put_doc("cap", "F1/a", "1")
        assert tx.docs("cap", "F2/") == []  # its kind is queued: written out first
        assert not tx.pending()
    store.close()
