"""The drawing-change index the service keeps beside the audit log (R13 rule 1).

It must count exactly what reading the log counts, commit and roll back with the entries,
and index a store written before it existed on first use.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow import OrderDraft, OrderLine
from orderflow.risk.drawings import (
    INDEX,
    MARKER,
    AuditLogDrawingChanges,
    IndexedDrawingChanges,
)
from orderflow.service import OrderService
from tests.risk.conftest import HANGZHOU, NOW, make_service, set_clock

_US = 1_000_000


def _order(svc: OrderService, customer: str) -> str:
    draft = OrderDraft(customer, (OrderLine("HV-1", 1, 100),), dt.date(2026, 12, 1), "NB1",
                       delivery_address=HANGZHOU)  # fmt: skip
    return svc.submit(draft, actor="sales").order.id


def _counts(svc: OrderService, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Both ports' counts per customer, over the same window."""
    window = (int(since.timestamp() * _US), int(until.timestamp() * _US))
    indexed, from_log = IndexedDrawingChanges(svc.store), AuditLogDrawingChanges(svc.store)
    with svc.store.transaction() as tx:
        return {
            f"{c}/{kind}": port.count(tx, c, *window, fresh=True)
            for c in ("C1", "C2")
            for kind, port in (("index", indexed), ("log", from_log))
        }


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2"]),
            st.sampled_from(["drawing_change", "drawing_version_conflict", "logistics"]),
            st.integers(0, 200),  # hours after NOW
        ),
        max_size=8,
    ),
    st.integers(0, 200),
    st.integers(0, 200),
)
def test_the_index_counts_what_the_log_holds(
    changes: list[tuple[str, str, int]], start: int, length: int
) -> None:
    svc = make_service(imported=0)
    for customer, category, hours in sorted(changes, key=lambda c: c[2]):
        set_clock(svc, NOW + dt.timedelta(hours=hours))
        svc.open_incident(_order(svc, customer), category, actor="eng")
    since = NOW + dt.timedelta(hours=start)
    counts = _counts(svc, since, since + dt.timedelta(hours=length))
    for customer in ("C1", "C2"):
        assert counts[f"{customer}/index"] == counts[f"{customer}/log"]


def test_a_rolled_back_change_is_not_indexed() -> None:
    svc = make_service(imported=0)
    order_id = _order(svc, "C1")

    def failing_batch() -> None:
        with svc.store.transaction():
            svc.open_incident(order_id, "drawing_change", actor="eng")
            raise RuntimeError("the caller's batch fails after the incident")

    with pytest.raises(RuntimeError):
        failing_batch()
    with svc.store.transaction() as tx:
        assert tx.get_doc(INDEX, "C1") is None
    svc.open_incident(order_id, "drawing_change", actor="eng")
    assert _counts(svc, NOW, NOW + dt.timedelta(hours=1))["C1/index"] == 1


def test_a_store_written_before_the_index_is_indexed_once_on_first_use() -> None:
    svc = make_service(imported=0)
    for _ in range(3):
        svc.open_incident(_order(svc, "C1"), "drawing_change", actor="eng")
    with svc.store.transaction() as tx:  # as a 0.3 store: the log only
        tx.delete_doc(INDEX, "C1")
        tx.delete_doc(*MARKER)
    order_id = _order(svc, "C1")
    assert [f.code for f in svc.risk_flags(order_id, actor="planner")] == ["drawing_changes"]
    with svc.store.transaction() as tx:
        assert tx.get_doc(*MARKER) is not None
        body = tx.get_doc(INDEX, "C1")
    assert body is not None and len(body.splitlines()) == 3
    # indexing again (another process that also found no marker) adds nothing
    with svc.store.transaction() as tx:
        IndexedDrawingChanges(svc.store).backfill(tx)
        assert tx.get_doc(INDEX, "C1") == body
