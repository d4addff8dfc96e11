"""Builders of K3-shaped in-memory ERP data for the ERP bridge tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from orderflow.testing.erp_fakes import InMemoryErpSource
from orderflow.testing.k3_fixture import k3_header, k3_line

CUSTOMERS = {1: "C00001", 2: "C00002", 3: "C00003"}
ITEMS = {10001: "Q23-7", 10002: "P-00002", 10003: "P-00003", 10004: "P-00004"}
DAY = dt.datetime(2026, 1, 22, 9, 30)
BILL_COLUMNS = ("FInterID", "FBillNo", "FDate", "FTranType", "FROB", "FCancellation", "FCheckerID")
BILL_LINE_COLUMNS = ("FInterID", "FEntryID", "FItemID", "FQty", "FOrderInterID", "FOrderEntryID")


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
            "SEOrder": list(header(0)),
            "SEOrderEntry": list(line(0, 0)),
            "ICInventory": ["FItemID", "FStockID", "FStockPlaceID", "FBatchNo", "FQty"],
            "t_LockStock": ["FTranType", "FInterID", "FEntryID", "FItemID", "FStockID", "FQty"],
            "ICStockBill": [*BILL_COLUMNS],
            "ICStockBillEntry": [*BILL_LINE_COLUMNS],
        },
    )
    for head, lines in orders:
        add_order(src, head, lines)
    return src


def header(interid: int, **values: object) -> dict[str, object]:
    """A valid (audited, open, base-currency) SEOrder row; ``values`` override columns."""
    return k3_header(interid, **{"FDate": DAY, "FCustID": 1, **values})


def line(interid: int, entry: int, **values: object) -> dict[str, object]:
    """A valid SEOrderEntry row in the base unit and currency, without tax.

    ``FQty``/``FPrice`` set the quantity and price (the order-unit and amount columns
    follow, coefficient 1); other ``values`` override columns.
    """
    qty = Decimal(str(values.pop("FQty", 10)))
    price = Decimal(str(values.pop("FPrice", "12.50")))
    values.setdefault("FItemID", 10002)
    item = values.pop("FItemID")
    assert isinstance(item, int)
    row = k3_line(interid, entry, item, qty, price, dt.datetime(2026, 2, 1), tax=Decimal(0))
    row.update(values)
    return row


def set_qty(src: InMemoryErpSource, interid: int, entry: int, qty: object) -> None:
    """Change a line's quantity as a K3 user does: FQty, FAuxQty and the amount follow."""
    q = Decimal(str(qty))
    for row in src.tables["SEOrderEntry"]:
        if row["FInterID"] == interid and row["FEntryID"] == entry:
            price = Decimal(str(row["FAuxTaxPrice"]))
            amount = (q * price).quantize(Decimal("0.01"))
            row.update(FQty=q, FAuxQty=q, FAllStdAmount=amount)


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
