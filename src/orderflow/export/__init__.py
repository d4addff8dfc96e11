"""Export the audit log for process-mining tools: OCEL 2.0 (JSON, SQLite) and XES.

Every audit entry becomes exactly one event; orders, order lines, customers, products,
components and factories become objects, related to the events they take part in with
a qualifier naming their role. Exports are streamed: the log is read in chunks, so a
year of orders is never held in memory. No secret is exported: the query token's hash
and the slip code never appear.
"""

from __future__ import annotations

from orderflow.export.model import (
    ExportSummary,
    OcelAttribute,
    OcelEvent,
    OcelObject,
    Relationship,
)
from orderflow.export.ocel_json import write_ocel_json
from orderflow.export.ocel_sqlite import write_ocel_sqlite
from orderflow.export.xes import write_xes

__all__ = [
    "ExportSummary",
    "OcelAttribute",
    "OcelEvent",
    "OcelObject",
    "Relationship",
    "write_ocel_json",
    "write_ocel_sqlite",
    "write_xes",
]
