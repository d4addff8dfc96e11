"""Stock reconciliation: ERP on-hand against orderflow's scan-based stock (R6).

The case study's root cause was "ERP says 200 in stock, the shelf has 87": planning
trusted a number nobody had counted. :func:`reconcile_stock` compares, per component,
the ERP's free quantity (``ICInventory`` summed over every location and batch of the
counted warehouses, minus what ``t_LockStock`` holds for orders; all in the base unit,
as orderflow's lines are) with the stock orderflow derives from warehouse scans, and
lists for every discrepancy the open orders that need the component, marking those
the shelf cannot cover.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs

from orderflow.domain import Order, Product, StockPosition
from orderflow.erp.convert import (
    ConversionFailed,
    DecimalConverter,
    Lookups,
    canonical_decimal,
    key_text,
)
from orderflow.erp.mapping import ErpMapping
from orderflow.erp.ports import ErpSource
from orderflow.erp.sections import FieldSpec
from orderflow.exceptions import InputError, MappingError

__all__ = [
    "AffectedOrder",
    "ErpStock",
    "StockDiscrepancy",
    "StockReport",
    "erp_stock",
    "reconcile_stock",
]


@attrs.frozen
class ErpStock:
    """ERP stock per component code, in the base unit, and how it was counted.

    ``on_hand`` sums every stock row (warehouse, location, batch; negative rows
    included, as the ERP keeps them) of the counted ``warehouses``; ``locked`` is what
    the lock table holds for orders in those warehouses; ``totals`` is on hand minus
    locked, the figure compared with orderflow. ``unreadable`` lists the rows left out.
    """

    totals: Mapping[str, Decimal]
    on_hand: Mapping[str, Decimal]
    locked: Mapping[str, Decimal]
    warehouses: tuple[str, ...]
    unreadable: tuple[MappingError, ...] = ()

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as ``(totals, unreadable)``, what :func:`erp_stock` returned up to 0.1."""
        return iter((self.totals, list(self.unreadable)))


def _sum_rows(
    rows: Iterable[Mapping[str, object]],
    *,
    table: str,
    item: FieldSpec,
    qty_column: str,
    warehouse_column: str | None,
    wanted: set[str],
    lookups: Lookups,
    errors: list[MappingError],
    seen: set[str],
) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        where = f"{item.column}={key_text(row.get(item.column))}"
        if warehouse_column:
            warehouse = key_text(row.get(warehouse_column))
            where += f"/{warehouse_column}={warehouse}"
            if wanted and warehouse not in wanted:
                continue
            seen.add(warehouse)
        try:
            code = item.converter.convert(row.get(item.column), lookups)
        except ConversionFailed as exc:
            errors.append(MappingError(table, where, item.column, exc.reason))
            continue
        try:
            qty = _QTY.convert(row.get(qty_column), lookups)
        except ConversionFailed as exc:
            errors.append(MappingError(table, where, qty_column, exc.reason))
            continue
        assert isinstance(qty, Decimal)
        totals[str(code)] = totals.get(str(code), Decimal(0)) + qty
    return totals


_QTY = DecimalConverter(minimum=None)  # ICInventory may hold negative quantities


