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

from orderflow.erp.check import SchemaCheck, check_mapping, check_schema
from orderflow.erp.feed import CsvSink, JsonLinesSink, feed_row, feed_rows, write_feed
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
from orderflow.erp.records import (
    ChangeValue,
    ErpRecord,
    MappedRow,
    OrderChanges,
    OrderDraft,
    RowMapper,
    erp_row_of,
    order_changes,
)
from orderflow.erp.stock import (
    AffectedOrder,
    StockDiscrepancy,
    StockReport,
    erp_stock,
    reconcile_stock,
)
from orderflow.erp.sync import SyncReport, follow, load_lookups, parse_interval, sync_once

__all__ = [
    "AffectedOrder",
    "ChangeValue",
    "CsvSink",
    "ErpKey",
    "ErpMapping",
    "ErpOrderTarget",
    "ErpRecord",
    "ErpSink",
    "ErpSource",
    "ErpSyncStore",
    "ErpUnitOfWork",
    "JsonLinesSink",
    "MappedRow",
    "MappingSpecError",
    "OrderChanges",
    "OrderDraft",
    "QuarantineEntry",
    "RowMapper",
    "RowState",
    "SchemaCheck",
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
    "load_lookups",
    "load_mapping",
    "load_preset",
    "order_changes",
    "parse_interval",
    "parse_mapping",
    "reconcile_stock",
    "sync_once",
    "write_feed",
]
