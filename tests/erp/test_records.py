"""Mapping ERP records to order drafts; bad rows name their row and column (R7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from orderflow.domain import OrderLine, new_order
from orderflow.erp import ErpMapping, ErpRecord, RowMapper, order_changes
from orderflow.erp.mapping import parse_mapping

from .helpers import CUSTOMERS, ITEMS, header, line

LOOKUPS = {
    "customer": {str(k): v for k, v in CUSTOMERS.items()},
    "material": {str(k): v for k, v in ITEMS.items()},
}


def _record(
    interid: int = 1001,
    head: dict[str, object] | None = None,
    lines: list[dict[str, object]] | None = None,
) -> ErpRecord:
    h = header(interid, **(head or {}))
    rows = (
        lines
        if lines is not None
        else [line(interid, 1), line(interid, 2, FItemID=10001, FDate=dt.datetime(2026, 1, 30))]
    )
    return ErpRecord(interid, h, tuple(rows))


def test_a_k3_document_becomes_a_draft(k3: ErpMapping) -> None:
    row = RowMapper(k3, LOOKUPS).map(_record())
    assert row.ok and not row.errors
    d = row.draft
    assert d is not None
    assert d.erp_id == "1001"
    assert d.erp_number == "SEORD001001"
    assert d.number == "HY20260122-1001"
    assert d.customer_id == "C00001"
    assert d.lines == (OrderLine("P-00002", 10, Decimal("12.5")), OrderLine("Q23-7", 10, "12.5"))
    assert d.line_keys == ("1", "2")
    assert d.requested_date == dt.date(2026, 1, 30)  # the earliest line date
    assert d.order_date == dt.datetime(2026, 1, 22, 1, 30, tzinfo=dt.UTC)
    assert d.cancelled is False
    assert d.erp_status == "audited"
    assert d.factory_id == "main"
    # deterministic: same record, same draft and hash
    again = RowMapper(k3, LOOKUPS).map(_record())
    assert again == row


def test_order_number_from_bill_number(k3: ErpMapping) -> None:
    doc = dict(k3.document)
    doc["order_number"] = {"prefix": "NB", "sequence": "bill_no"}
    mapping = parse_mapping(doc)
    d = RowMapper(mapping, LOOKUPS).map(_record(1001, {"FBillNo": "SEORD000887"})).draft
    assert d is not None and d.number == "NB20260122-887"
    bad = RowMapper(mapping, LOOKUPS).map(_record(1001, {"FBillNo": "SEORD-X"}))
    assert [(e.table, e.column) for e in bad.errors] == [("SEOrder", "FBillNo")]


def test_unknown_customer_is_named(k3: ErpMapping) -> None:
    row = RowMapper(k3, LOOKUPS).map(_record(1001, {"FCustID": 99}))
    assert row.draft is None
    (err,) = row.errors
    assert (err.table, err.key, err.column) == ("SEOrder", "FInterID=1001", "FCustID")
    assert str(err) == (
        "SEOrder row 'FInterID=1001', column FCustID: unknown customer: "
        "no t_Organization row with FItemID = 99"
    )


def test_negative_quantity_is_named(k3: ErpMapping) -> None:
    row = RowMapper(k3, LOOKUPS).map(
        _record(lines=[line(1001, 1), line(1001, 2, FQty=-5, FAuxQty=1, FAllStdAmount=0)])
    )
    (err,) = row.errors
    assert (err.table, err.key, err.column) == ("SEOrderEntry", "FInterID=1001/FEntryID=2", "FQty")
    assert "must be > 0, got -5" in err.reason


def test_unparseable_date_and_missing_column_are_named(k3: ErpMapping) -> None:
    bad = line(1001, 1, FDate="2026-02-30")
    del bad["FAuxPrice"]
    row = RowMapper(k3, LOOKUPS).map(_record(head={"FDate": "tomorrow-ish"}, lines=[bad]))
    found = {(e.table, e.key, e.column): e.reason for e in row.errors}
    assert found == {
        ("SEOrder", "FInterID=1001", "FDate"): "cannot parse date/time 'tomorrow-ish'",
        (
            "SEOrderEntry",
            "FInterID=1001/FEntryID=1",
            "FAuxPrice",
        ): "column is missing from the ERP row",
        (
            "SEOrderEntry",
            "FInterID=1001/FEntryID=1",
            "FDate",
        ): "cannot parse date/time '2026-02-30'",
    }


def test_null_and_no_lines(k3: ErpMapping) -> None:
    row = RowMapper(k3, LOOKUPS).map(_record(head={"FBillNo": None}, lines=[]))
    assert {(e.table, e.column, e.reason) for e in row.errors} == {
        ("SEOrder", "FBillNo", "value is missing (NULL or blank)"),
        ("SEOrderEntry", "FInterID", "the order has no lines"),
    }


def test_hash_follows_the_mapped_content(k3: ErpMapping) -> None:
    mapper = RowMapper(k3, LOOKUPS)
    base = mapper.map(_record()).content_hash
    assert mapper.map(_record(head={"FCustID": 2})).content_hash != base
    # a renamed customer code changes the hash although the ERP row did not change
    renamed = {**LOOKUPS, "customer": {**LOOKUPS["customer"], "1": "C-NEW"}}
    assert RowMapper(k3, renamed).map(_record()).content_hash != base
    # a fix of a quarantined row (customer added) changes the hash too
    missing = RowMapper(k3, {**LOOKUPS, "customer": {}}).map(_record())
    assert not missing.ok and missing.content_hash != base


def test_order_changes_name_each_field(k3: ErpMapping) -> None:
    mapper = RowMapper(k3, LOOKUPS)
    first = mapper.map(_record()).draft
    assert first is not None
    order, _ = new_order(
        number=first.number,
        customer_id=first.customer_id,
        lines=first.lines,
        requested_date=first.requested_date,
        factory_id="main",
        initial_stage="pending_review",
        created_at=dt.datetime(2026, 1, 22, tzinfo=dt.UTC),
        erp_id=first.erp_id,
        erp_number=first.erp_number,
    )
    assert not order_changes(order, first)
    second = mapper.map(_record(head={"FCustID": 2}, lines=[line(1001, 1, FQty=7)])).draft
    assert second is not None
    changes = order_changes(order, second)
    assert dict(changes.changes) == {
        "customer_id": ("C00001", "C00002"),
        "lines[0].qty": ("10", "7"),
        "lines[1].product": ("Q23-7", None),
        "lines[1].qty": ("10", None),
        "lines[1].unit_price": ("12.5", None),
        "requested_date": ("2026-01-30", "2026-02-01"),
    }
    assert list(changes.changes) == sorted(changes.changes)
    assert changes.values["customer_id"] == "C00002"
    assert changes.values["lines"] == (OrderLine("P-00002", 7, "12.5"),)
