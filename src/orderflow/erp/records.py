"""ERP rows in, order drafts out: the pure mapping step of the sync (R7).

:class:`RowMapper` turns one :class:`ErpRecord` (a header row and its line rows, as
read by an :class:`~orderflow.erp.ports.ErpSource`) into a :class:`MappedRow`: either an
:class:`OrderDraft` or every :class:`~orderflow.MappingError` found, plus a content hash
of the result. The hash covers the mapped values (after code lookups), so a change in a
code table also counts as a change, and a quarantined row is retried once its data or
the code table it points at is fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from orderflow.domain import Order, OrderLine, OrderNumber
from orderflow.erp.convert import (
    ConversionFailed,
    Lookups,
    Value,
    canonical_decimal,
    key_text,
    plant_zone,
)
from orderflow.erp.mapping import ErpMapping, FieldSpec, TableSpec
from orderflow.exceptions import InputError, MappingError

__all__ = [
    "ChangeValue",
    "ErpRecord",
    "MappedRow",
    "OrderChanges",
    "OrderDraft",
    "RowMapper",
    "erp_row_of",
    "order_changes",
]

ChangeValue: TypeAlias = str | int | bool | None
"""An old or new value as written in an audit entry (decimals and dates as text)."""

_NS = uuid.UUID("6f1f3a52-0b7e-5d0a-9a43-6b1b2f0e8c11")
_DIGITS = re.compile(r"(\d+)$")


def _rows(rows: Iterable[Mapping[str, object]]) -> tuple[Mapping[str, object], ...]:
    return tuple(rows)


@attrs.frozen
class ErpRecord:
    """One ERP document as read: the header row and its line rows (column -> raw value).

    ``key`` is the raw header key (``FInterID``). A column absent from a row's mapping
    is reported as missing, a ``None`` value as NULL.
    """

    key: object
    header: Mapping[str, object]
    lines: tuple[Mapping[str, object], ...] = attrs.field(converter=_rows, default=())

    @property
    def erp_id(self) -> str:
        """The key as text, as stored in :attr:`Order.erp_id <orderflow.domain.Order>`."""
        return key_text(self.key)


@attrs.frozen
class OrderDraft:
    """A mapped ERP order, ready for :meth:`ErpOrderTarget.import_order`.

    ``order_id`` is derived from the stream and the ERP key (UUID 5), so re-importing
    the same document always names the same order. ``mapped`` lists the header fields
    the mapping supplies; only those are compared on later changes.
    """

    erp_id: str
    erp_number: str
    order_id: str
    number: str
    customer_id: str
    lines: tuple[OrderLine, ...]
    requested_date: dt.date
    order_date: dt.datetime
    factory_id: str
    delivery_address: str = ""
    cancelled: bool = False
    erp_status: str = ""
    line_keys: tuple[str, ...] = ()
    mapped: frozenset[str] = frozenset()

    def canonical(self) -> dict[str, Any]:
        """The draft as JSON-safe builtins (stable; the content hash is taken over it)."""
        return {
            "erp_id": self.erp_id,
            "erp_number": self.erp_number,
            "order_id": self.order_id,
            "number": self.number,
            "customer_id": self.customer_id,
            "lines": [
                [k, ln.product, str(ln.qty), str(ln.unit_price)]
                for k, ln in zip(self.line_keys, self.lines, strict=True)
            ],
            "requested_date": self.requested_date.isoformat(),
            "order_date": self.order_date.isoformat(),
            "factory_id": self.factory_id,
            "delivery_address": self.delivery_address,
            "cancelled": self.cancelled,
            "erp_status": self.erp_status,
            "mapped": sorted(self.mapped),
        }


@attrs.frozen
class MappedRow:
    """The outcome of mapping one record: a draft, or the errors that quarantine it."""

    erp_id: str
    key: object
    content_hash: str
    draft: OrderDraft | None
    errors: tuple[MappingError, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the record mapped to a draft."""
        return self.draft is not None


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


