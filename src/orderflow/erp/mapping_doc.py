"""The ERP mapping document as written (TOML/JSON), validated by pydantic (R7).

These models are the configuration boundary: unknown keys are refused, and every
problem is reported with the key that holds it. :func:`~orderflow.erp.parse_mapping`
turns a valid document into the frozen :class:`~orderflow.erp.ErpMapping` the library
uses; nothing else reads these models.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from pydantic import Field, field_validator, model_validator

from orderflow.clock import check_timezone
from orderflow.erp.filters import ConditionDoc
from orderflow.erp.sections import LocksDoc, ShipmentsDoc, Strict

__all__ = [
    "ERP_STATUSES",
    "FEED_SOURCES",
    "FORMAT",
    "HEADER_TARGETS",
    "LINE_TARGETS",
    "FeedColumnDoc",
    "FeedDoc",
    "FieldDoc",
    "LookupDoc",
    "MappingDoc",
    "NumberDoc",
    "StockDoc",
    "TableDoc",
    "default_feed",
]

FORMAT = 1
"""The mapping document format this version of orderflow reads."""

_Kind = Literal["text", "int", "decimal", "date", "datetime", "code", "lookup"]

# target field -> (required?, kinds it accepts)
HEADER_TARGETS: Mapping[str, tuple[bool, frozenset[str]]] = MappingProxyType(
    {
        "erp_number": (True, frozenset({"text", "int"})),
        "order_date": (True, frozenset({"date", "datetime"})),
        "customer_id": (True, frozenset({"text", "lookup", "code"})),
        "requested_date": (False, frozenset({"date"})),
        "cancelled": (False, frozenset({"code"})),
        "erp_status": (False, frozenset({"code", "text"})),
        "delivery_address": (False, frozenset({"text"})),
        "checker": (False, frozenset({"int"})),
        "closed": (False, frozenset({"code"})),
        "currency": (False, frozenset({"text", "lookup", "code"})),
        "exchange_rate": (False, frozenset({"decimal"})),
    }
)
"""The orderflow fields a header column can feed: name -> (required, converter types)."""

LINE_TARGETS: Mapping[str, tuple[bool, frozenset[str]]] = MappingProxyType(
    {
        "product": (True, frozenset({"text", "lookup", "code"})),
        "qty": (True, frozenset({"decimal"})),
        "unit_price": (False, frozenset({"decimal"})),
        "delivery_date": (False, frozenset({"date"})),
        "order_qty": (False, frozenset({"decimal"})),
        "unit": (False, frozenset({"text", "lookup", "code"})),
        "unit_price_incl_tax": (False, frozenset({"decimal"})),
        "tax_rate": (False, frozenset({"decimal"})),
        "discount_rate": (False, frozenset({"decimal"})),
        "base_amount": (False, frozenset({"decimal"})),
        "closed": (False, frozenset({"code"})),
    }
)
"""The orderflow fields a line column can feed: name -> (required, converter types)."""

ERP_STATUSES = ("draft", "audited", "partly_closed", "closed")
"""What ``erp_status`` codes map to: a ``draft`` is not imported, ``closed`` closes the
order (Kingdee K3 ``FStatus`` 0..3)."""

FEED_SOURCES = frozenset(
    {
        "erp_id",
        "erp_number",
        "order_id",
        "number",
        "stage",
        "stage_entered_at",
        "actual_delivery_date",
        "customer_id",
        "requested_date",
        "version",
    }
)
"""Order facts the outbound feed can write into an ERP column."""


class FieldDoc(Strict):
    """One mapped column as written: column, converter type and its options."""

    column: str = Field(min_length=1)
    type: _Kind
    factor: Decimal | None = Field(default=None, gt=0)
    minimum: Decimal | None = None
    codes: dict[str, str | bool | int] | None = None
    lookup: str | None = None
    if_null: str | int | bool | Decimal | None = None

    @model_validator(mode="after")
    def _options_fit_type(self) -> FieldDoc:
        if (self.factor is not None or self.minimum is not None) and self.type != "decimal":
            raise ValueError("factor/minimum apply to type 'decimal' only")
        if self.type == "code" and not self.codes:
            raise ValueError("type 'code' needs a non-empty 'codes' table")
        if self.codes is not None and self.type != "code":
            raise ValueError("'codes' applies to type 'code' only")
        if self.type == "lookup" and not self.lookup:
            raise ValueError("type 'lookup' needs 'lookup' (the name of a [lookups] table)")
        if self.lookup is not None and self.type != "lookup":
            raise ValueError("'lookup' applies to type 'lookup' only")
        return self


class TableDoc(Strict):
    """A header or line table as written: table, key, parent, fields, ``where``."""

    table: str = Field(min_length=1)
    key: str = Field(min_length=1)
    parent: str | None = None
    fields: dict[str, FieldDoc]
    where: list[ConditionDoc] = Field(default_factory=list)


class LookupDoc(Strict):
    """A code table as written (``[lookups.NAME]``)."""

    table: str = Field(min_length=1)
    key: str = Field(min_length=1)
    value: str = Field(min_length=1)


class NumberDoc(Strict):
    """``[order_number]``: prefix and where the sequence comes from."""

    prefix: str = Field(default="HY", pattern=r"^[A-Z]{1,6}$")
    sequence: Literal["erp_key", "bill_no"] = "erp_key"


class StockDoc(Strict):
    """``[stock]`` as written, with its optional ``[stock.locks]``."""

    table: str = Field(min_length=1)
    item: FieldDoc
    qty: FieldDoc
    warehouse_column: str | None = None
    warehouses: list[str] = Field(default_factory=list)
    where: list[ConditionDoc] = Field(default_factory=list)
    locks: LocksDoc | None = None

    @model_validator(mode="after")
    def _warehouses_need_column(self) -> StockDoc:
        if self.warehouses and not self.warehouse_column:
            raise ValueError("'warehouses' needs 'warehouse_column'")
        if self.qty.type != "decimal":
            raise ValueError("qty must be of type 'decimal'")
        if self.warehouses and self.locks is not None and not self.locks.warehouse_column:
            raise ValueError("'warehouses' needs 'locks.warehouse_column' too")
        return self


class FeedColumnDoc(Strict):
    """One ``[[feed.columns]]`` entry: ERP column name and the order fact it holds."""

    column: str = Field(min_length=1)
    source: str

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if source not in FEED_SOURCES:
            raise ValueError(f"unknown feed source {source!r} (use one of {sorted(FEED_SOURCES)})")
        return source


class FeedDoc(Strict):
    """``[feed]``: the outbound change feed's columns."""

    columns: list[FeedColumnDoc] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _keyed(cls, columns: list[FeedColumnDoc]) -> list[FeedColumnDoc]:
        names = [c.column for c in columns]
        if len(set(names)) != len(names):
            raise ValueError("feed column names must be unique")
        if "erp_id" not in {c.source for c in columns}:
            raise ValueError("the feed must carry the ERP key (a column with source 'erp_id')")
        return columns


