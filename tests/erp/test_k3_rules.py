"""The Kingdee K3 WISE preset behaves as a real K3 does (R7, R6).

Every rule of ``shared/research/k3_wise_schema.md`` the preset implements, on the
hand-built :func:`~orderflow.testing.k3_scenario.k3_scenario`, read both by the
in-memory source and by the SQL source over SQLite (so the SQLAlchemy rendering of the
row filters is exercised too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

from orderflow.adapters.erp_sql import SqlErpSource
from orderflow.audit import decode
from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.domain import BomLine, Component, Customer, Product
from orderflow.erp import (
    ErpMapping,
    ErpSource,
    erp_stock,
    parse_mapping,
    reconcile_stock,
    sync_once,
)
from orderflow.service.erp_store import ServiceErpStore
from orderflow.testing.erp_fakes import InMemoryErpSource, InMemoryErpStore
from orderflow.testing.k3_fixture import create_k3_schema, k3_line
from orderflow.testing.k3_scenario import k3_scenario, populate_k3_scenario
from orderflow.workflow import Workflow
from orderflow.workflow.definition import DEFAULT_DEFINITION

OPEN = {"1001", "1002", "1006", "1007", "1008", "1009", "1010"}


@pytest.fixture(params=["memory", "sqlite"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ErpSource]:
    """The scenario, in memory or in a K3-shaped SQLite file read by the SQL source."""
    if request.param == "memory":
        yield InMemoryErpSource(k3_scenario())
        return
    url = f"sqlite:///{tmp_path / 'k3.db'}"
    engine = sa.create_engine(url)
    create_k3_schema(engine)
    populate_k3_scenario(engine)
    engine.dispose()
    sql = SqlErpSource(url)
    yield sql
    sql.close()


def _lines(store: InMemoryErpStore, erp_id: str) -> list[tuple[str, Decimal, Decimal]]:
    order = store.orders[store.by_erp_id[erp_id]]
    return [(ln.product, ln.qty, ln.unit_price) for ln in order.lines]


def test_change_history_rows_drafts_and_closed_orders_are_not_imported(
    source: ErpSource, k3: ErpMapping, store: InMemoryErpStore
) -> None:
    report = sync_once(source, store, k3)
    assert set(store.by_erp_id) == OPEN
    # 1003 is K3's change-history copy of 1002: filtered out, so never even seen
    assert (report.imported, report.skipped) == (7, 3)  # 1004 draft, 1005 and 1011 closed
    numbers = [o.erp_number for o in store.orders.values()]
    assert len(numbers) == len(set(numbers))  # SEORD001002 once
    assert _lines(store, "1002") == [("P-00002", Decimal(12), Decimal("5.65"))]  # not 10
    again = sync_once(source, store, k3)
    # 1010 is shipped but not yet at its deliver stage: it waits, looked at every run
    assert (again.imported, again.changed, again.unchanged, again.waiting) == (0, 0, 9, 1)


def test_a_null_cancellation_reads_as_not_cancelled(
    source: ErpSource, k3: ErpMapping, store: InMemoryErpStore
) -> None:
    sync_once(source, store, k3)
    assert store.orders[store.by_erp_id["1008"]].stage == "pending_review"
    assert not store.quarantined(k3.stream)


def test_units_and_currency_as_k3_keeps_them(
    source: ErpSource, k3: ErpMapping, store: InMemoryErpStore
) -> None:
    sync_once(source, store, k3)
    # 5 boxes of 12 at 120 + 13% tax: orderflow counts 60 pieces at 135.6 / 12 each
    assert _lines(store, "1009") == [("P-00003", Decimal(60), Decimal("11.3"))]
    (boxes,) = store.facts[(k3.stream, "1009")]["lines"]
    assert boxes[2:5] == ["60", "5", "2"]  # FQty, FAuxQty, FUnitID
    assert boxes[5:10] == ["120", "678", "135.6", "13", "0"]  # price, base amount, tax
    # 10 at USD 100 + 13% at 7.1: orderflow's amount is the base-currency FAllStdAmount
    usd = store.orders[store.by_erp_id["1007"]]
    assert usd.amount == Decimal("8023.00")
    facts = store.facts[(k3.stream, "1007")]
    assert (facts["currency"], facts["exchange_rate"]) == ("2", "7.1")
    assert Decimal(facts["base_amount"]) == Decimal(8023)
    assert facts["lines"][0][5] == "100"  # FAuxPrice stays in USD, ex tax


def test_a_foreign_currency_orders_credit_exposure_is_in_the_base_currency(
    tmp_path: Path, k3: ErpMapping
) -> None:
    svc = connect(f"sqlite:///{tmp_path / 'of.db'}", clock=FrozenClock())
    try:
        svc.put_customer(Customer("C00001", "Ningbo", credit_limit=Decimal(100_000)))
        svc.put_product(Product("P-00002", "valve body", bom=(BomLine("Q23-7", 1),)))
        svc.put_component(Component("Q23-7", "seal ring"))
        svc.set_stock("Q23-7", 1_000)
        sync_once(InMemoryErpSource(k3_scenario()), ServiceErpStore(svc), k3)
        usd = svc.find(erp_id="1007")
        assert usd is not None
        (credit,) = [
            r for r in svc.explain(usd.id, "lock_kitting").results if r.code == "credit_limit"
        ]
        assert credit.measured["order_amount"] == Decimal("8023.00")  # not USD 1,130
        svc.fire(usd.id, "lock_kitting", actor="planner")
        assert svc.customer("C00001").open_exposure == Decimal("8023.00")
    finally:
        svc.store.close()


def test_closed_lines_stop_counting_as_open_demand(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = InMemoryErpSource(k3_scenario())
    src.insert(
        "SEOrder", k3_scenario()["SEOrder"][0] | {"FInterID": 1020, "FBillNo": "SEORD001020"}
    )
    for entry, item in ((1, 10_002), (2, 10_003)):
        src.insert(
            "SEOrderEntry",
            k3_line(1020, entry, item, Decimal(10), Decimal(5), dt.datetime(2026, 2, 1)),
        )
    sync_once(src, store, k3)
    # 1006 arrived with its closed line left out
    assert _lines(store, "1006") == [("Q23-7", Decimal(8), Decimal("11.3"))]
    products = {
        "P-00002": Product("P-00002", "body", bom=(BomLine("seal", 1),)),
        "P-00003": Product("P-00003", "cap", bom=(BomLine("seal", 2),)),
    }

    def demand() -> Decimal:
        from orderflow.domain import StockPosition

        report = reconcile_stock(
            {"seal": Decimal(1_000)},
            [StockPosition("seal", 0)],
            generated_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
            orders=[store.orders[store.by_erp_id["1020"]]],
            products=products,
        )
        return sum(
            (o.required for d in report.discrepancies for o in d.orders_affected), Decimal(0)
        )

    assert demand() == 30  # 10 x 1 + 10 x 2
    src.update("SEOrderEntry", {"FInterID": 1020, "FEntryID": 2}, FMrpClosed=1)
    report = sync_once(src, store, k3)
    assert report.updated == 1
    update = store.audit[-1]
    assert update.type == "field_update"
    assert ("lines[1].product", "P-00003", None) in update.changes
    assert demand() == 10
    # every line closed: the order is closed, and orderflow cancels it, naming why
    src.update("SEOrderEntry", {"FInterID": 1020, "FEntryID": 1}, FMrpClosed=1)
    assert sync_once(src, store, k3).closed == 1
    assert store.orders[store.by_erp_id["1020"]].stage == "cancelled"
    assert "closed in the ERP without being fully shipped" in store.audit[-1].reason


def test_partial_shipment_and_return_give_shipped_qty_and_delivery_date(
    source: ErpSource, k3: ErpMapping, store: InMemoryErpStore
) -> None:
    report = sync_once(source, store, k3)
    facts = store.facts[(k3.stream, "1010")]
    (line,) = facts["lines"]
    # 60 + 40 - 10 (red bill) + 10; the cancelled and the un-audited bill do not count
    assert line[12] == "100"
    assert line[14] == ["5001", "5002", "5003", "5004"]
    assert facts["delivered_on"] == "2026-02-12"  # the bill that covered it again
    # shipped in the ERP before orderflow's QC release: the row waits, nothing skipped
    assert report.waiting == 1
    order_id = store.by_erp_id["1010"]
    store.set_stage(order_id, "qc_released")
    report = sync_once(source, store, k3)
    assert report.delivered == 1
    delivered = store.orders[order_id]
    assert delivered.stage == "delivered"
    record = store.audit[-1]
    assert record.occurred_at == dt.datetime(2026, 2, 11, 16, tzinfo=dt.UTC)  # 12 Feb, Shanghai
    assert "5004" in record.reason
    assert sync_once(source, store, k3).changed == 0


def test_a_return_uncovers_the_line_until_it_ships_again(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = InMemoryErpSource(k3_scenario())
    src.delete("ICStockBill", {"FInterID": 5004})
    sync_once(src, store, k3)
    facts = store.facts[(k3.stream, "1010")]
    assert facts["lines"][0][12] == "90" and facts["delivered_on"] is None
    store.set_stage(store.by_erp_id["1010"], "qc_released")
    assert sync_once(src, store, k3).delivered == 0


def test_un_audited_and_deleted_orders_are_reported(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = InMemoryErpSource(k3_scenario())
    sync_once(src, store, k3)
    src.update("SEOrder", {"FInterID": 1001}, FCheckerID=0, FStatus=0)
    src.delete("SEOrder", {"FInterID": 1008})
    report = sync_once(src, store, k3)
    assert (report.unaudited, report.deleted, report.quarantined) == (1, 1, 2)
    messages = {q.erp_id: q.message for q in store.quarantined(k3.stream)}
    assert "un-audited in the ERP" in messages["1001"] and "FCheckerID" in messages["1001"]
    assert "gone from SEOrder" in messages["1008"]
    assert "FChangeMark = 0" in messages["1008"]  # the filter that could hide it
    # audited again: released
    src.update("SEOrder", {"FInterID": 1001}, FCheckerID=16394, FStatus=1)
    assert sync_once(src, store, k3).released == 1


def test_stock_sums_locations_and_batches_minus_locks(source: ErpSource, k3: ErpMapping) -> None:
    counted = erp_stock(source, k3)
    # 120 + 50 - 5 in warehouse 1, 35 in warehouse 2; locks for sales orders 30 + 8
    assert counted.on_hand["Q23-7"] == 200
    assert counted.locked == {"Q23-7": 38}  # the FTranType 1 lock does not count
    assert counted.totals["Q23-7"] == 162
    assert counted.warehouses == ("1", "2")
    doc = dict(k3.document)
    doc["stock"] = {**doc["stock"], "warehouses": ["1"]}
    only_one = erp_stock(source, parse_mapping(doc))
    assert (only_one.totals["Q23-7"], only_one.warehouses) == (Decimal(135), ("1",))
    report = reconcile_stock(
        counted.totals,
        [],
        generated_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        warehouses=counted.warehouses,
    )
    assert report.as_dict()["warehouses"] == ["1", "2"]
    assert "ERP warehouses 1, 2" in report.health_section()["summary"]


def test_outbound_bills_drive_the_services_deliver_event(tmp_path: Path, k3: ErpMapping) -> None:
    free = attrs.evolve(
        DEFAULT_DEFINITION,
        transitions=tuple(attrs.evolve(t, guards=()) for t in DEFAULT_DEFINITION.transitions),
    )
    later = FrozenClock(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))  # after the bills' dates
    svc = connect(f"sqlite:///{tmp_path / 'of.db'}", clock=later, workflow=Workflow(free))
    try:
        store = ServiceErpStore(svc)
        src = InMemoryErpSource(k3_scenario())
        assert sync_once(src, store, k3).waiting == 1  # shipped, still pending_review
        order = svc.find(erp_id="1010")
        assert order is not None
        for event in ("lock_kitting", "dispatch_production", "release_qc"):
            svc.fire(order.id, event, actor="plant")
        assert sync_once(src, store, k3).delivered == 1
        delivered = svc.get(order.id)
        assert delivered.stage == "delivered"
        (entry,) = [
            e
            for e in (decode(d) for d in svc.store.audit_entries())
            if e.order_id == order.id and e.to_state == "delivered"
        ]
        # the covering bill's date (12 Feb, Shanghai) is when it happened
        occurred = dt.datetime(2026, 2, 11, 16, tzinfo=dt.UTC)
        assert entry.context_map["occurred"] == str(int(occurred.timestamp() * 1_000_000))
        assert "5004" in entry.context_map["reason"]  # the covering bill (ICStockBill.FInterID)
        with store.unit_of_work() as uow:
            facts = uow.state.facts(k3.stream, "1010")
        assert facts is not None and facts["delivered_on"] == "2026-02-12"
    finally:
        svc.store.close()
