"""What an ERP change does to an orderflow order, and the reverse mapping (R7, R5).

:func:`order_changes` compares an order with the :class:`~orderflow.erp.ErpOrder` its
ERP document maps to now and returns the field changes (old and new value per field,
as the audit entry records them). :func:`erp_row_of` maps an order back to the ERP
columns the mapping can reverse (used by the round-trip property).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeAlias

import attrs

from orderflow.domain import Order, OrderNumber
from orderflow.erp.convert import Lookups, Value, canonical_decimal
from orderflow.erp.documents import ErpOrder, ErpRecord
from orderflow.erp.filters import Condition
from orderflow.erp.mapping import ErpMapping

__all__ = ["ChangeValue", "OrderChanges", "erp_row_of", "order_changes"]

ChangeValue: TypeAlias = str | int | bool | None
"""An old or new value as written in an audit entry (decimals and dates as text)."""


@attrs.frozen
class OrderChanges:
    """What an ERP change does to an existing order.

    ``values`` are the new typed attribute values (``attrs.evolve(order, **values)``);
    ``changes`` the same change flattened for the audit entry, one item per changed
    field (``lines[0].qty``: ``("5", "7")``), sorted by field name.
    """

    values: Mapping[str, object]
    changes: Mapping[str, tuple[ChangeValue, ChangeValue]]

    def __bool__(self) -> bool:
        return bool(self.changes)


def _scalar(value: object) -> ChangeValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(canonical_decimal(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_COMPARED = ("customer_id", "requested_date", "erp_number", "delivery_address")


def order_changes(order: Order, draft: ErpOrder, *, lines: bool = True) -> OrderChanges:
    """The field changes that bring ``order`` in line with ``draft`` (empty if none).

    Only fields the mapping supplies are compared. Lines are compared position by
    position; an added line shows ``None`` as old values, a removed one ``None`` as new
    (a line closed in the ERP is removed: it is no longer demand). ``lines=False``
    leaves lines alone (a closed order keeps the lines it had).
    The order's stage (cancellation, delivery) is not a field change and is not
    compared here.
    """
    values: dict[str, object] = {}
    changes: dict[str, tuple[ChangeValue, ChangeValue]] = {}
    for name in _COMPARED:
        if name == "requested_date" or name in draft.mapped:
            old, new = getattr(order, name), getattr(draft, name)
            if old != new:
                values[name] = new
                changes[name] = (_scalar(old), _scalar(new))
    if lines and order.lines != draft.lines:
        values["lines"] = draft.lines
        for i in range(max(len(order.lines), len(draft.lines))):
            old_line = order.lines[i] if i < len(order.lines) else None
            new_line = draft.lines[i] if i < len(draft.lines) else None
            for attr in ("product", "qty", "unit_price"):
                old = getattr(old_line, attr) if old_line is not None else None
                new = getattr(new_line, attr) if new_line is not None else None
                if old != new:
                    changes[f"lines[{i}].{attr}"] = (_scalar(old), _scalar(new))
    return OrderChanges(values, dict(sorted(changes.items())))


def erp_row_of(order: Order, mapping: ErpMapping, lookups: Lookups) -> ErpRecord:
    """The ERP record an order maps back to (the columns the mapping can reverse).

    Header: key, bill number, customer, cancellation flag, and the order date's
    calendar day (from the order number) as local midnight; an audited, open order in
    the base currency (exchange rate 1). Lines: product, quantity and price, in the
    base unit (coefficient 1). Columns orderflow does not keep (ERP status, per-line
    dates) are left out, and the mapping's ``where`` columns are filled so the row
    passes them when they are equalities. Used by the round-trip property.
    """
    h, ln = mapping.header, mapping.lines
    key: object = int(order.erp_id) if order.erp_id.isdigit() else order.erp_id
    header: dict[str, object] = {h.key: key}
    reverse: dict[str, Value] = {
        "erp_number": order.erp_number,
        "customer_id": order.customer_id,
        "requested_date": order.requested_date,
        "delivery_address": order.delivery_address,
        "cancelled": order.stage == "cancelled",
        "checker": 1,
        "closed": False,
        "exchange_rate": Decimal(1),
    }
    header.update(_passing(h.where))
    for name, spec in h.fields.items():
        if name == "order_date":
            day = OrderNumber.parse(order.number).date
            header[spec.column] = dt.datetime.combine(day, dt.time())
        elif name in reverse:
            header[spec.column] = spec.converter.reverse(reverse[name], lookups)
    rows: list[dict[str, object]] = []
    for i, line in enumerate(order.lines, start=1):
        row: dict[str, object] = {ln.key: i, **_passing(ln.where)}
        if ln.parent:
            row[ln.parent] = key
        values: tuple[tuple[str, Value], ...] = (
            ("product", line.product),
            ("qty", line.qty),
            ("order_qty", line.qty),
            ("unit_price", line.unit_price),
            ("unit_price_incl_tax", line.unit_price),
            ("base_amount", canonical_decimal(line.amount)),
            ("closed", False),
        )
        for name, attr in values:
            if name in ln.fields:
                spec = ln.fields[name]
                row[spec.column] = spec.converter.reverse(attr, lookups)
        rows.append(row)
    return ErpRecord(key, header, rows)


def _passing(where: tuple[Condition, ...]) -> dict[str, object]:
    """Column values that satisfy the equality conditions of a ``where``."""
    out: dict[str, object] = {}
    for cond in where:
        if cond.op in ("=", "in") and cond.values:
            out[cond.column] = cond.values[0]
        elif cond.op == "<>":
            out[cond.column] = 0 if cond.values[0] != 0 else 1
    return out