def erp_stock(source: ErpSource, mapping: ErpMapping, lookups: Lookups | None = None) -> ErpStock:
    """ERP stock per component code: on hand over every location and batch, minus locks.

    Only the mapping's ``warehouses`` count (all when none are listed); the result
    names the warehouses it counted. Rows that cannot be read are listed (each a
    :class:`~orderflow.MappingError` naming the row and column) and left out.
    """
    spec = mapping.stock
    if spec is None:
        raise InputError(
            f"mapping {mapping.name!r} has no [stock] section: add one to reconcile stock"
        )
    if lookups is None:
        lookups = {name: source.read_lookup(lk) for name, lk in mapping.lookups.items()}
    wanted = {key_text(w) for w in spec.warehouses}
    errors: list[MappingError] = []
    seen: set[str] = set()
    on_hand = _sum_rows(
        source.read_stock(mapping),
        table=spec.table,
        item=spec.item,
        qty_column=spec.qty.column,
        warehouse_column=spec.warehouse_column,
        wanted=wanted,
        lookups=lookups,
        errors=errors,
        seen=seen,
    )
    locked: dict[str, Decimal] = {}
    if spec.locks is not None:
        lk = spec.locks
        locked = _sum_rows(
            source.read_stock_locks(mapping),
            table=lk.table,
            item=FieldSpec(lk.item_column, spec.item.converter),
            qty_column=lk.qty_column,
            warehouse_column=lk.warehouse_column,
            wanted=wanted or seen,
            lookups=lookups,
            errors=errors,
            seen=set(),
        )
    codes = set(on_hand) | set(locked)
    totals = {
        c: canonical_decimal(on_hand.get(c, Decimal(0)) - locked.get(c, Decimal(0))) for c in codes
    }
    return ErpStock(
        totals=totals,
        on_hand={c: canonical_decimal(v) for c, v in on_hand.items()},
        locked={c: canonical_decimal(v) for c, v in locked.items()},
        warehouses=tuple(sorted(wanted or seen, key=lambda w: (len(w), w))),
        unreadable=tuple(errors),
    )


@attrs.frozen
class AffectedOrder:
    """An open order that needs a component: how much, and whether the shelf covers it.

    ``cumulative`` is what this order and every earlier one (by requested date) need;
    ``blocked`` is true when the shelf cannot cover it; ``erp_says_ok`` when the
    ERP figure would have covered it (the trap the report is for).
    """

    order_id: str
    number: str
    requested_date: dt.date
    required: Decimal
    cumulative: Decimal
    blocked: bool
    erp_says_ok: bool


@attrs.frozen
class StockDiscrepancy:
    """One component whose ERP quantity differs from the scanned one.

    ``gap`` is ERP minus orderflow (positive: the ERP believes in stock the shelf
    does not have).
    """

    component: str
    erp_qty: Decimal
    orderflow_qty: Decimal
    gap: Decimal
    last_scan: dt.datetime | None
    orders_affected: tuple[AffectedOrder, ...] = ()

    @property
    def blocked_orders(self) -> tuple[AffectedOrder, ...]:
        """The affected orders the shelf cannot cover."""
        return tuple(o for o in self.orders_affected if o.blocked)


def _text(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


@attrs.frozen
class StockReport:
    """Every discrepancy found, largest absolute gap first."""

    generated_at: dt.datetime
    basis: str
    tolerance: Decimal
    compared: int
    discrepancies: tuple[StockDiscrepancy, ...]
    unreadable: tuple[MappingError, ...] = ()
    warehouses: tuple[str, ...] = ()
    """The ERP warehouses counted (``FStockID``); empty when the mapping has none."""

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-safe builtins (decimals and times as text)."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "basis": self.basis,
            "tolerance": str(self.tolerance),
            "compared": self.compared,
            "warehouses": list(self.warehouses),
            "discrepancies": [
                {
                    "component": d.component,
                    "erp_qty": str(d.erp_qty),
                    "orderflow_qty": str(d.orderflow_qty),
                    "gap": str(d.gap),
                    "last_scan": _text(d.last_scan),
                    "orders_affected": [
                        {k: _text(v) for k, v in attrs.asdict(o).items()} for o in d.orders_affected
                    ],
                }
                for d in self.discrepancies
            ],
            "unreadable": [dict(e.as_dict()) for e in self.unreadable],
        }

    def to_json(self) -> str:
        """The report as a JSON document."""
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, sort_keys=False)

    def health_section(self) -> dict[str, Any]:
        """The report as a section of the monthly health report (R8): title, summary, rows."""
        blocked = sum(len(d.blocked_orders) for d in self.discrepancies)
        return {
            "id": "erp_stock_discrepancies",
            "title": "ERP stock vs shelf (R6)",
            "summary": (
                f"{len(self.discrepancies)} of {self.compared} components differ from the ERP "
                f"by more than {self.tolerance}; {blocked} open order(s) blocked"
                + (f" (ERP warehouses {', '.join(self.warehouses)})" if self.warehouses else "")
            ),
            "columns": [
                "component",
                "erp_qty",
                "orderflow_qty",
                "gap",
                "last_scan",
                "orders_affected",
            ],
            "rows": [
                [
                    d.component,
                    str(d.erp_qty),
                    str(d.orderflow_qty),
                    str(d.gap),
                    _text(d.last_scan),
                    ", ".join(
                        o.number + (" (blocked)" if o.blocked else "") for o in d.orders_affected
                    ),
                ]
                for d in self.discrepancies
            ],
        }


