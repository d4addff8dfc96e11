"""The declarative ERP mapping: which ERP tables and columns feed which orderflow fields (R7).

A mapping is a TOML or JSON document, validated by pydantic at the boundary; every
problem is reported at once with the key that holds it
(``header.fields.customer_id.lookup: unknown lookup 'cust'``) as a
:class:`MappingSpecError`. Inside the library only the frozen :class:`ErpMapping` is seen.
Presets ship as data files (``kingdee-k3-wise``); :func:`load_mapping` accepts a path or
a preset name.

Document shape (abridged; the preset is the full example)::

    format = 1
    name = "kingdee-k3-wise"
    revision = "2026.1"
    timezone = "Asia/Shanghai"
    factory_id = "main"

    [order_number]
    prefix = "HY"
    sequence = "erp_key"

    [header]
    table = "SEOrder"
    key = "FInterID"
    [header.fields]
    erp_number = { column = "FBillNo", type = "text" }
    customer_id = { column = "FCustID", type = "lookup", lookup = "customer" }

    [lookups.customer]
    table = "t_Organization"
    key = "FItemID"
    value = "FNumber"
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs
import pydantic
from pydantic import Field, field_validator, model_validator

from orderflow.clock import check_timezone
from orderflow.erp.convert import (
    CodeConverter,
    Converter,
    DateConverter,
    DateTimeConverter,
    DecimalConverter,
    IntConverter,
    LookupConverter,
    TextConverter,
)
from orderflow.erp.filters import ConditionDoc, RowFilter
from orderflow.erp.sections import (
    FieldSpec,
    LocksDoc,
    ShipmentsDoc,
    ShipmentSpec,
    StockSpec,
    Strict,
)
from orderflow.exceptions import InputError

__all__ = [
    "ERP_STATUSES",
    "FEED_SOURCES",
    "HEADER_TARGETS",
    "LINE_TARGETS",
    "ErpMapping",
    "FieldSpec",
    "LookupSpec",
    "MappingSpecError",
    "ShipmentSpec",
    "StockSpec",
    "TableSpec",
    "available_presets",
    "load_mapping",
    "load_preset",
    "parse_mapping",
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


class MappingSpecError(InputError):
    """A mapping document is invalid, or does not fit the live ERP schema.

    ``problems`` lists every problem found, each naming its key, table or column.
    """

    def __init__(self, what: str, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{what}: " + "; ".join(self.problems))


# --------------------------------------------------------------------------- document


_Strict = Strict


class _FieldDoc(_Strict):
    column: str = Field(min_length=1)
    type: _Kind
    factor: Decimal | None = Field(default=None, gt=0)
    minimum: Decimal | None = None
    codes: dict[str, str | bool | int] | None = None
    lookup: str | None = None
    if_null: str | int | bool | Decimal | None = None

    @model_validator(mode="after")
    def _options_fit_type(self) -> _FieldDoc:
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


class _TableDoc(_Strict):
    table: str = Field(min_length=1)
    key: str = Field(min_length=1)
    parent: str | None = None
    fields: dict[str, _FieldDoc]
    where: list[ConditionDoc] = Field(default_factory=list)


class _LookupDoc(_Strict):
    table: str = Field(min_length=1)
    key: str = Field(min_length=1)
    value: str = Field(min_length=1)


class _NumberDoc(_Strict):
    prefix: str = Field(default="HY", pattern=r"^[A-Z]{1,6}$")
    sequence: Literal["erp_key", "bill_no"] = "erp_key"


class _StockDoc(_Strict):
    table: str = Field(min_length=1)
    item: _FieldDoc
    qty: _FieldDoc
    warehouse_column: str | None = None
    warehouses: list[str] = Field(default_factory=list)
    where: list[ConditionDoc] = Field(default_factory=list)
    locks: LocksDoc | None = None

    @model_validator(mode="after")
    def _warehouses_need_column(self) -> _StockDoc:
        if self.warehouses and not self.warehouse_column:
            raise ValueError("'warehouses' needs 'warehouse_column'")
        if self.qty.type != "decimal":
            raise ValueError("qty must be of type 'decimal'")
        if self.warehouses and self.locks is not None and not self.locks.warehouse_column:
            raise ValueError("'warehouses' needs 'locks.warehouse_column' too")
        return self


class _FeedColumnDoc(_Strict):
    column: str = Field(min_length=1)
    source: str

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if source not in FEED_SOURCES:
            raise ValueError(f"unknown feed source {source!r} (use one of {sorted(FEED_SOURCES)})")
        return source


class _FeedDoc(_Strict):
    columns: list[_FeedColumnDoc] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _keyed(cls, columns: list[_FeedColumnDoc]) -> list[_FeedColumnDoc]:
        names = [c.column for c in columns]
        if len(set(names)) != len(names):
            raise ValueError("feed column names must be unique")
        if "erp_id" not in {c.source for c in columns}:
            raise ValueError("the feed must carry the ERP key (a column with source 'erp_id')")
        return columns


def _default_feed() -> _FeedDoc:
    return _FeedDoc(columns=[_FeedColumnDoc(column="erp_id", source="erp_id")])


class _MappingDoc(_Strict):
    format: int = FORMAT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    revision: str = "1"
    source_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    description: str = ""
    timezone: str = "Asia/Shanghai"
    factory_id: str = Field(default="main", min_length=1)
    order_number: _NumberDoc = Field(default_factory=_NumberDoc)
    header: _TableDoc
    lines: _TableDoc
    lookups: dict[str, _LookupDoc] = Field(default_factory=dict)
    stock: _StockDoc | None = None
    shipments: ShipmentsDoc | None = None
    feed: _FeedDoc = Field(default_factory=_default_feed)

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

    def _field_problems(self, where: str, name: str, spec: _FieldDoc) -> list[str]:
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


# --------------------------------------------------------------------------- frozen model


@attrs.frozen
class TableSpec:
    """An ERP table: its key column, its parent column (lines only) and mapped fields."""

    table: str
    key: str
    fields: Mapping[str, FieldSpec]
    parent: str | None = None
    where: RowFilter = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column read from the table: key, parent, mapped then filter columns."""
        out = [self.key]
        if self.parent:
            out.append(self.parent)
        out.extend(f.column for f in self.fields.values())
        out.extend(c.column for c in self.where)
        return tuple(dict.fromkeys(out))


