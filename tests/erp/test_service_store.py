"""The sync engine against the real order service (memory and SQLite stores) (R7, R5).

The important behaviours of ``test_sync.py`` re-run over :class:`ServiceErpStore`, the
batching property checks the real service against the reference in-memory fake, and an
end-to-end test goes from a K3-shaped SQLite database to an orderflow SQLite store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.adapters.erp_sql import SqlErpSource
from orderflow.audit import AuditEntry, EntryType, decode
from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.domain import Order
from orderflow.erp import (
    ErpMapping,
    ErpSource,
    ErpSyncStore,
    RowMapper,
    SyncCursor,
    load_lookups,
    sync_once,
)
from orderflow.exceptions import IdempotencyConflict
from orderflow.service import OrderService, Submission
from orderflow.service.erp_store import ROW, ServiceErpStore
from orderflow.testing.erp_fakes import InMemoryErpStore
from orderflow.testing.k3_fixture import K3Writer, populate_k3
from orderflow.workflow import Workflow
from orderflow.workflow.definition import DEFAULT_DEFINITION

from .helpers import add_order, header, k3_source, line, set_qty, simple_order
from .test_sync_properties import K3, Erp, ops_st

BACKENDS = ("memory", "sqlite")


def _connect(backend: str, folder: Path, workflow: Workflow | None = None) -> OrderService:
    url = "memory://" if backend == "memory" else f"sqlite:///{folder / 'orderflow.db'}"
    return connect(url, clock=FrozenClock(), workflow=workflow)


@pytest.fixture(params=BACKENDS)
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OrderService]:
    """An order service on an empty memory or SQLite store."""
    service = _connect(request.param, tmp_path)
    yield service
    service.store.close()


@pytest.fixture
def erp_store(svc: OrderService) -> ServiceErpStore:
    """The ERP sync store over ``svc``."""
    return ServiceErpStore(svc)


# --- reading the real service back -------------------------------------------------------


def by_erp_id(svc: OrderService) -> dict[str, Order]:
    return {o.erp_id: o for o in svc.store.orders() if o.erp_id}


def entries(svc: OrderService) -> list[AuditEntry]:
    return [decode(data) for data in svc.store.audit_entries()]


def comparable(entry: AuditEntry) -> tuple[object, ...]:
    """An entry as the fake's ``AuditRecord.without_time()`` (created: no state, no fields)."""
    created = entry.type is EntryType.CREATED
    changes = tuple(
        (c.field, c.old, c.new)
        for c in entry.changes
        if entry.type is EntryType.FIELD_UPDATE and c.field != "lines"
    )
    return (
        entry.order_id,
        entry.seq,
        entry.type.value,
        entry.actor,
        entry.idempotency_key,
        None if created else entry.from_state,
        None if created else entry.to_state,
        changes,
        entry.context_map.get("reason", ""),
    )


def fake_comparable(store: InMemoryErpStore) -> list[tuple[object, ...]]:
    out = []
    for a in store.audit:
        record = a.without_time()
        if a.type == "created":
            record = (*record[:5], None, None, *record[7:])
        out.append(record)
    return sorted(out, key=repr)


def snapshot(svc: OrderService) -> dict[str, tuple[object, ...]]:
    """The same view as ``InMemoryErpStore.snapshot``."""
    return {
        o.erp_id: (
            o.id,
            o.number,
            o.erp_number,
            o.customer_id,
            o.lines,
            o.requested_date,
            o.factory_id,
            o.stage,
            o.version,
        )
        for o in svc.store.orders()
    }


def quarantine(store: ServiceErpStore, mapping: ErpMapping) -> dict[str, str]:
    return {q.erp_id: q.message for q in store.quarantined(mapping.stream)}


# --- the sync tests over the real service ------------------------------------------------


def test_service_store_implements_the_port(erp_store: ServiceErpStore) -> None:
    assert isinstance(erp_store, ErpSyncStore)


