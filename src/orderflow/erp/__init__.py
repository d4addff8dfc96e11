"""The ERP bridge (R7, R6): mapping model, ports, sync engine, change feed, stock check.

Everything here is pure: it talks to the ERP through :class:`ErpSource` and to
orderflow through :class:`ErpSyncStore`. The SQL source is
``orderflow.adapters.erp_sql`` (extra ``erp``). The functions the CLI calls:

- :func:`check_mapping` — ``orderflow erp check``
- :func:`sync_once` / :func:`follow` — ``orderflow erp sync --once`` / ``--follow``
- :func:`write_feed` — ``orderflow erp feed``
- :func:`erp_stock` + :func:`reconcile_stock` — ``orderflow erp reconcile``
"""

from __future__ import annotations

from orderflow.erp.changes import ChangeValue, OrderChanges, erp_row_of, order_changes
from orderflow.erp.check import SchemaCheck, check_mapping, check_schema
from orderflow.erp.documents import ErpLine, ErpOrder, ErpRecord
from orderflow.erp.feed import CsvSink, JsonLinesSink, feed_row, feed_rows, write_feed
from orderflow.erp.filters import Condition, row_matches
from orderflow.erp.mapping import (
    ErpMapping,
    MappingSpecError,
    available_presets,
    load_mapping,
    load_preset,
    parse_mapping,
)
from orderflow.erp.ports import (
    ErpKey,
    ErpOrderTarget,
    ErpSink,
    ErpSource,
    ErpSyncStore,
    ErpUnitOfWork,
    QuarantineEntry,
    RowState,
    SyncCursor,
    SyncStateStore,
)
from orderflow.erp.records import MappedRow, RowMapper
from orderflow.erp.shipments import LineDelivery, ShipmentMove, line_deliveries
from orderflow.erp.stock import (
    AffectedOrder,
    ErpStock,
    StockDiscrepancy,
    StockReport,
    erp_stock,
    reconcile_stock,
)
from orderflow.erp.sync import SyncReport, follow, load_lookups, parse_interval, sync_once

__all__ = [
    "AffectedOrder",
    "ChangeValue",
    "Condition",
    "CsvSink",
    "ErpKey",
    "ErpLine",
    "ErpMapping",
    "ErpOrder",
    "ErpOrderTarget",
    "ErpRecord",
    "ErpSink",
    "ErpSource",
    "ErpStock",
    "ErpSyncStore",
    "ErpUnitOfWork",
    "JsonLinesSink",
    "LineDelivery",
    "MappedRow",
    "MappingSpecError",
    "OrderChanges",
    "QuarantineEntry",
    "RowMapper",
    "RowState",
    "SchemaCheck",
    "ShipmentMove",
    "StockDiscrepancy",
    "StockReport",
    "SyncCursor",
    "SyncReport",
    "SyncStateStore",
    "available_presets",
    "check_mapping",
    "check_schema",
    "erp_row_of",
    "erp_stock",
    "feed_row",
    "feed_rows",
    "follow",
    "line_deliveries",
    "load_lookups",
    "load_mapping",
    "load_preset",
    "order_changes",
    "parse_interval",
    "parse_mapping",
    "reconcile_stock",
    "row_matches",
    "sync_once",
    "write_feed",
]
