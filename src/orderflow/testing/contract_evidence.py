"""The evidence part of the store contract: leaves, checkpoints, origin, retried results.

Mixed into :class:`~orderflow.testing.contracts.StoreContract`; every store adapter
passes it through that class.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from orderflow._extras import require

require("pytest", "testing")
import pytest

from orderflow.audit import leaf_hash
from orderflow.exceptions import StoreError, TamperDetected
from orderflow.ports import Store
from orderflow.service import OrderService

__all__ = ["EvidenceContract"]


class EvidenceContract:
    """Behaviour of the audit evidence every store must support."""

    def tamper(self, store: Store, index: int, data: bytes) -> None:
        """Overwrite the stored bytes of audit entry ``index`` (override per adapter)."""
        pytest.skip("this adapter provides no tamper hook")

    def _service(self, store: Store) -> OrderService:
        from orderflow.testing.contracts import seeded_service

        return seeded_service(store)

    def test_leaves_are_kept_beside_the_entries(self, store: Store) -> None:
        from orderflow.testing.contracts import draft

        svc = self._service(store)
        order = svc.submit(draft(), actor="s").order
        svc.fire(order.id, "lock_kitting", actor="p")
        entries = store.audit_entries()
        assert len(entries) >= 2
        assert store.audit_leaves() == [leaf_hash(e) for e in entries]
        assert store.audit_leaves(1, 2) == [leaf_hash(entries[1])]
        assert not store.in_transaction()
        with store.transaction():
            assert store.in_transaction()

    def test_stored_checkpoints_anchor_the_newest_entry(self, store: Store) -> None:
        from orderflow.testing.contracts import draft

        svc = self._service(store)
        base = store.audit_size()  # the seeding's stock-take
        order = svc.submit(draft(), actor="s").order
        svc.fire(order.id, "lock_kitting", actor="p")
        stored = svc.audit.store_checkpoint()
        assert stored.size == store.audit_size() == base + 2
        assert stored.checkpoint == svc.audit.checkpoint()
        assert svc.audit.store_checkpoint() == stored  # nothing new: the same one
        svc.fire(order.id, "dispatch_production", actor="p")
        assert svc.audit.store_checkpoint().size == base + 3  # extends the compact range
        assert [c.size for c in svc.audit.checkpoints()] == [base + 2, base + 3]
        svc.audit.verify()
        # the chain's newest entry, rewritten: no later entry links to it, yet it fails
        newest = store.audit_entries()[base + 2].replace(b'"actor":"p"', b'"actor":"x"')
        self.tamper(store, base + 2, newest)
        with pytest.raises(TamperDetected):
            svc.audit.verify()

    def test_the_origin_belongs_to_the_log(self, store: Store) -> None:
        svc = self._service(store)
        origin = store.origin
        store.origin = "someone-else.example/log"
        try:
            with pytest.raises(StoreError, match=re.escape(store.origin)) as info:
                OrderService(store, clock=svc.clock)
            assert origin in str(info.value)
        finally:
            store.origin = origin
        OrderService(store, clock=svc.clock)  # the stored origin is fine

    def test_a_retried_call_returns_what_the_first_returned(self, store: Store) -> None:
        from orderflow.testing.contracts import draft

        svc = self._service(store)
        clock: Any = svc.clock
        made = svc.submit(draft(120), actor="s", idempotency_key="key-submit")
        again = svc.submit(draft(120), actor="s", idempotency_key="key-submit")
        assert again == made
        assert again.checks[1].measured == made.checks[1].measured
        assert again.query_token is None  # the secret is returned once only
        oid = made.order.id
        calls: list[Callable[[str], object]] = [
            lambda k: svc.fire(oid, "hold", actor="p", reason="call", idempotency_key=k),
            lambda k: svc.fire(oid, "resume", actor="p", idempotency_key=k),
            lambda k: svc.edit(oid, {"requested_date": dt.date(2026, 8, 1)}, actor="p",
                               idempotency_key=k),
            lambda k: svc.open_incident(oid, "stock_shortage", actor="q", batch="B03",
                                        idempotency_key=k),
            lambda k: svc.record_scan("Q23-7", Decimal("960.5"), direction="out", actor="w",
                                      idempotency_key=k),
        ]  # fmt: skip
        firsts = []
        for n, call in enumerate(calls):
            first = call(f"key-{n}")
            firsts.append(first)
            clock.advance(dt.timedelta(minutes=5))
            size = store.audit_size()
            assert call(f"key-{n}") == first, f"call {n} retried"
            assert store.audit_size() == size  # nothing new written
        incident = svc.incidents()[0]
        closed = svc.resolve_incident(incident.id, "late PO", actor="q", idempotency_key="r")
        retried = svc.resolve_incident(incident.id, "late PO", actor="q", idempotency_key="r")
        assert retried == closed
        # retried late, after the order moved on: still the answer of the first call
        size = store.audit_size()
        assert svc.submit(draft(120), actor="s", idempotency_key="key-submit") == made
        for n, call in enumerate(calls):
            assert call(f"key-{n}") == firsts[n], f"call {n} retried late"
        assert firsts[0] != svc.get(oid, actor="p")  # the order did move on since
        assert store.audit_size() == size

    def test_a_result_kept_by_an_earlier_version_still_reads(self, store: Store) -> None:
        from orderflow.serialization import converter
        from orderflow.testing.contracts import draft

        svc = self._service(store)
        order = svc.submit(draft(120), actor="s").order
        # 0.2 kept a converter copy of the order (plain JSON) under the key
        copy = json.dumps(converter.unstructure(order))
        with store.transaction() as tx:
            tx.put_idempotent("old-key", "fire:x", copy)
        with store.transaction() as tx:
            stored = tx.get_idempotent("old-key")
        assert stored is not None
        from orderflow.service.results import decode_result

        def never(order_id: str, version: int) -> Any:
            raise AssertionError("a copy needs no replay")

        assert decode_result(stored[1], type(order), never) == order

    def test_every_committed_entry_has_its_event_and_nothing_else_does(self, store: Store) -> None:
        from orderflow.exceptions import WorkflowError
        from orderflow.service.outbox import OUTBOX, pending
        from orderflow.testing.contracts import draft

        svc = self._service(store)
        with store.transaction() as tx:  # the seeding's events are not this test's
            for key, _ in tx.docs(OUTBOX):
                tx.delete_doc(OUTBOX, key)
        sub = svc.submit(draft(), actor="s", idempotency_key="k1")
        svc.submit(draft(), actor="s", idempotency_key="k1")  # a retry: no second event
        svc.fire(sub.order.id, "hold", actor="p", reason="call")
        svc.fire(sub.order.id, "resume", actor="p")
        with pytest.raises(WorkflowError):
            svc.fire(sub.order.id, "dispatch_production", actor="p")  # refused: no event
        events = pending(store)
        assert [e.type for e in events] == [
            "order.submitted", "order.stage_changed", "order.stage_changed"
        ]  # fmt: skip
        assert [e.body["seq"] for e in events] == [0, 1, 2]
        assert events[0].link_token == sub.query_token  # for the customer's link message
        assert events[1].link_token is None
        assert events[1].body["to"] == "on_hold"
        assert events[1].id == f"{store.origin}/{sub.order.id}/1"
        assert len({e.id for e in events}) == 3
        assert [e.id for e in pending(store, 2)] == [e.id for e in events[:2]]
        with store.transaction() as tx:  # a window into a listing, in key order
            tx.put_doc("w", "b", "2")
            tx.put_doc("w", "a", "1")
            assert tx.docs("w", limit=1) == [("a", "1")]
            tx.put_doc("w", "0", "0")  # queued writes count (SQLite's write-behind)
            assert tx.docs("w", limit=2) == [("0", "0"), ("a", "1")]