@attrs.frozen
class LookupSpec:
    """A code table: ``key`` column -> ``value`` column of ``table``."""

    name: str
    table: str
    key: str
    value: str


@attrs.frozen
class ErpMapping:
    """A validated, frozen ERP mapping. Build it with :func:`parse_mapping` or a loader.

    ``fingerprint`` is the SHA-256 of the canonical document: changing the mapping
    changes every row's content hash, so the next sync re-examines all rows.
    ``stream`` names the sync state (watermark, hashes, quarantine) of this ERP source.
    """

    name: str
    revision: str
    stream: str
    timezone: str
    factory_id: str
    number_prefix: str
    number_sequence: str
    header: TableSpec
    lines: TableSpec
    lookups: Mapping[str, LookupSpec]
    stock: StockSpec | None
    shipments: ShipmentSpec | None
    feed_columns: tuple[tuple[str, str], ...]
    fingerprint: str
    document: Mapping[str, Any] = attrs.field(eq=False, repr=False)

    def required_columns(self) -> dict[str, tuple[str, ...]]:
        """Every table the mapping reads, with the columns it needs (for schema checks)."""
        need: dict[str, list[str]] = {}

        def add(table: str, *columns: str) -> None:
            need.setdefault(table, [])
            need[table].extend(c for c in columns if c not in need[table])

        add(self.header.table, *self.header.columns)
        add(self.lines.table, *self.lines.columns)
        for lookup in self.lookups.values():
            add(lookup.table, lookup.key, lookup.value)
        if self.stock is not None:
            add(self.stock.table, *self.stock.columns)
            if self.stock.locks is not None:
                add(self.stock.locks.table, *self.stock.locks.columns)
        if self.shipments is not None:
            add(self.shipments.table, *self.shipments.header_columns)
            add(self.shipments.lines_table, *self.shipments.line_columns)
        return {t: tuple(c) for t, c in need.items()}


def _converter(
    doc: _FieldDoc, zone: str, lookups: Mapping[str, LookupSpec], positive: bool = False
) -> Converter:
    if doc.type == "text":
        return TextConverter()
    if doc.type == "int":
        return IntConverter()
    if doc.type == "decimal":
        minimum = doc.minimum if doc.minimum is not None else (None if positive else Decimal(0))
        return DecimalConverter(factor=doc.factor or Decimal(1), minimum=minimum, positive=positive)
    if doc.type == "date":
        return DateConverter(zone)
    if doc.type == "datetime":
        return DateTimeConverter(zone)
    if doc.type == "code":
        return CodeConverter(doc.codes or {})
    spec = lookups[doc.lookup or ""]
    return LookupConverter(spec.name, spec.table, spec.key, spec.value)


_POSITIVE = frozenset({"qty", "order_qty", "exchange_rate"})


def _field(name: str, doc: _FieldDoc, zone: str, lookups: Mapping[str, LookupSpec]) -> FieldSpec:
    converter = _converter(doc, zone, lookups, positive=name in _POSITIVE)
    return FieldSpec(doc.column, converter, doc.if_null)


