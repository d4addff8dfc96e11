"""Property: any operation, retried with its idempotency key, returns an equal result."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.adapters.memory import MemoryStore
from orderflow.domain import OrderLine
from orderflow.exceptions import OrderflowError
from orderflow.service import OrderDraft
from orderflow.testing.contracts import seeded_service

EVENTS = ("lock_kitting", "dispatch_production", "release_qc", "fail_qc", "deliver", "hold",
          "resume", "cancel")  # fmt: skip

step = st.one_of(
    st.tuples(st.just("submit"), st.integers(1, 400), st.sampled_from(["0", "9.5", "10"])),
    st.tuples(st.just("fire"), st.sampled_from(EVENTS), st.none()),
    st.tuples(st.just("edit"), st.integers(1, 90), st.text(max_size=12)),
    st.tuples(st.just("incident"), st.sampled_from(["stock_shortage", "qc_failure"]), st.none()),
    st.tuples(st.just("scan"), st.decimals("0.5", "50", places=1), st.sampled_from(["in", "out"])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=12))
def test_a_retry_returns_what_the_first_call_returned(steps: list[tuple[Any, Any, Any]]) -> None:
    svc = seeded_service(MemoryStore())
    clock: Any = svc.clock
    made: list[str] = []  # the order the later steps act on, once one is submitted
    answered: list[tuple[Any, Any]] = []  # (call, first result), retried again at the end
    for n, (kind, a, b) in enumerate(steps):
        key = f"k{n}"
        target = made[-1] if made else ""

        def call(
            kind: str = kind, a: Any = a, b: Any = b, key: str = key, order_id: str = target
        ) -> Any:
            if kind == "submit":
                line = OrderLine("HV-100", a, b)
                draft = OrderDraft("C001", (line,), dt.date(2026, 7, 1), "NB1")
                return svc.submit(draft, actor="s", idempotency_key=key)
            if kind == "fire":
                reason = "r" if a in ("fail_qc", "hold", "cancel") else None
                return svc.fire(order_id, a, actor="p", reason=reason, idempotency_key=key)
            if kind == "edit":
                changes = {"requested_date": dt.date(2026, 7, 1) + dt.timedelta(days=a),
                           "delivery_address": b}  # fmt: skip
                return svc.edit(order_id, changes, actor="p", idempotency_key=key)
            if kind == "incident":
                return svc.open_incident(order_id, a, actor="q", idempotency_key=key)
            return svc.record_scan("Q23-7", Decimal(a), direction=b, actor="w", idempotency_key=key)

        if kind != "submit" and not made:
            continue
        try:
            first = call()
        except OrderflowError:
            continue  # a refused call stores nothing under its key
        clock.advance(dt.timedelta(minutes=7))
        size = svc.store.audit_size()
        assert call() == first
        assert svc.store.audit_size() == size
        answered.append((call, first))
        if kind == "submit":
            made.append(first.order.id)
    # a late retry, after the order moved on: the answer is still the first one (an
    # order kept by reference is replayed from its chain up to that version)
    size = svc.store.audit_size()
    for call, first in answered:
        assert call() == first
    assert svc.store.audit_size() == size
