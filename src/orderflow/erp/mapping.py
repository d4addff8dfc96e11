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
from typing import Any

import attrs
import pydantic

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
from orderflow.erp.filters import RowFilter
from orderflow.erp.mapping_doc import (
    ERP_STATUSES,
    FEED_SOURCES,
    HEADER_TARGETS,
    LINE_TARGETS,
    FieldDoc,
    MappingDoc,
    TableDoc,
)
from orderflow.erp.sections import FieldSpec, ShipmentSpec, StockSpec
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


class MappingSpecError(InputError):
    """A mapping document is invalid, or does not fit the live ERP schema.

    ``problems`` lists every problem found, each naming its key, table or column.
    """

    def __init__(self, what: str, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{what}: " + "; ".join(self.problems))


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
    doc: FieldDoc, zone: str, lookups: Mapping[str, LookupSpec], positive: bool = False
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


def _field(name: str, doc: FieldDoc, zone: str, lookups: Mapping[str, LookupSpec]) -> FieldSpec:
    converter = _converter(doc, zone, lookups, positive=name in _POSITIVE)
    return FieldSpec(doc.column, converter, doc.if_null)


def _table(doc: TableDoc, zone: str, lookups: Mapping[str, LookupSpec]) -> TableSpec:
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
        doc = MappingDoc.model_validate(dict(document))
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