def _table(doc: _TableDoc, zone: str, lookups: Mapping[str, LookupSpec]) -> TableSpec:
    fields = {name: _field(name, f, zone, lookups) for name, f in doc.fields.items()}
    where = tuple(c.frozen() for c in doc.where)
    return TableSpec(doc.table, doc.key, MappingProxyType(fields), doc.parent, where)


def _problems(exc: pydantic.ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {msg}")
    return out


def parse_mapping(document: Mapping[str, Any], *, origin: str = "mapping") -> ErpMapping:
    """Validate a mapping document and return the frozen :class:`ErpMapping`.

    Unknown keys are refused (typos are caught); every problem is reported at once in a
    :class:`MappingSpecError` whose message names each key. ``origin`` names the document
    in that message.
    """
    try:
        doc = _MappingDoc.model_validate(dict(document))
    except pydantic.ValidationError as exc:
        raise MappingSpecError(f"invalid ERP mapping {origin}", _problems(exc)) from None
    problems = doc.problems()
    if problems:
        raise MappingSpecError(f"invalid ERP mapping {origin}", problems)
    canonical = doc.model_dump(mode="json")
    fingerprint = hashlib.sha256(
        json.dumps(canonical, sort_keys=True, ensure_ascii=True).encode()
    ).hexdigest()
    lookups = {
        name: LookupSpec(name, spec.table, spec.key, spec.value)
        for name, spec in doc.lookups.items()
    }
    stock = None
    if doc.stock is not None:
        stock = StockSpec(
            table=doc.stock.table,
            item=FieldSpec(
                doc.stock.item.column, _converter(doc.stock.item, doc.timezone, lookups)
            ),
            qty=FieldSpec(
                doc.stock.qty.column,
                DecimalConverter(
                    factor=doc.stock.qty.factor or Decimal(1), minimum=doc.stock.qty.minimum
                ),
            ),
            warehouse_column=doc.stock.warehouse_column,
            warehouses=tuple(doc.stock.warehouses),
            where=tuple(c.frozen() for c in doc.stock.where),
            locks=doc.stock.locks.frozen() if doc.stock.locks is not None else None,
        )
    return ErpMapping(
        name=doc.name,
        revision=doc.revision,
        stream=doc.source_id or doc.name,
        timezone=doc.timezone,
        factory_id=doc.factory_id,
        number_prefix=doc.order_number.prefix,
        number_sequence=doc.order_number.sequence,
        header=_table(doc.header, doc.timezone, lookups),
        lines=_table(doc.lines, doc.timezone, lookups),
        lookups=MappingProxyType(lookups),
        stock=stock,
        shipments=doc.shipments.frozen() if doc.shipments is not None else None,
        feed_columns=tuple((c.column, c.source) for c in doc.feed.columns),
        fingerprint=fingerprint,
        document=MappingProxyType(canonical),
    )


def _read_document(raw: bytes, suffix: str, origin: str) -> dict[str, Any]:
    try:
        doc = tomllib.loads(raw.decode()) if suffix == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        kind = suffix.lstrip(".").upper() or "JSON"
        raise MappingSpecError(
            f"invalid ERP mapping {origin}", [f"not valid {kind}: {exc}"]
        ) from None
    if not isinstance(doc, dict):
        raise MappingSpecError(f"invalid ERP mapping {origin}", ["the document must be a table"])
    return doc


def available_presets() -> tuple[str, ...]:
    """Names of the mapping presets shipped with orderflow (e.g. ``kingdee-k3-wise``)."""
    folder = importlib.resources.files("orderflow.erp") / "presets"
    return tuple(
        sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    )


def load_preset(name: str, **overrides: Any) -> ErpMapping:
    """Load a shipped preset; ``overrides`` replace top-level keys (e.g. ``factory_id``)."""
    if name not in available_presets():
        raise MappingSpecError(
            "unknown ERP mapping preset",
            [f"{name!r} (available: {', '.join(available_presets())})"],
        )
    resource = importlib.resources.files("orderflow.erp") / "presets" / f"{name}.toml"
    doc = _read_document(resource.read_bytes(), ".toml", f"preset {name}")
    doc.update(overrides)
    return parse_mapping(doc, origin=f"preset {name}")


def load_mapping(path_or_preset: str | Path) -> ErpMapping:
    """Read a mapping from a ``.toml``/``.json`` file, or load a preset by name."""
    path = Path(path_or_preset)
    if (
        isinstance(path_or_preset, str)
        and not path.exists()
        and path_or_preset in available_presets()
    ):
        return load_preset(path_or_preset)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MappingSpecError(
            f"cannot read ERP mapping {path}",
            [f"{exc.strerror}; presets: {', '.join(available_presets())}"],
        ) from None
    return parse_mapping(_read_document(raw, path.suffix, str(path)), origin=str(path))
