"""The stock and shipment sections of an ERP mapping (R6, R7): documents and frozen specs.

``[stock]`` says where on-hand stock lives (``ICInventory``: one row per material,
warehouse, location and batch, in the base unit) and, optionally, where stock already
locked for orders lives (``[stock.locks]``, ``t_LockStock``). ``[shipments]`` says
where outbound bills live (``ICStockBill`` + ``ICStockBillEntry``), how a bill line
points at a sales-order line, and which column marks a return (a red bill).
The document models are validated by pydantic at the boundary; the library only sees
the frozen specs.
"""

from __future__ import annotations

import attrs
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orderflow.erp.convert import Converter
from orderflow.erp.filters import Condition, ConditionDoc, RowFilter

__all__ = [
    "FieldSpec",
    "LockSpec",
    "LocksDoc",
    "ShipmentSpec",
    "ShipmentsDoc",
    "StockSpec",
    "Strict",
]


class Strict(BaseModel):
    """Base of the mapping's document models: unknown keys are refused (typos caught)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _frozen(where: list[ConditionDoc]) -> RowFilter:
    return tuple(c.frozen() for c in where)


class LocksDoc(Strict):
    """``[stock.locks]``: quantities already locked for orders, per material/warehouse."""

    table: str = Field(min_length=1)
    item_column: str = Field(min_length=1)
    qty_column: str = Field(min_length=1)
    warehouse_column: str | None = None
    where: list[ConditionDoc] = Field(default_factory=list)

    def frozen(self) -> LockSpec:
        """The frozen :class:`LockSpec`."""
        return LockSpec(
            self.table,
            self.item_column,
            self.qty_column,
            self.warehouse_column,
            _frozen(self.where),
        )


class _ShipmentLinesDoc(Strict):
    table: str = Field(min_length=1)
    parent: str = Field(min_length=1)
    order_key: str = Field(min_length=1)
    order_line: str = Field(min_length=1)
    qty: str = Field(min_length=1)
    where: list[ConditionDoc] = Field(default_factory=list)


class ShipmentsDoc(Strict):
    """``[shipments]``: outbound bills whose lines point at sales-order lines."""

    table: str = Field(min_length=1)
    key: str = Field(min_length=1)
    date: str = Field(min_length=1)
    red_column: str = Field(min_length=1)
    red_value: int = -1
    where: list[ConditionDoc] = Field(default_factory=list)
    lines: _ShipmentLinesDoc

    @model_validator(mode="after")
    def _distinct(self) -> ShipmentsDoc:
        if self.lines.order_key == self.lines.order_line:
            raise ValueError("lines.order_key and lines.order_line must be different columns")
        return self

    def frozen(self) -> ShipmentSpec:
        """The frozen :class:`ShipmentSpec`."""
        ln = self.lines
        return ShipmentSpec(
            table=self.table,
            key=self.key,
            date=self.date,
            red_column=self.red_column,
            red_value=self.red_value,
            where=_frozen(self.where),
            lines_table=ln.table,
            parent=ln.parent,
            order_key=ln.order_key,
            order_line=ln.order_line,
            qty=ln.qty,
            lines_where=_frozen(ln.where),
        )


@attrs.frozen
class FieldSpec:
    """One mapped column: the ERP column, the converter that reads it, and what a NULL
    reads as (``if_null``; ``None``: a NULL is missing data)."""

    column: str
    converter: Converter
    if_null: object = None


@attrs.frozen
class LockSpec:
    """Where stock locked for orders lives (``t_LockStock`` in Kingdee K3)."""

    table: str
    item_column: str
    qty_column: str
    warehouse_column: str | None = None
    where: tuple[Condition, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns read: item, quantity, warehouse (if any) and filter columns."""
        cols = [self.item_column, self.qty_column]
        if self.warehouse_column:
            cols.append(self.warehouse_column)
        cols.extend(c.column for c in self.where)
        return tuple(dict.fromkeys(cols))


@attrs.frozen
class StockSpec:
    """Where ERP on-hand stock lives (``ICInventory`` in Kingdee K3).

    Rows are summed per material over every warehouse, location and batch (or only the
    listed ``warehouses``); ``locks`` are subtracted from the same warehouses.
    """

    table: str
    item: FieldSpec
    qty: FieldSpec
    warehouse_column: str | None = None
    warehouses: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()
    locks: LockSpec | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns read: item, quantity, warehouse (if any) and filter columns."""
        cols = [self.item.column, self.qty.column]
        if self.warehouse_column:
            cols.append(self.warehouse_column)
        cols.extend(c.column for c in self.where)
        return tuple(dict.fromkeys(cols))


@attrs.frozen
class ShipmentSpec:
    """Outbound bills (``ICStockBill``/``ICStockBillEntry`` in Kingdee K3).

    A bill line counts for the sales-order line ``order_key``/``order_line`` points at;
    its quantity (base unit) adds when the bill's ``red_column`` is not ``red_value``
    and subtracts when it is (a return). The sign comes from that column, not from the
    stored quantity, whose sign on red bills the public K3 sources do not settle.
    """

    table: str
    key: str
    date: str
    red_column: str
    red_value: int
    where: tuple[Condition, ...]
    lines_table: str
    parent: str
    order_key: str
    order_line: str
    qty: str
    lines_where: tuple[Condition, ...] = ()

    @property
    def header_columns(self) -> tuple[str, ...]:
        """Bill header columns read: key, date, red flag and filter columns."""
        cols = [self.key, self.date, self.red_column, *(c.column for c in self.where)]
        return tuple(dict.fromkeys(cols))

    @property
    def line_columns(self) -> tuple[str, ...]:
        """Bill line columns read: parent, order link, quantity and filter columns."""
        cols = [self.parent, self.order_key, self.order_line, self.qty]
        cols.extend(c.column for c in self.lines_where)
        return tuple(dict.fromkeys(cols))
