"""Training and scoring rows from a store: the audit log read back as submissions (R13).

:func:`records_from_store` walks the whole log once, in the order it was recorded, and
builds one :class:`~orderflow.risk.features.SubmissionRecord` per order from what was
known when its ``created`` entry was written: the kitting rate and the rules' inputs
kept in that entry (``risk.*``; computed from the log and master data for entries
written before R13), the factory's open orders, and the customer's earlier orders and
late deliveries *recorded before it*. The outcome: late when delivered (floor time,
factory-local date) after the requested date asked at submission; an order never
delivered counts late once its date has passed by the end of the log, unknown before;
cancelled orders are left out.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import zoneinfo
from collections import deque
from collections.abc import Iterator
from typing import Any

from orderflow.domain import Component, Product, ProductKind
from orderflow.logstream import entries
from orderflow.ports import Store
from orderflow.risk.drawings import DRAWING_CATEGORIES, DRAWING_FIELDS
from orderflow.risk.features import SubmissionRecord
from orderflow.risk.sources import imported_materials
from orderflow.risk.zones import TyphoonZones
from orderflow.serialization import from_json
from orderflow.service.codec import V1_COLUMNS

__all__ = ["records_from_store"]

_DAY_US = 86_400_000_000
_KIND = {ProductKind.REGULAR: 0, ProductKind.CUSTOM: 1, ProductKind.NEW: 2}


def _entries(store: Store) -> Iterator[dict[str, Any]]:
    return (json.loads(data) for data in entries(store))


def _order_payload(entry: dict[str, Any]) -> dict[str, Any]:
    text = entry["changes"]["order"]["new"]
    data = json.loads(text)
    if entry.get("v") == 1:
        return dict(zip(V1_COLUMNS, data, strict=True))
    return dict(data)


class _Walk:
    def __init__(self, store: Store, timezone: str, window_days: int) -> None:
        with store.transaction() as tx:
            self.products = {k: from_json(b, Product) for k, b in tx.docs("product")}
            self.components = {k: from_json(b, Component) for k, b in tx.docs("component")}
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.window_us = window_days * _DAY_US
        self.customer_of: dict[str, str] = {}
        self.open: dict[str, set[str]] = {}
        self.arrivals: dict[str, deque[int]] = {}
        self.placed: dict[str, int] = {}
        self.finished: dict[str, list[int]] = {}
        self.changes: dict[str, list[int]] = {}
        self.pending: dict[str, tuple[SubmissionRecord, dt.date]] = {}
        self.out: dict[str, SubmissionRecord] = {}
        self.last_day = dt.date.min

    def day(self, micros: int) -> dt.date:
        return dt.datetime.fromtimestamp(micros / 1e6, self.zone).date()

    def created(self, e: dict[str, Any]) -> SubmissionRecord:
        o, ctx = _order_payload(e), e["ctx"]
        at = int(e["at"])
        today = self.day(at)
        order_id, customer, factory = o["id"], o["customer_id"], o["factory_id"]
        self.customer_of[order_id] = customer
        open_now = self.open.setdefault(factory, set())
        seen = self.arrivals.setdefault(factory, deque())
        while seen and seen[0] < at - 7 * _DAY_US:
            seen.popleft()
        wip = len(open_now) / max(1.0, len(seen) / 7) if seen else 0.0
        lines = o["lines"] if isinstance(o["lines"], list) else json.loads(o["lines"])
        codes = [ln["product"] if isinstance(ln, dict) else ln[0] for ln in lines]
        qty = sum(float(ln["qty"] if isinstance(ln, dict) else ln[1]) for ln in lines)
        products = {c: self.products[c] for c in codes if c in self.products}
        parts = {b.component for p in products.values() for b in p.bom}
        if "risk.imported" in ctx:
            n_imported = int(ctx["risk.imported"])
        else:
            n_imported = len(imported_materials(codes, products, self.components))
        if "risk.drawing_changes" in ctx:
            changes = int(ctx["risk.drawing_changes"])
        else:
            times = self.changes.get(customer, [])
            changes = len(times) - bisect.bisect_left(times, at - self.window_us)
        if "risk.flags" in ctx:
            in_zone = "risk.zone" in ctx
        else:
            in_zone = (
                TyphoonZones.builtin().zone_for_address(o.get("delivery_address", "")) is not None
            )
        backup = {"yes": True, "no": False}.get(ctx.get("risk.backup_route", ""))
        delivered, late = self.finished.get(customer, [0, 0])
        requested = dt.date.fromisoformat(o["requested_date"])
        record = SubmissionRecord(
            order_id=order_id, submitted=today, factory_id=factory, customer_id=customer,
            lead_days=(requested - today).days,
            kitting_rate=float(ctx["kitting_rate"]) if ctx.get("kitting_rate") else math.nan,
            wip_days=round(wip, 3), customer_orders=self.placed.get(customer, 0),
            customer_late_share=late / delivered if delivered else math.nan,
            drawing_changes=changes, imported=n_imported,
            imported_share=n_imported / len(parts) if parts else 0.0,
            rate_move_pct=float(ctx["risk.rate_move_pct"]) if "risk.rate_move_pct" in ctx
            else math.nan,
            typhoon_zone=in_zone, backup_route=backup,
            product_kind=max((_KIND[p.kind] for p in products.values()), default=0),
            lines=len(lines), qty=qty,
        )  # fmt: skip
        open_now.add(order_id)
        seen.append(at)
        self.placed[customer] = self.placed.get(customer, 0) + 1
        self.pending[order_id] = (record, requested)
        return record

    def state_change(self, e: dict[str, Any]) -> None:
        order_id, to = e["order"], e["to"]
        if to not in ("delivered", "cancelled") or order_id not in self.pending:
            return
        record, requested = self.pending.pop(order_id)
        self.open.get(record.factory_id, set()).discard(order_id)
        if to == "cancelled":
            return
        ctx = e["ctx"]
        occurred = int(ctx["occurred"]) if "occurred" in ctx else int(e["at"])
        late = self.day(occurred) > requested
        counts = self.finished.setdefault(record.customer_id, [0, 0])
        counts[0] += 1
        counts[1] += late
        self.out[order_id] = _with_outcome(record, late)

    def drawing(self, e: dict[str, Any]) -> None:
        ctx = e["ctx"]
        if e["type"] == "exception":
            hit = ctx.get("action") == "opened" and ctx.get("category") in DRAWING_CATEGORIES
        else:
            hit = e["type"] == "field_update" and bool(DRAWING_FIELDS & set(e["changes"]))
        customer = self.customer_of.get(e["order"])
        if hit and customer is not None:
            at = int(ctx["occurred"]) if "occurred" in ctx else int(e["at"])
            bisect.insort(self.changes.setdefault(customer, []), at)


def _with_outcome(record: SubmissionRecord, late: bool | None) -> SubmissionRecord:
    import attrs

    return attrs.evolve(record, late=late)


def records_from_store(
    store: Store,
    *,
    until_order: str | None = None,
    timezone: str = "Asia/Shanghai",
    window_days: int = 90,
) -> list[SubmissionRecord]:
    """One record per order (cancelled ones left out), in submission order.

    With ``until_order``, the walk stops at that order's ``created`` entry and returns
    its record alone (with ``late=None``): what a score of that order may know.
    """
    walk = _Walk(store, timezone, window_days)
    order: list[str] = []
    last_at = 0
    for e in _entries(store):
        kind = e["type"]
        last_at = max(last_at, int(e["at"]))
        if kind == "created" and "order" in e["changes"]:
            record = walk.created(e)
            if e["order"] == until_order:
                return [record]
            order.append(record.order_id)
        elif kind == "state_change":
            walk.state_change(e)
        elif kind in ("exception", "field_update"):
            walk.drawing(e)
    if until_order is not None:
        return []
    end = walk.day(last_at) if last_at else dt.date.min
    for order_id, (record, requested) in walk.pending.items():
        walk.out[order_id] = _with_outcome(record, True if requested < end else None)
    return [walk.out[i] for i in order if i in walk.out]