def test_first_run_imports_and_second_run_creates_nothing(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source(simple_order(i) for i in range(1001, 1011))
    report = sync_once(src, erp_store, k3, batch_size=3)
    assert (report.imported, report.quarantined, report.batches) == (10, 0, 4)
    assert report.watermark == 1010
    order = by_erp_id(svc)["1001"]
    assert (order.number, order.erp_id, order.erp_number, order.stage) == (
        "HY20260122-1001",
        "1001",
        "SEORD001001",
        "pending_review",
    )
    assert svc.find(erp_id="1001") == order
    created = [e for e in entries(svc) if e.order_id == order.id]
    assert [e.type for e in created] == [EntryType.CREATED]
    assert created[0].actor == "erp-sync"
    assert created[0].idempotency_key == "erp:kingdee-k3-wise:1001:import"
    assert "check.credit_limit" in created[0].context_map  # the R2 checks, as submit does
    size = svc.store.audit_size()
    again = sync_once(src, erp_store, k3, batch_size=3)
    assert (again.imported, again.updated, again.unchanged, again.reconciled) == (0, 0, 10, 10)
    assert svc.store.audit_size() == size
    assert len(by_erp_id(svc)) == 10
    assert erp_store.cursor(k3.stream) == SyncCursor(watermark=1010)
    svc.audit.verify(deep=True)


def test_changed_row_becomes_a_field_update_naming_each_field(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source([simple_order(1001)])
    sync_once(src, erp_store, k3)
    set_qty(src, 1001, 1, Decimal(7))
    src.update("SEOrder", {"FInterID": 1001}, FCustID=2)
    report = sync_once(src, erp_store, k3)
    assert report.updated == 1
    entry = entries(svc)[-1]
    assert entry.type is EntryType.FIELD_UPDATE
    assert entry.actor == "erp-sync"
    changes = entry.changes_map
    assert changes["customer_id"] == ("C00001", "C00002")
    assert changes["lines[0].qty"] == ("10", "7")
    assert set(changes) == {"customer_id", "lines", "lines[0].qty"}
    order = svc.get(entry.order_id)
    assert order.customer_id == "C00002" and order.lines[0].qty == 7 and order.version == 1
    svc.audit.verify(deep=True)  # the order replays from its chain
    assert sync_once(src, erp_store, k3).updated == 0


def test_cancellation_in_the_erp_cancels_the_order(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source([simple_order(1001), simple_order(1002, FCancellation=1)])
    report = sync_once(src, erp_store, k3)
    # a document already cancelled when first seen is not demand: never imported
    assert (report.imported, report.skipped, report.cancelled) == (1, 1, 0)
    src.update("SEOrder", {"FInterID": 1001}, FCancellation=1)
    assert sync_once(src, erp_store, k3).cancelled == 1
    cancels = [e for e in entries(svc) if e.type is EntryType.STATE_CHANGE]
    assert [(e.from_state, e.to_state) for e in cancels] == [("pending_review", "cancelled")]
    assert "SEOrder FInterID=1001, FCancellation" in cancels[0].context_map["reason"]
    assert {o.stage for o in svc.store.orders()} == {"cancelled"}
    svc.audit.verify(deep=True)


def test_bad_rows_are_quarantined_and_the_rest_syncs(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source([simple_order(1001)])
    add_order(src, header(1002, FCustID=99), [line(1002, 1)])
    add_order(
        src,
        header(1003),
        [line(1003, 1, FQty=Decimal(-5), FAuxQty=Decimal(1), FAllStdAmount=Decimal(0))],
    )
    bad = line(1005, 1)
    del bad["FAuxPrice"]
    add_order(src, header(1005), [bad])
    add_order(src, *simple_order(1006))
    report = sync_once(src, erp_store, k3)
    assert (report.imported, report.quarantined) == (2, 3)
    assert set(by_erp_id(svc)) == {"1001", "1006"}
    assert quarantine(erp_store, k3) == {
        "1002": "SEOrder row 'FInterID=1002', column FCustID: unknown customer: "
        "no t_Organization row with FItemID = 99",
        "1003": "SEOrderEntry row 'FInterID=1003/FEntryID=1', column FQty: must be > 0, got -5",
        "1005": "SEOrderEntry row 'FInterID=1005/FEntryID=1', column FAuxPrice: "
        "column is missing from the ERP row",
    }
    assert {e.order_id for e in entries(svc)} == {o.id for o in svc.store.orders()}
    again = sync_once(src, erp_store, k3)
    assert (again.imported, again.quarantined, again.unchanged) == (0, 0, 5)


def test_fixed_rows_leave_the_quarantine(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source()
    add_order(src, header(1001, FCustID=99), [line(1001, 1)])
    add_order(src, header(1002), [line(1002, 1, FQty=Decimal(-5))])
    sync_once(src, erp_store, k3)
    assert len(erp_store.quarantined(k3.stream)) == 2
    src.insert("t_Organization", {"FItemID": 99, "FNumber": "C00099", "FName": "New customer"})
    set_qty(src, 1002, 1, Decimal(5))
    report = sync_once(src, erp_store, k3)
    assert (report.imported, report.released) == (2, 2)
    assert erp_store.quarantined(k3.stream) == []
    assert by_erp_id(svc)["1001"].customer_id == "C00099"


def test_a_crash_mid_batch_leaves_nothing_half_written(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = k3_source(simple_order(i) for i in range(1001, 1009))
    add_order(src, header(1009, FCustID=99), [line(1009, 1)])
    submit = svc.submit

    def crashing(draft: Any, **kwargs: Any) -> Submission:
        if draft.erp_id == "1006":
            raise RuntimeError("disk full")
        return submit(draft, **kwargs)

    monkeypatch.setattr(svc, "submit", crashing)
    with pytest.raises(RuntimeError, match="disk full"):
        sync_once(src, erp_store, k3, batch_size=4)
    # batch 1 (1001-1004) committed; batch 2 (1005-1008) rolled back entirely
    assert set(by_erp_id(svc)) == {"1001", "1002", "1003", "1004"}
    assert {e.order_id for e in entries(svc)} == {o.id for o in svc.store.orders()}
    assert erp_store.cursor(k3.stream) == SyncCursor(watermark=1004)
    with svc.store.transaction() as tx:
        assert len(tx.docs(ROW, k3.stream + "/")) == 4
        assert tx.get_idempotent("erp:kingdee-k3-wise:1005:import") is None
    monkeypatch.undo()
    report = sync_once(src, erp_store, k3, batch_size=4)
    assert (report.imported, report.quarantined) == (4, 1)
    assert len(by_erp_id(svc)) == 8
    assert len([e for e in entries(svc) if e.type is EntryType.CREATED]) == 8
    svc.audit.verify(deep=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_refusals_by_orderflow_are_quarantined(
    k3: ErpMapping, backend: str, tmp_path: Path
) -> None:
    # guards off, to walk orders into production without master data
    free = attrs.evolve(
        DEFAULT_DEFINITION,
        transitions=tuple(attrs.evolve(t, guards=()) for t in DEFAULT_DEFINITION.transitions),
    )
    svc = _connect(backend, tmp_path, Workflow(free))
    erp_store = ServiceErpStore(svc)
    src = k3_source([simple_order(1001), simple_order(1002)])
    sync_once(src, erp_store, k3)
    for erp_id in ("1001", "1002"):
        order = by_erp_id(svc)[erp_id]
        svc.fire(order.id, "lock_kitting", actor="planner")
        svc.fire(order.id, "dispatch_production", actor="planner")
    set_qty(src, 1001, 1, Decimal(99))
    src.update("SEOrder", {"FInterID": 1002}, FCancellation=1)
    size = svc.store.audit_size()
    report = sync_once(src, erp_store, k3)
    assert (report.updated, report.cancelled, report.quarantined) == (0, 0, 2)
    messages = quarantine(erp_store, k3)
    assert "orderflow refused the change" in messages["1001"]
    assert "ERP changes are no longer accepted" in messages["1001"]
    assert "'cancel' is not allowed from stage 'production_dispatched'" in messages["1002"]
    assert by_erp_id(svc)["1001"].lines[0].qty == 10
    assert svc.store.audit_size() == size
    svc.audit.verify(deep=True)
    svc.store.close()


def test_uncancelling_is_refused(k3: ErpMapping, erp_store: ServiceErpStore) -> None:
    src = k3_source([simple_order(1001)])
    sync_once(src, erp_store, k3)
    src.update("SEOrder", {"FInterID": 1001}, FCancellation=1)
    sync_once(src, erp_store, k3)
    src.update("SEOrder", {"FInterID": 1001}, FCancellation=0)
    assert sync_once(src, erp_store, k3).quarantined == 1
    (entry,) = erp_store.quarantined(k3.stream)
    assert entry.errors[0]["column"] == "FCancellation"
    assert "un-cancelling is not supported" in entry.message


def test_late_commits_and_rolling_reconciliation(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source([simple_order(1001), simple_order(1003)])
    sync_once(src, erp_store, k3)
    add_order(src, *simple_order(1002))  # a transaction that committed late
    assert sync_once(src, erp_store, k3).imported == 1 and "1002" in by_erp_id(svc)
    for i in range(1004, 1011):
        add_order(src, *simple_order(i))
    first = sync_once(src, erp_store, k3, batch_size=5, max_batches=1, reconcile=False)
    assert (first.imported, first.watermark) == (5, 1008)
    set_qty(src, 1009, 1, Decimal(3))
    sync_once(src, erp_store, k3, reconcile=False)
    set_qty(src, 1009, 1, Decimal(4))
    seen = []
    for _ in range(3):
        report = sync_once(src, erp_store, k3, reconcile=4, batch_size=2)
        seen.append((report.reconciled, report.updated))
    assert seen == [(4, 0), (4, 0), (2, 1)]
    assert erp_store.cursor(k3.stream).reconcile_after is None  # wrapped around


def test_idempotent_writes_replay_and_conflict(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source([simple_order(1001)])
    record = src.read_orders(k3, after=None, limit=1)[0]
    draft = RowMapper(k3, load_lookups(src, k3)).map(record).draft
    assert draft is not None
    with erp_store.unit_of_work() as uow:
        first = uow.orders.import_order(draft, actor="erp-sync", idempotency_key="k1")
        again = uow.orders.import_order(draft, actor="erp-sync", idempotency_key="k1")
        assert again.id == first.id and again.version == first.version
    assert svc.store.audit_size() == 1
    other = attrs.evolve(draft, erp_number="SEORD-X")
    with pytest.raises(IdempotencyConflict), erp_store.unit_of_work() as uow:
        uow.orders.import_order(other, actor="erp-sync", idempotency_key="k1")


def test_quarantine_entries_are_stamped_by_the_clock(
    k3: ErpMapping, svc: OrderService, erp_store: ServiceErpStore
) -> None:
    src = k3_source()
    add_order(src, header(1002, FCustID=99), [line(1002, 1)])
    sync_once(src, erp_store, k3, clock=svc.clock)
    (entry,) = erp_store.quarantined(k3.stream)
    assert entry.at == svc.clock.now()


# --- the batching property, real service against the reference fake ---------------------


def _sync_to_the_end(
    src: ErpSource, store: ServiceErpStore, batch: int, per_run: int | None
) -> None:
    for _ in range(1000):
        report = sync_once(src, store, K3, batch_size=batch, max_batches=per_run)
        if not report.changed and not report.quarantined:
            top = src.read_orders(K3, after=report.watermark, limit=1)
            if not top:
                return
    raise AssertionError("sync did not converge")


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=30)
@given(ops=ops_st, batch=st.integers(1, 6), per_run=st.none() | st.integers(1, 3))
def test_batching_gives_the_same_result_as_the_reference(
    backend: str, ops: list[tuple[Any, ...]], batch: int, per_run: int | None
) -> None:
    erp = Erp()
    for op in ops:
        if op[0] != "sync":
            erp.apply(op)
    reference = InMemoryErpStore(FrozenClock())
    sync_once(erp.src, reference, K3)
    with tempfile.TemporaryDirectory() as folder:
        svc = _connect(backend, Path(folder))
        store = ServiceErpStore(svc)
        _sync_to_the_end(erp.src, store, batch, per_run)
        assert snapshot(svc) == reference.snapshot()
        assert sorted(map(comparable, entries(svc)), key=repr) == fake_comparable(reference)
        assert quarantine(store, K3) == {
            q.erp_id: q.message for q in reference.quarantined(K3.stream)
        }
        size = svc.store.audit_size()
        sync_once(erp.src, store, K3)
        assert svc.store.audit_size() == size
        svc.audit.verify(deep=True)
        svc.store.close()


# --- end to end: K3 in SQLite -> orderflow in SQLite -------------------------------------


def test_k3_sqlite_to_orderflow_sqlite_end_to_end(
    k3: ErpMapping, sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    stats = populate_k3(sqlite_engine, orders=60, lines_per_order=3, seed=7)
    source = SqlErpSource(str(sqlite_engine.url))
    svc = connect(f"sqlite:///{tmp_path / 'orderflow.db'}")
    store = ServiceErpStore(svc)
    report = sync_once(source, store, k3, batch_size=25)
    assert (report.imported, report.quarantined) == (stats.orders, 0)
    assert len(by_erp_id(svc)) == 60
    checkpoint = svc.audit.verify(deep=True)
    assert checkpoint.size == 60 + report.cancelled
    # a K3 user edits a line of an open order
    live = next(
        o for o in sorted(svc.store.orders(), key=lambda o: o.erp_id) if o.stage == "pending_review"
    )
    old_qty = live.lines[1].qty
    K3Writer(sqlite_engine).update_line(int(live.erp_id), 2, FQty=old_qty + 5)
    changed = sync_once(source, store, k3, batch_size=25)
    assert (changed.updated, changed.imported, changed.quarantined) == (1, 0, 0)
    entry = decode(svc.store.audit_chain(live.id)[-1][1])
    assert entry.type is EntryType.FIELD_UPDATE
    assert entry.changes_map["lines[1].qty"] == (str(old_qty), str(old_qty + 5))
    assert svc.get(live.id).lines[1].qty == old_qty + 5
    svc.audit.verify(deep=True)
    # running again (twice) creates nothing new
    size = svc.store.audit_size()
    for _ in range(2):
        again = sync_once(source, store, k3, batch_size=25)
        assert (again.changed, again.unchanged) == (0, 60)
    assert svc.store.audit_size() == size and len(by_erp_id(svc)) == 60
    source.close()
    svc.store.close()
