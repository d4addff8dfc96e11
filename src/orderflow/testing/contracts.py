"""The contract every store adapter passes unchanged (needs pytest).

Subclass :class:`StoreContract` in your test suite and provide two fixtures::

    from orderflow.testing.contracts import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            s = MyStore(...)
            yield s
            s.close()

        def tamper(self, store, index, data):   # optional: overwrite stored audit bytes
            ...

The tests drive the store directly and through :class:`~orderflow.service.OrderService`:
atomicity (a failed operation writes nothing), version checks, idempotency, audit
chains that verify and replay, and tamper detection.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from orderflow._extras import require

require("pytest", "testing")
import pytest

from orderflow.audit import leaf_hash
from orderflow.clock import FrozenClock
from orderflow.domain import (
    BomLine,
    Component,
    Customer,
    OrderLine,
    Product,
    ProductKind,
    new_order,
)
from orderflow.exceptions import (
    ConcurrencyConflict,
    InputError,
    NotFound,
    TamperDetected,
    TransitionRefused,
)
from orderflow.ports import Store
from orderflow.service import NO_SUCH_CODE, NO_SUCH_SLIP, OrderDraft, OrderService
from orderflow.testing.contract_evidence import EvidenceContract
from orderflow.testing.contract_idempotency import IdempotencyContract
from orderflow.testing.contract_stock import StockContract
from orderflow.workflow import CapacitySlot

__all__ = ["StoreContract", "seeded_service"]

START = pendulum.datetime(2026, 5, 11, 1, tz="UTC")


def seeded_service(store: Store, *, seal_rings: int = 1000) -> OrderService:
    """A service over ``store`` with one customer, product, component and capacity slot."""
    svc = OrderService(store, clock=FrozenClock(START))
    svc.put_customer(Customer("C001", "Ningbo Valves", "A", Decimal(10**6), Decimal(0)))
    svc.put_component(Component("Q23-7", "seal ring", suppliers=("S1", "S2"), safety_stock=50))
    svc.put_product(
        Product("HV-100", "hydraulic valve", ProductKind.REGULAR, (BomLine("Q23-7", 1),))
    )
    svc.set_stock("Q23-7", seal_rings)
    svc.put_capacity("NB1", [CapacitySlot("L1", dt.date(2026, 5, 12), dt.date(2026, 6, 20), 10**6)])
    return svc


def draft(qty: int = 100) -> OrderDraft:
    """A draft order for the seeded master data."""
    return OrderDraft("C001", (OrderLine("HV-100", qty, "10"),), dt.date(2026, 7, 1), "NB1")


MAINLINE = ("lock_kitting", "dispatch_production", "release_qc", "deliver")


class StoreContract(EvidenceContract, IdempotencyContract, StockContract):
    """Behaviour every :class:`~orderflow.ports.Store` must show (the evidence part is
    :class:`~orderflow.testing.contract_evidence.EvidenceContract`)."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError("provide a 'store' fixture")

    # --- raw store --------------------------------------------------------------------
    def test_order_round_trip_and_lookup(self, store: Store) -> None:
        order, _ = new_order(
            number="HY20260511-1",
            customer_id="C001",
            lines=[OrderLine("P", "2.5", "3")],
            requested_date=dt.date(2026, 6, 1),
            factory_id="NB1",
            initial_stage="pending_review",
            created_at=START,
            delivery_address="宁波市北仑区",
            erp_id="1001",
        )
        with store.transaction() as tx:
            tx.insert_order(order)
        with store.transaction() as tx:
            assert tx.get_order(order.id) == order
            assert tx.find_order_id("number", order.number) == order.id
            assert tx.find_order_id("erp_id", "1001") == order.id
            assert tx.find_order_id("query_token_hash", order.query_token_hash) == order.id
            assert tx.get_order("nope") is None
        assert [o.id for o in store.orders()] == [order.id]

    def test_duplicate_number_and_stale_version_conflict(self, store: Store) -> None:
        order, _ = new_order(
            number="HY20260511-2",
            customer_id="C",
            lines=[OrderLine("P", 1)],
            requested_date=dt.date(2026, 6, 1),
            factory_id="NB1",
            initial_stage="pending_review",
            created_at=START,
        )
        with store.transaction() as tx:
            tx.insert_order(order)
        twin = attrs.evolve(order, id="other-id")
        with pytest.raises(ConcurrencyConflict), store.transaction() as tx:
            tx.insert_order(twin)
        with store.transaction() as tx:
            tx.update_order(attrs.evolve(order, version=1, stage="kitting_locked"), 0)
        with pytest.raises(ConcurrencyConflict), store.transaction() as tx:
            tx.update_order(attrs.evolve(order, version=1, stage="cancelled"), 0)
        with store.transaction() as tx:
            stored = tx.get_order(order.id)
            assert stored is not None and stored.stage == "kitting_locked"

    def test_rollback_and_savepoint(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.put_doc("t", "a", "1")
            raise RuntimeError("boom")
        with store.transaction() as tx:
            assert tx.get_doc("t", "a") is None
            tx.put_doc("t", "a", "1")
            with pytest.raises(RuntimeError), store.transaction() as inner:
                inner.put_doc("t", "b", "2")
                raise RuntimeError("inner")
            tx.put_doc("t", "c", "3")
        with store.transaction() as tx:
            assert tx.docs("t") == [("a", "1"), ("c", "3")]
            tx.put_doc("t", "a", "one")
            tx.delete_doc("t", "c")
            tx.put_doc("u", "a/x", "4")
            tx.put_doc("u", "b/x", "5")
        with store.transaction() as tx:
            assert tx.docs("t") == [("a", "one")]
            assert tx.docs("u", "a/") == [("a/x", "4")]

    def test_get_docs_reads_many_keys_and_sees_own_writes(self, store: Store) -> None:
        with store.transaction() as tx:
            for key in ("b", "a", "c"):
                tx.put_doc("stock", key, key.upper())
            tx.put_doc("other", "a", "x")
        with store.transaction() as tx:
            assert tx.get_docs("stock", ["c", "a", "zz", "a"]) == {"a": "A", "c": "C"}
            assert tx.get_docs("stock", []) == {}
            tx.put_doc("stock", "zz", "new")
            tx.delete_doc("stock", "c")
            locked = tx.get_docs("stock", ["a", "c", "zz"], for_update=True)
            assert locked == {"a": "A", "zz": "new"}
            assert list(locked) == sorted(locked)  # key order
        with store.transaction() as tx:
            assert tx.get_docs("stock", ["a", "b", "c", "zz"]) == {"a": "A", "b": "B", "zz": "new"}

    def test_prefetch_changes_no_answer(self, store: Store) -> None:
        with store.transaction() as tx:
            for key in ("a", "b"):
                tx.put_doc("stock", key, key.upper())
            tx.put_doc("cap", "F1/a", "1")
            tx.put_doc("cap", "F2/a", "2")
        with store.transaction() as tx:
            tx.prefetch({"stock": ["zz"], "streak": ["F1/a"]}, [("cap", "F1/")], {"stock": ["a"]})
            assert tx.get_doc("stock", "a", for_update=True) == "A"
            assert tx.get_doc("stock", "a") == "A"
            assert tx.get_doc("stock", "zz") is None
            assert tx.get_docs("stock", ["a", "b"]) == {"a": "A", "b": "B"}
            assert tx.docs("cap", "F1/") == [("F1/a", "1")]
            tx.put_doc("cap", "F1/b", "3")  # a prefetched listing follows the writes
            assert tx.docs("cap", "F1/") == [("F1/a", "1"), ("F1/b", "3")]
            tx.put_doc("stock", "zz", "new")
            tx.prefetch({"stock": ["zz"]}, [("cap", "F1/")])  # what is cached stays
            assert tx.get_doc("stock", "zz") == "new"
            assert tx.docs("cap", "F1/") == [("F1/a", "1"), ("F1/b", "3")]
        with store.transaction() as tx:
            assert tx.get_doc("stock", "zz") == "new"

    def test_listings_see_writes_of_the_same_transaction(self, store: Store) -> None:
        with store.transaction() as tx:
            tx.put_doc("cap", "F1/b", "2")
            tx.put_doc("cap", "F1/d", "4")
            tx.put_doc("cap", "F2/a", "x")
            assert tx.docs("cap", "F1/") == [("F1/b", "2"), ("F1/d", "4")]
            tx.put_doc("cap", "F1/b", "two")  # update
            tx.put_doc("cap", "F1/a", "1")  # insert before
            tx.put_doc("cap", "F1/c", "3")  # insert between
            tx.delete_doc("cap", "F1/d")
            tx.put_doc("cap", "F2/b", "y")  # another prefix
            expected = [("F1/a", "1"), ("F1/b", "two"), ("F1/c", "3")]
            assert tx.docs("cap", "F1/") == expected
            with pytest.raises(RuntimeError), store.transaction() as inner:
                inner.put_doc("cap", "F1/e", "5")
                assert inner.docs("cap", "F1/")[-1] == ("F1/e", "5")
                raise RuntimeError("undo")
            assert tx.docs("cap", "F1/") == expected
            assert tx.docs("cap") == [*expected, ("F2/a", "x"), ("F2/b", "y")]
        with store.transaction() as tx:
            assert tx.docs("cap", "F1/") == expected

    def test_listings_beside_queued_writes_of_other_kinds(self, store: Store) -> None:
        with store.transaction() as tx:
            tx.put_doc("cap", "F1/a", "1")
            tx.put_doc("po", "K1/1", "p")
        with store.transaction() as tx:
            tx.put_doc("stock", "K1", "5")  # another kind, queued
            assert tx.docs("cap", "F1/") == [("F1/a", "1")]
            assert tx.docs("cap", "F1/", limit=1) == [("F1/a", "1")]
            tx.put_doc("cap", "F1/b", "2")
            tx.delete_doc("po", "K1/1")
            assert tx.docs("po", "K1/", limit=5) == []
            assert tx.docs("cap", "F1/") == [("F1/a", "1"), ("F1/b", "2")]
            with pytest.raises(RuntimeError), store.transaction() as inner:
                inner.put_doc("po", "K1/2", "q")
                raise RuntimeError("undo")
            assert tx.docs("po", "K1/") == []
            assert tx.get_doc("stock", "K1") == "5"
        with store.transaction() as tx:
            assert tx.docs("cap") == [("F1/a", "1"), ("F1/b", "2")]
            assert tx.docs("po") == []
            assert tx.get_doc("stock", "K1") == "5"

    def test_audit_chain_unique_and_ordered(self, store: Store) -> None:
        with store.transaction() as tx:
            tx.append_audit("x", 0, b"e0", leaf_hash(b"e0"))
            tx.append_audit("y", 0, b"f0", leaf_hash(b"f0"))
            tx.append_audit("x", 1, b"e1", leaf_hash(b"e1"))
        with pytest.raises(ConcurrencyConflict), store.transaction() as tx:
            tx.append_audit("x", 1, b"dup", leaf_hash(b"dup"))
        assert store.audit_entries() == [b"e0", b"f0", b"e1"]
        assert store.audit_entries(1, 2) == [b"f0"]
        assert store.audit_chain("x") == [(0, b"e0"), (2, b"e1")]
        assert store.audit_size() == 3
        with store.transaction() as tx:
            head = tx.chain_head("x")
            assert head is not None and head.seq == 1 and head.leaf_hash == leaf_hash(b"e1")
            assert tx.chain_head("z") is None

    def test_orders_due(self, store: Store) -> None:
        svc = seeded_service(store)
        early = svc.submit(draft(), actor="s").order  # pending_review: 2 h limit
        assert early.deadline is not None
        assert list(store.orders_due(early.deadline)) == []
        later = early.deadline + dt.timedelta(seconds=1)
        assert [o.id for o in store.orders_due(later)] == [early.id]
        done = svc.fire(early.id, "lock_kitting", actor="p")
        svc.fire(done.id, "dispatch_production", actor="p")  # no limit in production
        assert list(store.orders_due(later + dt.timedelta(days=30))) == []

    def test_listings_inside_a_transaction_see_its_own_writes(self, store: Store) -> None:
        # a batch (the simulator's hours, an ERP backfill) sweeps for overdue orders
        # inside its open transaction: the orders it wrote must be swept too
        clock = FrozenClock(START)
        svc = OrderService(store, clock=clock)
        seeded_service(store)
        with store.transaction():
            order = svc.submit(draft(), actor="s").order
            assert order.deadline is not None
            later = order.deadline + dt.timedelta(seconds=1)
            assert [o.id for o in store.orders_due(later)] == [order.id]
            assert [o.id for o in store.orders()] == [order.id]
            clock.set(later)
            assert [w.order_id for w in svc.sweep_warnings()] == [order.id]
        assert [o.id for o in store.orders_due(later)] == [order.id]
        actions = [e.context.get("action") for e in svc.history(order.id)]
        assert actions == [None, "timeout_warning"]  # created, then warned once

    # --- through the service ----------------------------------------------------------
    def test_lifecycle_verifies_and_replays(self, store: Store) -> None:
        svc = seeded_service(store)
        base = store.audit_size()  # the seeding's stock-take entry
        sub = svc.submit(draft(), actor="sales")
        assert sub.passed
        order = sub.order
        for event in MAINLINE:
            order = svc.fire(order.id, event, actor="plant")
        assert order.stage == "delivered" and order.version == 4
        checkpoint = svc.audit.verify(deep=True)
        assert checkpoint.size == store.audit_size() == base + 5
        assert svc.audit.replay(order.id) == svc.get(order.id)
        assert svc.stock("Q23-7").on_hand == 900

    def test_refusal_writes_nothing(self, store: Store) -> None:
        svc = seeded_service(store, seal_rings=104)
        order = svc.submit(draft(), actor="sales").order
        size = store.audit_size()
        with pytest.raises(TransitionRefused, match="available 104 < required 105"):
            svc.fire(order.id, "lock_kitting", actor="plant", idempotency_key="k-refused")
        assert store.audit_size() == size
        assert svc.get(order.id) == order
        assert svc.stock("Q23-7").reserved == 0
        svc.set_stock("Q23-7", 105)
        # the refused key was not consumed: the retry now succeeds
        assert (
            svc.fire(order.id, "lock_kitting", actor="plant", idempotency_key="k-refused").stage
            == "kitting_locked"
        )

    def test_edit_records_old_and_new(self, store: Store) -> None:
        svc = seeded_service(store)
        order = svc.submit(draft(), actor="s").order
        edited = svc.edit(order.id, {"requested_date": dt.date(2026, 7, 9)}, actor="s")
        assert edited.version == 1
        assert svc.audit.replay(order.id) == edited
        with pytest.raises(InputError, match="cannot edit stage"):
            svc.edit(order.id, {"stage": "delivered"}, actor="s")

    def test_stale_version_is_a_conflict_not_a_lost_update(self, store: Store) -> None:
        svc = seeded_service(store)
        order = svc.submit(draft(), actor="s").order
        results: list[Any] = []
        barrier = threading.Barrier(2)

        def writer(event: str, reason: str | None) -> None:
            barrier.wait()
            try:
                results.append(
                    svc.fire(order.id, event, actor="p", reason=reason, expected_version=0)
                )
            except ConcurrencyConflict as exc:
                results.append(exc)

        threads = [
            threading.Thread(target=writer, args=("lock_kitting", None)),
            threading.Thread(target=writer, args=("hold", "check")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wins = [r for r in results if not isinstance(r, Exception)]
        assert len(wins) == 1 and len(results) == 2
        assert isinstance(next(r for r in results if isinstance(r, Exception)), ConcurrencyConflict)
        assert svc.get(order.id).version == 1
        svc.audit.verify(deep=True)

    def test_customer_and_slip_lookups_do_not_leak(self, store: Store) -> None:
        svc = seeded_service(store)
        sub = svc.submit(draft(), actor="s")
        assert sub.query_token is not None
        view = svc.customer_status(sub.query_token)
        assert view.number == sub.order.number and view.stage == "pending_review"
        assert "C001" not in repr(view) and sub.order.id not in repr(view)
        with pytest.raises(NotFound) as unknown:
            svc.customer_status("x" * 22)
        code = svc.slip_code(sub.order.id, actor="s")
        assert len(code) == 6 and code.isdigit()
        assert svc.slip_status(sub.order.number, code).number == sub.order.number
        with pytest.raises(NotFound) as wrong_code:
            svc.slip_status(sub.order.number, "000000" if code != "000000" else "111111")
        with pytest.raises(NotFound) as no_order:
            svc.slip_status("HY20990101-1", "123456")
        # one answer per lookup, whether the order is unknown or the code is wrong
        assert str(unknown.value) == NO_SUCH_CODE
        assert str(wrong_code.value) == str(no_order.value) == NO_SUCH_SLIP

    def test_tampering_is_detected(self, store: Store) -> None:
        svc = seeded_service(store)
        base = store.audit_size()
        order = svc.submit(draft(), actor="s").order
        for event in MAINLINE[:2]:
            svc.fire(order.id, event, actor="p")
        checkpoint = svc.audit.checkpoint()
        stored = store.audit_entries()
        changed = stored[base + 1].replace(b'"actor":"p"', b'"actor":"x"')
        assert changed != stored[base + 1]
        self.tamper(store, base + 1, changed)
        with pytest.raises(TamperDetected) as info:
            svc.audit.verify(checkpoint)
        assert info.value.first_bad_index == base + 1
