"""A hand-built Kingdee K3 WISE data set exercising every rule of the preset (R7, R6).

:func:`k3_scenario` returns the rows (table -> rows) for an in-memory source;
:func:`populate_k3_scenario` writes them into tables made by
:func:`~orderflow.testing.k3_fixture.create_k3_schema`. Needs the ``erp`` extra.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from orderflow._extras import require
from orderflow.testing.k3_fixture import (
    BOX,
    BOX_PIECES,
    CHECKER,
    ITEM_BASE,
    USD,
    USD_RATE,
    _customers,
    _items,
    k3_header,
    k3_line,
    k3_metadata,
)

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = require("sqlalchemy", "erp")

__all__ = ["k3_scenario", "populate_k3_scenario"]


def _inv(item: int, stock: int, place: int, batch: str, qty: int) -> dict[str, object]:
    return {
        "FItemID": item,
        "FStockID": stock,
        "FStockPlaceID": place,
        "FBatchNo": batch,
        "FQty": Decimal(qty),
    }


def _lock(tran: int, order: int, item: int, stock: int, qty: int) -> dict[str, object]:
    return {
        "FTranType": tran,
        "FInterID": order,
        "FEntryID": 1,
        "FItemID": item,
        "FStockID": stock,
        "FQty": Decimal(qty),
    }


def _bill(
    interid: int, day: int, lines: Sequence[tuple[int, int, Decimal]], **values: object
) -> tuple[dict[str, object], list[dict[str, object]]]:
    head: dict[str, object] = {
        "FInterID": interid,
        "FBillNo": f"XOUT{interid:06d}",
        "FDate": dt.datetime(2026, 2, day),
        "FTranType": 21,
        "FROB": 1,
        "FCancellation": 0,
        "FCheckerID": CHECKER,
    }
    head.update(values)
    rows: list[dict[str, object]] = [
        {
            "FInterID": interid,
            "FEntryID": n,
            "FItemID": ITEM_BASE + 2,
            "FQty": qty,
            "FDCStockID": 1,
            "FOrderInterID": order,
            "FOrderEntryID": entry,
            "FSourceInterId": 9000 + interid,  # a delivery notice (type 83), not the order
            "FSourceTranType": 83,
        }
        for n, (order, entry, qty) in enumerate(lines, start=1)
    ]
    return head, rows


def k3_scenario() -> dict[str, list[dict[str, object]]]:
    """A small hand-built K3 data set that exercises every rule of the preset.

    ``SEOrder``: 1001 open; 1002 changed, with its change-history copy 1003 (same
    ``FBillNo``, ``FChangeMark`` 1, ``FClassTypeID`` 1007100); 1004 a draft
    (``FStatus`` 0, ``FCheckerID`` 0); 1005 closed (``FStatus`` 3); 1006 with one of two
    lines closed (``FMrpClosed``); 1007 in USD at 7.1; 1008 with a NULL
    ``FCancellation``; 1009 sold in boxes of 12; 1010 (100 pieces of ``P-00002``)
    shipped 60 on 2 Feb and 40 on 5 Feb, 10 returned on 8 Feb (a red bill), 10
    shipped again on 12 Feb, plus a cancelled and an un-audited bill that do not
    count; 1011 closed by ``FClosed`` = 1. Stock of ``Q23-7`` lies in two warehouses,
    several locations and batches (one negative), with a lock for order 1001.
    """
    due = dt.datetime(2026, 2, 1)
    orders: list[tuple[dict[str, object], list[dict[str, object]]]] = [
        (k3_header(1001), [k3_line(1001, 1, ITEM_BASE + 1, Decimal(30), Decimal(10), due)]),
        (
            k3_header(1002, FBillNo="SEORD001002"),
            [k3_line(1002, 1, ITEM_BASE + 2, Decimal(12), Decimal(5), due)],
        ),
        (
            k3_header(1003, FBillNo="SEORD001002", FChangeMark=1, FClassTypeID=1007100),
            [k3_line(1003, 1, ITEM_BASE + 2, Decimal(10), Decimal(5), due)],
        ),
        (
            k3_header(1004, FStatus=0, FCheckerID=0),
            [k3_line(1004, 1, ITEM_BASE + 2, Decimal(1), Decimal(5), due)],
        ),
        (
            k3_header(1005, FStatus=3),
            [k3_line(1005, 1, ITEM_BASE + 2, Decimal(1), Decimal(5), due)],
        ),
        (
            k3_header(1006),
            [
                k3_line(1006, 1, ITEM_BASE + 1, Decimal(8), Decimal(10), due),
                k3_line(1006, 2, ITEM_BASE + 2, Decimal(5), Decimal(5), due, FMrpClosed=1),
            ],
        ),
        (
            k3_header(1007, FCurrencyID=USD, FExchangeRate=USD_RATE),
            [k3_line(1007, 1, ITEM_BASE + 2, Decimal(10), Decimal(100), due, rate=USD_RATE)],
        ),
        (
            k3_header(1008, FCancellation=None),
            [k3_line(1008, 1, ITEM_BASE + 2, Decimal(2), Decimal(5), due)],
        ),
        (
            k3_header(1009),
            [
                k3_line(
                    1009,
                    1,
                    ITEM_BASE + 3,
                    Decimal(5),
                    Decimal(120),
                    due,
                    unit=BOX,
                    coefficient=BOX_PIECES,
                )
            ],
        ),
        (
            k3_header(1010),
            [k3_line(1010, 1, ITEM_BASE + 2, Decimal(100), Decimal(5), due)],
        ),
        (
            k3_header(1011, FClosed=1),
            [k3_line(1011, 1, ITEM_BASE + 2, Decimal(3), Decimal(5), due)],
        ),
    ]
    bills = [
        _bill(5001, 2, [(1010, 1, Decimal(60))]),
        _bill(5002, 5, [(1010, 1, Decimal(40))]),
        _bill(5003, 8, [(1010, 1, Decimal(10))], FROB=-1),
        _bill(5004, 12, [(1010, 1, Decimal(10))]),
        _bill(5005, 3, [(1010, 1, Decimal(50))], FCancellation=1),
        _bill(5006, 4, [(1010, 1, Decimal(50))], FCheckerID=0),
    ]
    seal = ITEM_BASE + 1
    return {
        "t_Organization": _customers(3),
        "t_ICItem": [{**r, "FUnitID": 1} for r in _items(3)],
        "SEOrder": [h for h, _ in orders],
        "SEOrderEntry": [ln for _, lines in orders for ln in lines],
        "ICStockBill": [h for h, _ in bills],
        "ICStockBillEntry": [ln for _, lines in bills for ln in lines],
        "ICInventory": [
            _inv(seal, 1, 1, "", 120),
            _inv(seal, 1, 2, "B1", 50),
            _inv(seal, 1, 2, "B2", -5),
            _inv(seal, 2, 0, "", 35),
            _inv(ITEM_BASE + 2, 1, 0, "", 400),
        ],
        "t_LockStock": [
            _lock(81, 1001, seal, 1, 30),
            _lock(81, 1006, seal, 2, 8),
            _lock(1, 7, seal, 1, 99),  # not a sales-order lock: not subtracted
        ],
    }


def populate_k3_scenario(engine: sa.Engine, schema: str | None = None) -> None:
    """Insert :func:`k3_scenario` into K3 tables created by :func:`create_k3_schema`."""
    md = k3_metadata(schema)
    prefix = f"{schema}." if schema else ""
    with engine.begin() as conn:
        for name, rows in k3_scenario().items():
            table = md.tables[prefix + name]
            for row in rows:  # one by one: rows of a table may set different columns
                conn.execute(table.insert(), [row])