def _raw_canonical(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        return key_text(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return repr(value)


def _hash(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class RowMapper:
    """Maps ERP records with one mapping and one set of loaded code tables (pure)."""

    def __init__(self, mapping: ErpMapping, lookups: Lookups) -> None:
        self.mapping = mapping
        self.lookups = lookups

    def _row_key(self, record: ErpRecord, line: Mapping[str, object] | None) -> str:
        head = f"{self.mapping.header.key}={record.erp_id}"
        if line is None:
            return head
        return f"{head}/{self.mapping.lines.key}={key_text(line.get(self.mapping.lines.key))}"

    def _read(
        self,
        table: TableSpec,
        row: Mapping[str, object],
        name: str,
        key: Callable[[], str],
        errors: list[MappingError],
    ) -> Value:
        spec: FieldSpec = table.fields[name]
        if spec.column not in row:
            errors.append(
                MappingError(table.table, key(), spec.column, "column is missing from the ERP row")
            )
            return None
        try:
            return spec.converter.convert(row[spec.column], self.lookups)
        except ConversionFailed as exc:
            errors.append(MappingError(table.table, key(), spec.column, exc.reason))
            return None

    def map(self, record: ErpRecord) -> MappedRow:
        """Map one record; never raises for bad data (errors are returned instead)."""
        m = self.mapping
        errors: list[MappingError] = []
        hkey = self._row_key(record, None)
        head: dict[str, Value] = {
            name: self._read(m.header, record.header, name, lambda: hkey, errors)
            for name in m.header.fields
        }
        lines: list[OrderLine] = []
        line_keys: list[str] = []
        dates: list[dt.date] = []
        ordered = sorted(record.lines, key=lambda r: _sort_key(r.get(m.lines.key)))
        if not ordered:
            errors.append(
                MappingError(
                    m.lines.table, hkey, m.lines.parent or m.lines.key, "the order has no lines"
                )
            )
        for row in ordered:

            def lkey(row: Mapping[str, object] = row) -> str:
                return self._row_key(record, row)

            values = {name: self._read(m.lines, row, name, lkey, errors) for name in m.lines.fields}
            delivery = values.get("delivery_date")
            if isinstance(delivery, dt.date):
                dates.append(delivery)
            product, qty = values.get("product"), values.get("qty")
            price = values.get("unit_price", Decimal(0))
            if (
                not isinstance(product, str)
                or not isinstance(qty, Decimal)
                or not isinstance(price, Decimal)
            ):
                continue
            try:
                lines.append(OrderLine(product, qty, price))
            except InputError as exc:
                column = m.lines.fields["qty"].column
                errors.append(MappingError(m.lines.table, lkey(), column, str(exc)))
                continue
            line_keys.append(key_text(row.get(m.lines.key)))
        draft = None
        if not errors:
            draft = self._draft(
                record, head, lines=lines, keys=line_keys, dates=dates, errors=errors
            )
        if draft is not None:
            payload: object = [m.fingerprint, draft.canonical()]
        else:
            payload = [
                m.fingerprint,
                {k: _raw_canonical(v) for k, v in sorted(record.header.items())},
                [{k: _raw_canonical(v) for k, v in sorted(r.items())} for r in ordered],
                [str(e) for e in errors],
            ]
        return MappedRow(record.erp_id, record.key, _hash(payload), draft, tuple(errors))

    def _draft(
        self,
        record: ErpRecord,
        head: Mapping[str, Value],
        *,
        lines: list[OrderLine],
        keys: list[str],
        dates: list[dt.date],
        errors: list[MappingError],
    ) -> OrderDraft | None:
        m = self.mapping
        hkey = self._row_key(record, None)
        order_date = head["order_date"]
        if isinstance(order_date, dt.datetime):
            local = order_date.astimezone(plant_zone(m.timezone))
            local_day = dt.date(local.year, local.month, local.day)
            instant = order_date
        else:
            assert isinstance(order_date, dt.date)
            local_day = order_date
            instant = _midnight_utc(order_date, m.timezone)
        requested = head.get("requested_date")
        if not isinstance(requested, dt.date):
            requested = min(dates) if dates else local_day
        erp_number = str(head["erp_number"])
        seq_source = record.erp_id if m.number_sequence == "erp_key" else erp_number
        seq_column = (
            m.header.key if m.number_sequence == "erp_key" else m.header.fields["erp_number"].column
        )
        match = _DIGITS.search(seq_source)
        try:
            if match is None:
                raise InputError(f"{seq_source!r} has no digits to number the order with")
            number = str(OrderNumber(m.number_prefix, local_day, int(match.group(1))))
        except InputError as exc:
            errors.append(
                MappingError(
                    m.header.table, hkey, seq_column, f"cannot derive an order number: {exc}"
                )
            )
            return None
        cancelled = head.get("cancelled", False)
        return OrderDraft(
            erp_id=record.erp_id,
            erp_number=erp_number,
            order_id=uuid.uuid5(_NS, f"{m.stream}:{record.erp_id}").hex,
            number=number,
            customer_id=str(head["customer_id"]),
            lines=tuple(lines),
            requested_date=requested,
            order_date=instant,
            factory_id=m.factory_id,
            delivery_address=str(head.get("delivery_address") or ""),
            cancelled=bool(cancelled),
            erp_status=str(head.get("erp_status") or ""),
            line_keys=tuple(keys),
            mapped=frozenset(head) | {"lines"},
        )


def _sort_key(value: object) -> tuple[int, Decimal | str]:
    text = key_text(value)
    try:
        return (0, Decimal(text))
    except ArithmeticError:
        return (1, text)


def _midnight_utc(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=plant_zone(zone)).astimezone(dt.UTC)


def _scalar(value: object) -> ChangeValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(canonical_decimal(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_COMPARED = ("customer_id", "requested_date", "erp_number", "delivery_address")


def order_changes(order: Order, draft: OrderDraft) -> OrderChanges:
    """The field changes that bring ``order`` in line with ``draft`` (empty if none).

    Only fields the mapping supplies are compared. Lines are compared position by
    position; an added line shows ``None`` as old values, a removed one ``None`` as new.
    The order's stage (cancellation) is not a field change and is not compared here.
    """
    values: dict[str, object] = {}
    changes: dict[str, tuple[ChangeValue, ChangeValue]] = {}
    for name in _COMPARED:
        if name == "requested_date" or name in draft.mapped:
            old, new = getattr(order, name), getattr(draft, name)
            if old != new:
                values[name] = new
                changes[name] = (_scalar(old), _scalar(new))
    if order.lines != draft.lines:
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
    calendar day (from the order number) as local midnight; lines: product, quantity
    and price. Columns orderflow does not keep (ERP status, per-line dates) are left
    out. Used by the round-trip property.
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
    }
    for name, spec in h.fields.items():
        if name == "order_date":
            day = OrderNumber.parse(order.number).date
            header[spec.column] = dt.datetime.combine(day, dt.time())
        elif name in reverse:
            header[spec.column] = spec.converter.reverse(reverse[name], lookups)
    rows: list[dict[str, object]] = []
    for i, line in enumerate(order.lines, start=1):
        row: dict[str, object] = {ln.key: i}
        if ln.parent:
            row[ln.parent] = key
        for name, attr in (
            ("product", line.product),
            ("qty", line.qty),
            ("unit_price", line.unit_price),
        ):
            if name in ln.fields:
                spec = ln.fields[name]
                row[spec.column] = spec.converter.reverse(attr, lookups)
        rows.append(row)
    return ErpRecord(key, header, rows)