def reconcile_stock(
    erp_qty: Mapping[str, Decimal],
    stock: Iterable[StockPosition],
    *,
    generated_at: dt.datetime,
    orders: Iterable[Order] = (),
    products: Mapping[str, Product] | None = None,
    last_scans: Mapping[str, dt.datetime] | None = None,
    tolerance: Decimal = Decimal(0),
    basis: Literal["available", "on_hand"] = "available",
    demand_stages: Iterable[str] = ("pending_review",),
    safety_factor: Decimal = Decimal(1),
    unreadable: Iterable[MappingError] = (),
    warehouses: Iterable[str] = (),
) -> StockReport:
    """Compare ERP on-hand with orderflow's stock and list what each gap blocks.

    ``basis`` picks orderflow's figure: ``available`` (on hand minus reserved, the
    default) or ``on_hand``. Components orderflow tracks but the ERP lacks count as
    ERP 0. ``orders`` in ``demand_stages`` (not yet kitted, so not yet reserved) are the
    demand: each needs line qty x BOM qty per unit x ``safety_factor`` of a component;
    they are taken by requested date, and an order is blocked once the running total
    exceeds the scanned quantity.
    """
    if tolerance < 0:
        raise InputError(f"tolerance must be >= 0, got {tolerance}")
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise InputError("generated_at must be timezone-aware")
    products = products or {}
    last_scans = last_scans or {}
    stages = frozenset(demand_stages)
    demand: dict[str, list[tuple[Order, Decimal]]] = {}
    for order in sorted(orders, key=lambda o: (o.requested_date, o.number)):
        if order.stage not in stages:
            continue
        need: dict[str, Decimal] = {}
        for line in order.lines:
            product = products.get(line.product)
            if product is None:
                continue
            for bom in product.bom:
                need[bom.component] = (
                    need.get(bom.component, Decimal(0))
                    + line.qty * bom.qty_per_unit * safety_factor
                )
        for component, qty in need.items():
            demand.setdefault(component, []).append((order, qty))

    found: list[StockDiscrepancy] = []
    compared = 0
    for position in stock:
        compared += 1
        ours = position.available if basis == "available" else position.on_hand
        theirs = erp_qty.get(position.component, Decimal(0))
        gap = theirs - ours
        if abs(gap) <= tolerance:
            continue
        running = Decimal(0)
        affected = []
        for order, qty in demand.get(position.component, []):
            running += qty
            affected.append(
                AffectedOrder(
                    order.id,
                    order.number,
                    order.requested_date,
                    canonical_decimal(qty),
                    canonical_decimal(running),
                    running > ours,
                    running <= theirs,
                )
            )
        found.append(
            StockDiscrepancy(
                component=position.component,
                erp_qty=canonical_decimal(theirs),
                orderflow_qty=canonical_decimal(ours),
                gap=canonical_decimal(gap),
                last_scan=last_scans.get(position.component),
                orders_affected=tuple(affected),
            )
        )
    found.sort(key=lambda d: (-abs(d.gap), d.component))
    return StockReport(
        generated_at,
        basis,
        tolerance,
        compared,
        tuple(found),
        tuple(unreadable),
        tuple(warehouses),
    )