def default_feed() -> FeedDoc:
    """The feed of a mapping without ``[feed]``: the ERP key only."""
    return FeedDoc(columns=[FeedColumnDoc(column="erp_id", source="erp_id")])


class MappingDoc(Strict):
    """The whole mapping document; :meth:`problems` lists cross-field problems."""

    format: int = FORMAT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    revision: str = "1"
    source_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    description: str = ""
    timezone: str = "Asia/Shanghai"
    factory_id: str = Field(default="main", min_length=1)
    order_number: NumberDoc = Field(default_factory=NumberDoc)
    header: TableDoc
    lines: TableDoc
    lookups: dict[str, LookupDoc] = Field(default_factory=dict)
    stock: StockDoc | None = None
    shipments: ShipmentsDoc | None = None
    feed: FeedDoc = Field(default_factory=default_feed)

    @field_validator("format")
    @classmethod
    def _format(cls, value: int) -> int:
        if value != FORMAT:
            raise ValueError(f"this orderflow reads mapping format {FORMAT}, got {value}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        return check_timezone(name)

    def problems(self) -> list[str]:
        """Problems pydantic cannot see: targets, required fields, lookups, codes."""
        out: list[str] = []
        sections = (("header", self.header, HEADER_TARGETS), ("lines", self.lines, LINE_TARGETS))
        for section, table, targets in sections:
            for name, (required, _) in targets.items():
                if required and name not in table.fields:
                    out.append(f"{section}.fields.{name}: required field is not mapped")
            for name, spec in table.fields.items():
                where = f"{section}.fields.{name}"
                if name not in targets:
                    out.append(f"{where}: unknown orderflow field (use one of {sorted(targets)})")
                    continue
                kinds = targets[name][1]
                if spec.type not in kinds:
                    out.append(f"{where}.type: {name} takes {sorted(kinds)}, not {spec.type!r}")
                out.extend(self._field_problems(where, name, spec))
        if self.lines.parent is None:
            out.append("lines.parent: name the column that points at the header key")
        if self.header.parent is not None:
            out.append("header.parent: a header has no parent")
        if self.stock is not None:
            out.extend(self._field_problems("stock.item", "item", self.stock.item))
        return out

    def _field_problems(self, where: str, name: str, spec: FieldDoc) -> list[str]:
        out: list[str] = []
        if spec.type == "lookup" and spec.lookup not in self.lookups:
            out.append(
                f"{where}.lookup: unknown lookup {spec.lookup!r} "
                f"(defined: {sorted(self.lookups) or 'none'})"
            )
        if name in {"cancelled", "closed"} and spec.codes is not None:
            bad = sorted(k for k, v in spec.codes.items() if not isinstance(v, bool))
            if bad:
                out.append(f"{where}.codes: {name} codes must map to true/false ({bad})")
        if name == "erp_status" and spec.codes is not None:
            bad = sorted(k for k, v in spec.codes.items() if v not in ERP_STATUSES)
            if bad:
                out.append(
                    f"{where}.codes: erp_status codes must map to one of "
                    f"{list(ERP_STATUSES)} ({bad})"
                )
        if name in {"erp_status", "customer_id", "product"} and spec.codes is not None:
            bad = sorted(k for k, v in spec.codes.items() if not isinstance(v, str))
            if bad:
                out.append(f"{where}.codes: {name} codes must map to text ({bad})")
        return out
