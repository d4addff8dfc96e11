"""What a recorded store tells a replay: its master data, the stock it started from, and
its audit log as a stream of decoded entries.

The log does not record the opening stock (a stock-take writes no entry), so it is
worked back from the end: today's on-hand, minus every scan the log recorded, plus every
issue to production (each dispatched order's base need, from its lines and the BOMs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import attrs

from orderflow.audit import AuditEntry, EntryType
from orderflow.domain import Component, Customer, Product
from orderflow.exceptions import InputError
from orderflow.logstream import decoded
from orderflow.serialization import from_json
from orderflow.service import OrderService
from orderflow.service.codec import V1_COLUMNS

__all__ = ["CHUNK", "Survey", "created_lines", "log_entries", "survey"]

CHUNK = 20_000
"""Entries read per query while streaming the log."""

_STOCK = "stock/"


def log_entries(svc: OrderService, *, chunk: int = CHUNK) -> Iterator[tuple[int, AuditEntry]]:
    """The recorded log, decoded, oldest first, ``chunk`` entries per read."""
    return decoded(svc.store, chunk=chunk)


def created_lines(
    entry: AuditEntry,
) -> tuple[dict[str, object], list[tuple[str, Decimal, Decimal]]]:
    """The order fields and ``(product, qty, unit price)`` lines of a ``created`` entry
    (either payload version)."""
    data = json.loads(str(entry.changes_map["order"][1]))
    if entry.version == 1:
        row = dict(zip(V1_COLUMNS, data, strict=True))
        lines = [(p, Decimal(q), Decimal(u)) for p, q, u in json.loads(row["lines"])]
    else:
        row = data
        lines = [(x["product"], Decimal(x["qty"]), Decimal(x["unit_price"])) for x in row["lines"]]
    return row, lines


@attrs.frozen
class Survey:
    """A recorded store at a glance: its master data, the factories its orders went to,
    the first entry's time (UTC microseconds) and the opening on-hand per component."""

    customers: tuple[Customer, ...]
    products: tuple[Product, ...]
    components: tuple[Component, ...]
    factories: tuple[str, ...]
    first_us: int
    last_us: int
    opening_stock: dict[str, Decimal]


def survey(svc: OrderService) -> Survey:
    """Read ``svc``'s master data and work out its opening stock (one pass over the log).

    Raises :class:`~orderflow.InputError` for a store with no orders to replay.
    """
    with svc.store.transaction() as tx:
        customers = tuple(from_json(b, Customer) for _, b in tx.docs("customer"))
        products = tuple(from_json(b, Product) for _, b in tx.docs("product"))
        components = tuple(from_json(b, Component) for _, b in tx.docs("component"))
    boms = {p.code: p.bom for p in products}
    scanned: dict[str, Decimal] = {}
    issued: dict[str, Decimal] = {}
    lines: dict[str, list[tuple[str, Decimal]]] = {}  # orders not yet dispatched
    factories: set[str] = set()
    first = last = None
    for _, entry in log_entries(svc):
        first = entry.at if first is None else first
        last = entry.at
        if entry.order_id.startswith(_STOCK):
            old, new = entry.changes_map.get("on_hand", ("0", "0"))
            code = entry.order_id[len(_STOCK) :]
            scanned[code] = scanned.get(code, Decimal(0)) + Decimal(str(new)) - Decimal(str(old))
        elif entry.type is EntryType.CREATED:
            row, order_lines = created_lines(entry)
            factories.add(str(row["factory_id"]))
            lines[entry.order_id] = [(p, q) for p, q, _ in order_lines]
        elif entry.type is EntryType.FIELD_UPDATE and "lines" in entry.changes_map:
            new_lines = json.loads(str(entry.changes_map["lines"][1]))
            lines[entry.order_id] = [
                (x[0], Decimal(x[1])) if isinstance(x, list) else (x["product"], Decimal(x["qty"]))
                for x in new_lines
            ]
        elif entry.type is EntryType.STATE_CHANGE and entry.context_map.get("event") == (
            "dispatch_production"
        ):
            for product, qty in lines.pop(entry.order_id, []):
                for b in boms.get(product, ()):
                    issued[b.component] = issued.get(b.component, Decimal(0)) + qty * b.qty_per_unit
    if first is None or last is None or not factories:
        raise InputError("the database has no orders to replay; run 'orderflow simulate' first")
    opening = {}
    for c in components:
        now = svc.stock(c.code).on_hand
        opening[c.code] = now - scanned.get(c.code, Decimal(0)) + issued.get(c.code, Decimal(0))
    return Survey(customers, products, components, tuple(sorted(factories)), first, last, opening)
