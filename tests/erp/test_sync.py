"""The sync engine against the in-memory fakes: idempotent, audited, quarantining (R7, R5)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from orderflow.domain import Order
from orderflow.erp import (
    ErpMapping,
    ErpSyncStore,
    SyncCursor,
    follow,
    parse_interval,
    sync_once,
)
from orderflow.exceptions import InputError
from orderflow.testing.erp_fakes import AuditRecord, InMemoryErpStore

from .helpers import add_order, header, k3_source, line, set_qty, simple_order


def test_fake_store_implements_the_port(store: InMemoryErpStore) -> None:
    assert isinstance(store, ErpSyncStore)


def test_first_run_imports_and_second_run_creates_nothing(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = k3_source(simple_order(i) for i in range(1001, 1011))
    report = sync_once(src, store, k3, batch_size=3)
    assert (report.imported, report.quarantined, report.batches) == (10, 0, 4)
    assert report.watermark == 1010
    order = store.orders[store.by_erp_id["1001"]]
    assert (order.number, order.erp_id, order.erp_number) == (
        "HY20260122-1001",
        "1001",
        "SEORD001001",
    )
    audit_before = list(store.audit)
    again = sync_once(src, store, k3, batch_size=3)
    assert (again.imported, again.updated, again.unchanged, again.reconciled) == (0, 0, 10, 10)
    assert store.audit == audit_before
    assert len(store.orders) == 10


def test_changed_row_becomes_a_field_update_naming_each_field(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = k3_source([simple_order(1001)])
    sync_once(src, store, k3)
    set_qty(src, 1001, 1, Decimal(7))
    src.update("SEOrder", {"FInterID": 1001}, FCustID=2)
    report = sync_once(src, store, k3)
    assert report.updated == 1
    entry = store.audit[-1]
    assert entry.type == "field_update"
    assert entry.actor == "erp-sync"
    assert entry.changes == (("customer_id", "C00001", "C00002"), ("lines[0].qty", "10", "7"))
    order = store.orders[entry.order_id]
    assert order.customer_id == "C00002" and order.lines[0].qty == 7 and order.version == 1
    assert sync_once(src, store, k3).updated == 0


def test_cancellation_in_the_erp_cancels_the_order(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source([simple_order(1001), simple_order(1002, FCancellation=1)])
    report = sync_once(src, store, k3)
    # a document already cancelled when first seen is not demand: never imported
    assert (report.imported, report.skipped, report.cancelled) == (1, 1, 0)
    src.update("SEOrder", {"FInterID": 1001}, FCancellation=1)
    assert sync_once(src, store, k3).cancelled == 1
    cancels = [a for a in store.audit if a.type == "state_change"]
    assert [(a.from_state, a.to_state) for a in cancels] == [("pending_review", "cancelled")]
    assert "SEOrder FInterID=1001, FCancellation" in cancels[0].reason
    assert {o.stage for o in store.orders.values()} == {"cancelled"}


def test_bad_rows_are_quarantined_and_the_rest_syncs(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = k3_source([simple_order(1001)])
    add_order(src, header(1002, FCustID=99), [line(1002, 1)])  # unknown customer
    add_order(
        src,
        header(1003),
        [line(1003, 1, FQty=Decimal(-5), FAuxQty=Decimal(1), FAllStdAmount=Decimal(0))],
    )  # negative quantity
    add_order(src, header(1004, FDate="2026-02-30 08:00"), [line(1004, 1)])  # impossible date
    bad = line(1005, 1)
    del bad["FAuxPrice"]
    add_order(src, header(1005), [bad])  # missing column
    add_order(src, *simple_order(1006))
    report = sync_once(src, store, k3)
    assert (report.imported, report.quarantined) == (2, 4)
    assert set(store.by_erp_id) == {"1001", "1006"}
    messages = {q.erp_id: q.message for q in store.quarantined(k3.stream)}
    assert messages == {
        "1002": "SEOrder row 'FInterID=1002', column FCustID: unknown customer: "
        "no t_Organization row with FItemID = 99",
        "1003": "SEOrderEntry row 'FInterID=1003/FEntryID=1', column FQty: must be > 0, got -5",
        "1004": "SEOrder row 'FInterID=1004', column FDate: "
        "cannot parse date/time '2026-02-30 08:00'",
        "1005": "SEOrderEntry row 'FInterID=1005/FEntryID=1', column FAuxPrice: "
        "column is missing from the ERP row",
    }
    assert [e["column"] for q in report.new_quarantine for e in q.errors] == [
        "FCustID",
        "FQty",
        "FDate",
        "FAuxPrice",
    ]
    # nothing of a quarantined row was written
    assert not [a for a in store.audit if a.order_id not in {o.id for o in store.orders.values()}]
    # quarantine is stable: a second run neither re-imports nor re-quarantines
    again = sync_once(src, store, k3)
    assert (again.imported, again.quarantined, again.unchanged) == (0, 0, 6)


def test_fixed_rows_leave_the_quarantine(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source()
    add_order(src, header(1001, FCustID=99), [line(1001, 1)])
    add_order(src, header(1002), [line(1002, 1, FQty=Decimal(-5))])
    sync_once(src, store, k3)
    assert len(store.quarantined(k3.stream)) == 2
    src.insert("t_Organization", {"FItemID": 99, "FNumber": "C00099", "FName": "New customer"})
    set_qty(src, 1002, 1, Decimal(5))
    report = sync_once(src, store, k3)
    assert (report.imported, report.released) == (2, 2)
    assert store.quarantined(k3.stream) == []
    assert store.orders[store.by_erp_id["1001"]].customer_id == "C00099"


def test_a_crash_mid_batch_leaves_nothing_half_written(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = k3_source(simple_order(i) for i in range(1001, 1009))
    add_order(src, header(1009, FCustID=99), [line(1009, 1)])

    def crash(order: Order, record: AuditRecord) -> None:
        if order.erp_id == "1006":
            raise RuntimeError("disk full")

    store.fail_on = crash
    with pytest.raises(RuntimeError, match="disk full"):
        sync_once(src, store, k3, batch_size=4)
    # batch 1 (1001-1004) committed; batch 2 (1005-1008) rolled back entirely
    assert set(store.by_erp_id) == {"1001", "1002", "1003", "1004"}
    assert {a.order_id for a in store.audit} == {store.by_erp_id[k] for k in store.by_erp_id}
    assert store.cursors[k3.stream] == SyncCursor(watermark=1004)
    assert len(store.row_state) == 4
    store.fail_on = None
    report = sync_once(src, store, k3, batch_size=4)
    assert (report.imported, report.quarantined) == (4, 1)
    assert len(store.orders) == 8
    assert len([a for a in store.audit if a.type == "created"]) == 8


def test_refusals_by_orderflow_are_quarantined(k3: ErpMapping) -> None:
    store = InMemoryErpStore(frozen_stages=("production_dispatched",))
    src = k3_source([simple_order(1001), simple_order(1002)])
    sync_once(src, store, k3)
    store.set_stage(store.by_erp_id["1001"], "production_dispatched")
    store.set_stage(store.by_erp_id["1002"], "production_dispatched")
    set_qty(src, 1001, 1, Decimal(99))
    src.update("SEOrder", {"FInterID": 1002}, FCancellation=1)
    report = sync_once(src, store, k3)
    assert (report.updated, report.cancelled, report.quarantined) == (0, 0, 2)
    messages = {q.erp_id: q.message for q in store.quarantined(k3.stream)}
    assert "orderflow refused the change" in messages["1001"]
    assert "ERP changes are no longer accepted" in messages["1001"]
    assert "'cancel' is not allowed from stage 'production_dispatched'" in messages["1002"]
    assert store.orders[store.by_erp_id["1001"]].lines[0].qty == 10


def test_uncancelling_is_refused(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source([simple_order(1001)])
    sync_once(src, store, k3)
    src.update("SEOrder", {"FInterID": 1001}, FCancellation=1)
    sync_once(src, store, k3)
    src.update("SEOrder", {"FInterID": 1001}, FCancellation=0)
    report = sync_once(src, store, k3)
    assert report.quarantined == 1
    (entry,) = store.quarantined(k3.stream)
    assert entry.errors[0]["column"] == "FCancellation"
    assert "un-cancelling is not supported" in entry.message


def test_late_commits_below_the_watermark_are_found_by_reconciliation(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = k3_source([simple_order(1001), simple_order(1003)])
    sync_once(src, store, k3)
    add_order(src, *simple_order(1002))  # a transaction that committed late
    report = sync_once(src, store, k3)
    assert report.imported == 1 and "1002" in store.by_erp_id


def test_max_batches_resumes_from_the_watermark(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source(simple_order(i) for i in range(1001, 1021))
    first = sync_once(src, store, k3, batch_size=5, max_batches=2)
    assert (first.imported, first.watermark) == (10, 1010)
    second = sync_once(src, store, k3, batch_size=5)
    assert (second.imported, second.watermark, second.unchanged) == (10, 1020, 10)


def test_rolling_reconciliation_covers_the_table(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source(simple_order(i) for i in range(1001, 1011))
    sync_once(src, store, k3)
    set_qty(src, 1009, 1, Decimal(3))
    seen = []
    for _ in range(3):
        report = sync_once(src, store, k3, reconcile=4, batch_size=2)
        seen.append((report.reconciled, report.updated))
    assert seen == [(4, 0), (4, 0), (2, 1)]
    assert store.cursors[k3.stream].reconcile_after is None  # wrapped around
    assert sync_once(src, store, k3, reconcile=4).reconciled == 4


def test_follow_polls_until_stopped(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source([simple_order(1001)])
    stop = threading.Event()
    runs: list[int] = []

    def on_run(report: object) -> None:
        runs.append(len(store.orders))
        if len(runs) == 1:
            add_order(src, *simple_order(1002))
        if len(runs) == 3:
            stop.set()

    changed = follow(src, store, k3, interval=0.01, stop=stop, on_run=on_run)
    assert runs == [1, 2, 2]
    assert [r.imported for r in changed] == [1, 1]
    assert len(follow(src, store, k3, interval=0.01, max_runs=2)) == 0


def test_parse_interval() -> None:
    assert parse_interval("1s") == 1.0
    assert parse_interval("500ms") == 0.5
    assert parse_interval("2m") == 120.0
    assert parse_interval("0.25") == 0.25
    for bad in ("", "0s", "fast", "-1s"):
        with pytest.raises(InputError, match="not an interval"):
            parse_interval(bad)


def test_report_is_plain_data(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source([simple_order(1001)])
    add_order(src, header(1002, FCustID=99), [line(1002, 1)])
    report = sync_once(src, store, k3, progress=True, clock=None)
    data = report.as_dict()
    assert data["imported"] == 1 and data["quarantined"] == 1
    assert data["quarantine"][0]["errors"][0]["column"] == "FCustID"
    assert "1 imported" in report.summary()
    with pytest.raises(InputError):
        sync_once(src, store, k3, batch_size=0)


def test_quarantine_entries_are_stamped_by_the_clock(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = k3_source()
    add_order(src, header(1002, FCustID=99), [line(1002, 1)])
    sync_once(src, store, k3, clock=store.clock)
    (entry,) = store.quarantined(k3.stream)
    assert entry.at == store.clock.now()
    assert entry.at.tzinfo is not None and entry.at.utcoffset() == dt.timedelta(0)
