"""The outbound change feed: orderflow's stage and actual delivery date back to the ERP (R7).

orderflow never writes through the ERP's read-only account. Instead it writes a feed
the ERP side imports on its own terms: one row per ERP-linked order, keyed by the
columns the mapping's ``[[feed.columns]]`` name (``FInterID``/``FBillNo`` in the
Kingdee preset), as JSON Lines or CSV. Times are ERP local time (naive, in the
mapping's zone), dates ``YYYY-MM-DD``; the actual delivery date is the local day the
order entered the ``delivered`` stage, empty before that.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal, TextIO

import pendulum

from orderflow.domain import Order
from orderflow.erp.mapping import ErpMapping
from orderflow.exceptions import InputError

__all__ = ["CsvSink", "JsonLinesSink", "feed_row", "feed_rows", "write_feed"]


def _local(value: dt.datetime, zone: str) -> pendulum.DateTime:
    return pendulum.instance(value).in_timezone(zone)


def feed_row(
    order: Order, mapping: ErpMapping, *, delivered_stage: str = "delivered"
) -> dict[str, object]:
    """The feed row of one order: ERP column -> value, in the mapping's column order."""
    local_stage_at = _local(order.stage_entered_at, mapping.timezone)
    delivered = order.stage == delivered_stage
    facts: dict[str, object] = {
        "erp_id": int(order.erp_id) if order.erp_id.isdigit() else order.erp_id,
        "erp_number": order.erp_number,
        "order_id": order.id,
        "number": order.number,
        "stage": order.stage,
        "stage_entered_at": local_stage_at.strftime("%Y-%m-%d %H:%M:%S"),
        "actual_delivery_date": local_stage_at.date().isoformat() if delivered else None,
        "customer_id": order.customer_id,
        "requested_date": order.requested_date.isoformat(),
        "version": order.version,
    }
    return {column: facts[source] for column, source in mapping.feed_columns}


def feed_rows(
    orders: Iterable[Order],
    mapping: ErpMapping,
    *,
    since: dt.datetime | None = None,
    delivered_stage: str = "delivered",
) -> list[dict[str, object]]:
    """Feed rows for the ERP-linked orders (``erp_id`` set), sorted by ERP key.

    ``since`` keeps only orders whose stage changed at or after that instant (the
    incremental feed; pass the time of the previous export).
    """
    if since is not None and (since.tzinfo is None or since.utcoffset() is None):
        raise InputError(f"since must be timezone-aware, got naive {since!r}")
    picked = [o for o in orders if o.erp_id and (since is None or o.stage_entered_at >= since)]
    picked.sort(key=lambda o: (0, int(o.erp_id), "") if o.erp_id.isdigit() else (1, 0, o.erp_id))
    return [feed_row(o, mapping, delivered_stage=delivered_stage) for o in picked]


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class JsonLinesSink:
    """Writes feed rows as JSON Lines (one object per line, UTF-8, keys in column order)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Write each row as one JSON line; return the number of rows."""
        count = 0
        for row in rows:
            data = {k: _json_value(v) for k, v in row.items()}
            self.stream.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
        return count


class CsvSink:
    """Writes feed rows as CSV with a header line; ``None`` becomes an empty cell."""

    def __init__(self, stream: TextIO, columns: Sequence[str]) -> None:
        self.stream = stream
        self.columns = tuple(columns)
        self._writer = csv.DictWriter(stream, fieldnames=self.columns, lineterminator="\n")
        self._header_written = False

    def write(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Write the header (once) and the rows; return the number of rows."""
        if not self._header_written:
            self._writer.writeheader()
            self._header_written = True
        count = 0
        for row in rows:
            self._writer.writerow(
                {k: "" if row.get(k) is None else _json_value(row.get(k)) for k in self.columns}
            )
            count += 1
        return count


def write_feed(
    orders: Iterable[Order],
    mapping: ErpMapping,
    out: TextIO | str | Path,
    *,
    format: Literal["jsonl", "csv"] = "jsonl",
    since: dt.datetime | None = None,
    delivered_stage: str = "delivered",
) -> int:
    """Write the change feed of ``orders`` to a stream or file; return the row count.

    ``format`` is ``jsonl`` or ``csv``. A path is replaced atomically (written to a
    temporary file beside it, then renamed), so an import job never sees half a feed.
    """
    if format not in ("jsonl", "csv"):
        raise InputError(f"feed format must be 'jsonl' or 'csv', got {format!r}")
    rows = feed_rows(orders, mapping, since=since, delivered_stage=delivered_stage)
    if isinstance(out, str | Path):
        buffer = io.StringIO()
        count = _sink(buffer, mapping, format).write(rows)
        target = Path(out)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        os.replace(tmp, target)
        return count
    return _sink(out, mapping, format).write(rows)


def _sink(stream: TextIO, mapping: ErpMapping, format: str) -> JsonLinesSink | CsvSink:
    if format == "csv":
        return CsvSink(stream, [c for c, _ in mapping.feed_columns])
    return JsonLinesSink(stream)
