"""Builders of K3-shaped in-memory ERP data for the ERP bridge tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from orderflow.testing.erp_fakes import InMemoryErpSource

CUSTOMERS = {1: "C00001", 2: "C00002", 3: "C00003"}
ITEMS = {10001: "Q23-7", 10002: "P-00002", 10003: "P-00003", 10004: "P-00004"}
DAY = dt.datetime(2026, 1, 22, 9, 30)


def k3_source(
    orders: Iterable[tuple[Mapping[str, object], list[Mapping[str, object]]]] = (),
) -> InMemoryErpSource:
    """An in-memory K3 database with 3 customers, 4 materials and the given documents."""
    src = InMemoryErpSource(
        {
            "t_Organization": [
                {"FItemID": k, "FNumber": v, "FName": f"Customer {k}"} for k, v in CUSTOMERS.items()
            ],
            "t_ICItem": [
                {"FItemID": k, "FNumber": v, "FName": f"Part {v}", "FModel": ""}
                for k, v in ITEMS.items()
            ],
        },
        columns={
            "SEOrder": ["FInterID", "FBillNo", "FDate", "FCustID", "FCancellation", "FStatus"],
            "SEOrderEntry": ["FInterID", "FEntryID", "FItemID", "FQty", "FPrice", "FDate"],
            "ICInventory": ["FItemID", "FStockID", "FQty"],
        },
    )
    for header, lines in orders:
        add_order(src, header, lines)
    return src


def header(interid: int, **values: object) -> dict[str, object]:
    """A valid SEOrder row; ``values`` override columns."""
    row: dict[str, object] = {
        "FInterID": interid,
        "FBillNo": f"SEORD{interid:06d}",
        "FDate": DAY,
        "FCustID": 1,
        "FCancellation": 0,
        "FStatus": 1,
    }
    row.update(values)
    return row


def line(interid: int, entry: int, **values: object) -> dict[str, object]:
    """A valid SEOrderEntry row; ``values`` override columns."""
    row: dict[str, object] = {
        "FInterID": interid,
        "FEntryID": entry,
        "FItemID": 10002,
        "FQty": Decimal(10),
        "FPrice": Decimal("12.50"),
        "FDate": dt.datetime(2026, 2, 1),
    }
    row.update(values)
    return row


def add_order(
    src: InMemoryErpSource, head: Mapping[str, object], lines: Iterable[Mapping[str, object]]
) -> None:
    """Insert a document (header and lines) into the in-memory ERP."""
    src.insert("SEOrder", head)
    for row in lines:
        src.insert("SEOrderEntry", row)


def simple_order(
    interid: int, n_lines: int = 2, **head: object
) -> tuple[dict[str, object], list[Mapping[str, object]]]:
    """A valid document with ``n_lines`` lines."""
    return header(interid, **head), [
        line(interid, e, FItemID=10001 + e) for e in range(1, n_lines + 1)
    ]
