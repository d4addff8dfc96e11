"""Outbound change feed, stock reconciliation (R6) and the schema check (R7)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from orderflow.domain import BomLine, Product, StockPosition
from orderflow.erp import (
    ErpMapping,
    MappingSpecError,
    check_mapping,
    check_schema,
    erp_stock,
    feed_rows,
    reconcile_stock,
    sync_once,
    write_feed,
)
from orderflow.exceptions import InputError
from orderflow.testing.erp_fakes import InMemoryErpStore

from .helpers import add_order, header, k3_source, line, simple_order


def _synced(k3: ErpMapping, store: InMemoryErpStore) -> None:
    src = k3_source([simple_order(1001), simple_order(1002), simple_order(1003)])
    sync_once(src, store, k3)


def test_feed_carries_stage_and_actual_delivery_date(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    _synced(k3, store)
    store.clock.set(store.clock.now() + dt.timedelta(days=20, hours=17))  # type: ignore[attr-defined]
    delivered = store.set_stage(store.by_erp_id["1002"], "delivered")
    rows = feed_rows(store.orders.values(), k3)
    assert [r["FInterID"] for r in rows] == [1001, 1002, 1003]
    assert rows[1] == {
        "FInterID": 1002,
        "FBillNo": "SEORD001002",
        "orderflow_delivered_on": "2026-01-22",  # 17:00 UTC on the 21st is the 22nd in Ningbo
        "orderflow_stage": "delivered",
        "orderflow_stage_at": "2026-01-22 01:00:00",
        "orderflow_number": delivered.number,
    }
    assert (
        rows[0]["orderflow_delivered_on"] is None and rows[0]["orderflow_stage"] == "pending_review"
    )
    since = feed_rows(store.orders.values(), k3, since=delivered.stage_entered_at)
    assert [r["FInterID"] for r in since] == [1002]
    with pytest.raises(InputError, match="timezone-aware"):
        feed_rows(store.orders.values(), k3, since=dt.datetime(2026, 1, 1))


def test_feed_as_json_lines_and_csv(
    k3: ErpMapping, store: InMemoryErpStore, tmp_path: Path
) -> None:
    _synced(k3, store)
    out = io.StringIO()
    assert write_feed(store.orders.values(), k3, out) == 3
    first = json.loads(out.getvalue().splitlines()[0])
    assert list(first) == [
        "FInterID",
        "FBillNo",
        "orderflow_delivered_on",
        "orderflow_stage",
        "orderflow_stage_at",
        "orderflow_number",
    ]
    assert first["FInterID"] == 1001 and first["orderflow_delivered_on"] is None
    path = tmp_path / "feed.csv"
    assert write_feed(store.orders.values(), k3, path, format="csv") == 3
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["FBillNo"] for r in rows] == ["SEORD001001", "SEORD001002", "SEORD001003"]
    assert rows[0]["orderflow_delivered_on"] == ""
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(InputError, match="jsonl"):
        write_feed([], k3, io.StringIO(), format="xml")  # type: ignore[arg-type]


NOW = dt.datetime(2026, 1, 22, 8, tzinfo=dt.UTC)
VALVE = Product("V-100", "hydraulic valve", bom=(BomLine("Q23-7", 1), BomLine("P-00002", 2)))


def test_erp_200_shelf_87_is_flagged_with_the_orders_it_blocks(
    k3: ErpMapping, store: InMemoryErpStore
) -> None:
    src = k3_source()
    src.insert("ICInventory", {"FItemID": 10001, "FStockID": 1, "FQty": Decimal(150)})
    src.insert("ICInventory", {"FItemID": 10001, "FStockID": 2, "FQty": Decimal(50)})
    src.insert("ICInventory", {"FItemID": 10002, "FStockID": 1, "FQty": Decimal(500)})
    for key, qty, day in ((1001, 60, 3), (1002, 50, 5), (1003, 80, 9)):
        add_order(
            src,
            header(key),
            [line(key, 1, FItemID=10003, FQty=Decimal(qty), FDate=dt.datetime(2026, 2, day))],
        )
    src.insert("t_ICItem", {"FItemID": 10003, "FNumber": "V-100", "FName": "valve", "FModel": ""})
    sync_once(src, store, k3)
    counted = erp_stock(src, k3)
    totals, unreadable = counted.totals, counted.unreadable
    assert totals["Q23-7"] == 200 and not unreadable
    scans = {"Q23-7": dt.datetime(2026, 1, 21, 16, 5, tzinfo=dt.UTC)}
    report = reconcile_stock(
        totals,
        [StockPosition("Q23-7", 87), StockPosition("P-00002", 500, reserved=0)],
        generated_at=NOW,
        orders=store.orders.values(),
        products={"V-100": VALVE},
        last_scans=scans,
    )
    assert report.compared == 2
    (gap,) = report.discrepancies
    assert (gap.component, gap.erp_qty, gap.orderflow_qty, gap.gap) == (
        "Q23-7",
        Decimal(200),
        Decimal(87),
        Decimal(113),
    )
    assert gap.last_scan == scans["Q23-7"]
    assert [(o.number, o.required, o.blocked, o.erp_says_ok) for o in gap.orders_affected] == [
        ("HY20260122-1001", Decimal(60), False, True),
        ("HY20260122-1002", Decimal(50), True, True),
        ("HY20260122-1003", Decimal(80), True, True),
    ]
    assert [o.number for o in gap.blocked_orders] == ["HY20260122-1002", "HY20260122-1003"]
    data = json.loads(report.to_json())
    assert data["discrepancies"][0]["gap"] == "113"
    assert data["discrepancies"][0]["orders_affected"][1]["blocked"] is True
    section = report.health_section()
    assert section["rows"][0][:4] == ["Q23-7", "200", "87", "113"]
    assert "2 open order(s) blocked" in section["summary"]
    assert "HY20260122-1002 (blocked)" in section["rows"][0][5]


def test_stock_tolerance_basis_warehouses_and_bad_rows(k3: ErpMapping) -> None:
    src = k3_source()
    src.insert("ICInventory", {"FItemID": 10002, "FStockID": 1, "FQty": Decimal(10)})
    src.insert("ICInventory", {"FItemID": 777, "FStockID": 1, "FQty": Decimal(5)})
    src.insert("ICInventory", {"FItemID": 10003, "FStockID": 1, "FQty": "lots"})
    counted = erp_stock(src, k3)
    totals, unreadable = counted.totals, counted.unreadable
    assert totals == {"P-00002": 10}
    assert sorted((e.key, e.column) for e in unreadable) == [
        ("FItemID=10003/FStockID=1", "FQty"),
        ("FItemID=777/FStockID=1", "FItemID"),
    ]
    positions = [StockPosition("P-00002", 12, reserved=3)]
    assert reconcile_stock(totals, positions, generated_at=NOW).discrepancies[0].gap == 1
    assert not reconcile_stock(
        totals, positions, generated_at=NOW, basis="on_hand", tolerance=Decimal(2)
    ).discrepancies
    doc = dict(k3.document)
    doc["stock"] = {**doc["stock"], "warehouses": ["2"]}
    from orderflow.erp import parse_mapping

    assert erp_stock(src, parse_mapping(doc)).totals == {}
    with pytest.raises(InputError):
        reconcile_stock({}, [], generated_at=dt.datetime(2026, 1, 1))


def test_check_reports_every_missing_table_and_column(k3: ErpMapping) -> None:
    src = k3_source([simple_order(1001)])
    assert check_mapping(src, k3).ok
    src.dropped_columns |= {("SEOrderEntry", "FAuxPrice"), ("SEOrder", "FStatus")}
    del src.tables["ICInventory"], src.columns["ICInventory"]
    result = check_mapping(src, k3)
    assert not result.ok
    assert result.problems == (
        "missing table ICInventory",
        "missing column SEOrder.FStatus",
        "missing column SEOrderEntry.FAuxPrice",
    )
    with pytest.raises(MappingSpecError) as info:
        result.raise_for_problems()
    assert "SEOrderEntry.FAuxPrice" in str(info.value) and "ICInventory" in str(info.value)
    assert result.as_dict()["missing_columns"] == ["SEOrder.FStatus", "SEOrderEntry.FAuxPrice"]


def test_check_matches_names_without_case(k3: ErpMapping) -> None:
    schema = {
        t.lower(): frozenset(c.upper() for c in cols) for t, cols in k3.required_columns().items()
    }
    result = check_schema(k3, schema)
    assert result.ok
    assert "table SEOrder is spelled seorder in the database" in result.case_notes
