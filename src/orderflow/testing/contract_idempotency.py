"""The idempotency part of the store contract: stored results, retries inside and outside
a caller's batch, lookups sent ahead (R5: a retried call never acts twice).

Mixed into :class:`~orderflow.testing.contracts.StoreContract`; every store adapter
passes it through that class.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs

from orderflow._extras import require

require("pytest", "testing")
import pytest

from orderflow.exceptions import ConcurrencyConflict, IdempotencyConflict, TransitionRefused
from orderflow.ports import Store
from orderflow.service import OrderService

__all__ = ["IdempotencyContract"]


def _seeded(store: Store, **kw: Any) -> OrderService:
    from orderflow.testing.contracts import seeded_service

    return seeded_service(store, **kw)


def draft() -> Any:
    from orderflow.testing.contracts import draft as contract_draft

    return contract_draft()


class IdempotencyContract:
    """Idempotency records on any store, raw and through the service."""

    def test_idempotency_lookup_with_an_order_lock_answers_the_same(self, store: Store) -> None:
        svc = _seeded(store)
        order = svc.submit(draft(), actor="s", idempotency_key="k-submit").order
        with store.transaction() as tx:
            plain = tx.get_idempotent("k-submit")
        with store.transaction() as tx:
            assert tx.get_idempotent("k-submit", lock_order=order.id) == plain
            assert tx.get_idempotent("k-none", lock_order="no-such-order") is None
            assert tx.get_order("no-such-order", for_update=True) is None
            locked = tx.get_order(order.id, for_update=True)
            assert locked == order
            head = tx.chain_head(order.id)
            assert head is not None and head.seq == order.version
        assert plain is not None

    def test_idempotency_records(self, store: Store) -> None:
        with store.transaction() as tx:
            tx.put_idempotent("k", "fp", "result")
        with store.transaction() as tx:
            assert tx.get_idempotent("k") == ("fp", "result")
            assert tx.get_idempotent("missing") is None
        with pytest.raises(ConcurrencyConflict), store.transaction() as tx:
            tx.put_idempotent("k", "fp2", "other")  # a key is recorded once
        with store.transaction() as tx:
            assert tx.get_idempotent("k") == ("fp", "result")

    def test_an_idempotency_lookup_sent_ahead_answers_as_get(self, store: Store) -> None:
        with store.transaction() as tx:
            tx.put_idempotent("k", "fp", "result")
            tx.put_doc("stock", "a", "A")
        with store.transaction() as tx:
            assert tx.get_doc("stock", "a") == "A"  # the transaction has begun
            taken = tx.ask_idempotent("k")
            if taken is None:  # nothing sent ahead: the plain lookup answers
                taken = functools.partial(tx.get_idempotent, "k")
            assert tx.get_doc("stock", "b") is None  # the connection is used meanwhile
            assert taken() == ("fp", "result") == tx.get_idempotent("k")
            free = tx.ask_idempotent("free")
            tx.put_doc("stock", "b", "B")
            assert free is None or free() is None
            tx.put_idempotent("free", "fp2", "r2")
            assert tx.get_idempotent("free") == ("fp2", "r2")
        with pytest.raises(RuntimeError), store.transaction() as tx:
            assert tx.get_doc("stock", "a") == "A"
            tx.ask_idempotent("k")  # left on the wire when the transaction fails
            raise RuntimeError("boom")
        with store.transaction() as tx:
            assert tx.get_doc("stock", "b") == "B"
            assert tx.get_idempotent("free") == ("fp2", "r2")

    def test_retries_inside_a_callers_batch_return_the_first_answer(self, store: Store) -> None:
        svc = _seeded(store, seal_rings=104)
        first = svc.submit(draft(), actor="sales", idempotency_key="b-sub")
        held = svc.fire(first.order.id, "hold", actor="p", reason="call", idempotency_key="b-hold")
        size = store.audit_size()
        with store.transaction():
            # the key was taken by a committed call: the batch gets the stored answer
            again = svc.submit(draft(), actor="sales", idempotency_key="b-sub")
            assert again.order == first.order and again.query_token is None
            # its order moved on since: the run ahead is refused, the stored answer wins
            retried = svc.fire(first.order.id, "hold", actor="p", reason="call",
                               idempotency_key="b-hold")  # fmt: skip
            assert retried == held
            with pytest.raises(IdempotencyConflict):
                svc.fire(first.order.id, "resume", actor="p", idempotency_key="b-hold")
            resumed = svc.fire(first.order.id, "resume", actor="p", idempotency_key="b-res")
            # taken earlier in this same batch
            assert svc.fire(first.order.id, "resume", actor="p", idempotency_key="b-res") == resumed
            with pytest.raises(TransitionRefused):  # refused with a fresh key: not consumed
                svc.fire(first.order.id, "lock_kitting", actor="p", idempotency_key="b-kit")
        assert store.audit_size() == size + 1  # only the resume was written
        assert svc.get(first.order.id) == resumed
        svc.set_stock("Q23-7", 105)
        done = svc.fire(first.order.id, "lock_kitting", actor="p", idempotency_key="b-kit")
        assert done.stage == "kitting_locked"
        svc.audit.verify(deep=True)

    def test_a_minted_number_already_taken_fails_only_its_call(self, store: Store) -> None:
        svc = _seeded(store)
        first = svc.submit(draft(), actor="s").order
        taken = first.number.rsplit("-", 1)[0] + "-2"  # the number minted next
        imported = svc.submit(attrs.evolve(draft(), number=taken), actor="s").order
        size = store.audit_size()
        for key in ("m-0", None):  # a call in a transaction of its own fails the same way
            with pytest.raises(ConcurrencyConflict, match=f"order {taken} already exists"):
                svc.submit(draft(), actor="s", idempotency_key=key)
        assert store.audit_size() == size
        with store.transaction():
            with pytest.raises(ConcurrencyConflict, match=f"order {taken} already exists"):
                svc.submit(draft(), actor="s", idempotency_key="m-1")
            moved = svc.fire(first.id, "lock_kitting", actor="p", idempotency_key="m-2")
        assert svc.get(first.id) == moved
        assert sorted(o.number for o in store.orders()) == sorted([first.number, taken])
        assert svc.get(imported.id) == imported
        svc.audit.verify(deep=True)

    def test_idempotent_retries_write_once(self, store: Store) -> None:
        svc = _seeded(store)
        base = store.audit_size()
        first = svc.submit(draft(), actor="sales", idempotency_key="sub-1")
        again = svc.submit(draft(), actor="sales", idempotency_key="sub-1")
        assert again.order == first.order and again.query_token is None
        a = svc.fire(first.order.id, "lock_kitting", actor="p", idempotency_key="fire-1")
        b = svc.fire(first.order.id, "lock_kitting", actor="p", idempotency_key="fire-1")
        assert a == b
        assert store.audit_size() == base + 2
        with pytest.raises(IdempotencyConflict):
            svc.fire(first.order.id, "dispatch_production", actor="p", idempotency_key="fire-1")
