"""Sync a Kingdee K3-shaped database into orderflow, then write the feed and the stock report.

Runs on a throw-away SQLite file filled with the seeded K3 fixture (no real data)::

    .venv/bin/python examples/erp_sync.py

In production, point ``SqlErpSource`` at the K3 database over its read-only account,
e.g. ``mssql+pyodbc://k3_reader:...@k3-db/AIS2026?driver=ODBC+Driver+18+for+SQL+Server``
with ``schema="dbo"``, and use the real order service instead of the in-memory one.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from orderflow.adapters.erp_sql import SqlErpSource
from orderflow.domain import StockPosition
from orderflow.erp import (
    check_mapping,
    erp_stock,
    load_preset,
    reconcile_stock,
    sync_once,
    write_feed,
)
from orderflow.testing.erp_fakes import InMemoryErpStore
from orderflow.testing.k3_fixture import SEAL_RING, K3Writer, create_k3_schema, populate_k3


def main() -> None:
    """Build a small K3 fixture, sync it twice, and print what happened."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'k3.db'}"
        admin = sa.create_engine(url)
        create_k3_schema(admin)
        populate_k3(admin, orders=500, seed=7, stock={SEAL_RING: Decimal(200)})

        mapping = load_preset("kingdee-k3-wise")
        source = SqlErpSource(url)  # opened read-only
        print("schema check:", "ok" if check_mapping(source, mapping).ok else "problems")

        store = InMemoryErpStore()
        print(sync_once(source, store, mapping).summary())

        # an ERP user edits a line and enters an order for an unknown customer
        writer = K3Writer(admin)
        writer.update_line(1001, 1, FQty=Decimal(42))
        key = writer.next_interid()
        writer.insert_order(
            {
                "FInterID": key,
                "FBillNo": f"SEORD{key:06d}",
                "FDate": dt.datetime(2026, 1, 22, 9),
                "FCustID": 9999,
                "FCancellation": 0,
                "FStatus": 1,
            },
            [
                {
                    "FInterID": key,
                    "FEntryID": 1,
                    "FItemID": 10_001,
                    "FQty": Decimal(5),
                    "FPrice": Decimal("3.20"),
                    "FDate": dt.datetime(2026, 2, 1),
                }
            ],
        )
        print(sync_once(source, store, mapping).summary())
        update = store.audit[-1]
        print("audit:", update.type, update.changes)
        for entry in store.quarantined(mapping.stream):
            print("quarantined:", entry.message)

        feed = io.StringIO()
        write_feed(list(store.orders.values())[:3], mapping, feed, format="csv")
        print(feed.getvalue().strip())

        totals, _ = erp_stock(source, mapping)
        report = reconcile_stock(
            totals, [StockPosition(SEAL_RING, 87)], generated_at=dt.datetime.now(dt.UTC)
        )
        for gap in report.discrepancies:
            print(
                f"stock: {gap.component} ERP {gap.erp_qty} / shelf {gap.orderflow_qty} "
                f"(gap {gap.gap})"
            )
        source.close()
        admin.dispose()


if __name__ == "__main__":
    main()
