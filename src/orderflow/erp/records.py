"""ERP rows in, ERP orders out: the pure mapping step of the sync (R7).

:class:`RowMapper` turns one :class:`~orderflow.erp.ErpRecord` (a header row, its line
rows and the outbound-bill rows pointing at it, as read by an
:class:`~orderflow.erp.ports.ErpSource`) into a :class:`MappedRow`: either an
:class:`~orderflow.erp.ErpOrder` or every :class:`~orderflow.MappingError` found, plus
a content hash. The hash covers everything the outcome depends on (the mapping, the code
tables and the raw rows), so a change in a code table also counts as a change, a
quarantined row is retried once its data or the code table it points at is fixed, and
an unchanged row need not be mapped again.

Status (Kingdee K3 semantics, see ``docs/guides/erp.md``): a document is *audited*
when its checker is not 0 and its status is not ``draft``; *closed* when its status
is ``closed``, its closed flag is set, or every line is closed; orderflow imports only
open documents (audited, not cancelled, not closed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs

from orderflow.domain import OrderLine, OrderNumber
from orderflow.erp.convert import (
    ConversionFailed,
    DateConverter,
    Lookups,
    Value,
    canonical_decimal,
    key_text,
    plant_zone,
)
from orderflow.erp.documents import ErpLine, ErpOrder, ErpRecord
from orderflow.erp.mapping import ErpMapping, TableSpec
from orderflow.erp.shipments import ShipmentMove, line_deliveries
from orderflow.exceptions import InputError, MappingError

__all__ = ["MappedRow", "RowMapper"]

_NS = uuid.UUID("6f1f3a52-0b7e-5d0a-9a43-6b1b2f0e8c11")
_DIGITS = re.compile(r"(\d+)$")
_PER_UNIT = Decimal("1e-10")
_ABSENT = (
    object()
)  # a column missing from the row, unlike a NULL  # K3 keeps prices as decimal(28,10)


@attrs.frozen
class MappedRow:
    """The outcome of mapping one record: an ERP order, or the errors that quarantine it.

    ``inactive`` says, from the header alone, why the document is not an open order
    (``draft``, ``cancelled``, ``closed``; empty when it is open): a new document that
    is inactive is skipped even when its other columns do not map.
    """

    erp_id: str
    key: object
    content_hash: str
    draft: ErpOrder | None
    errors: tuple[MappingError, ...] = ()
    inactive: str = ""

    @property
    def ok(self) -> bool:
        """True when the record mapped to an :class:`~orderflow.erp.ErpOrder`."""
        return self.draft is not None


_LOOKUP_PRINTS: dict[int, tuple[Lookups, str]] = {}


def _lookups_print(lookups: Lookups) -> str:
    """The code tables' hash, computed once per loaded set (``follow`` reuses a set)."""
    seen = _LOOKUP_PRINTS.get(id(lookups))
    if seen is not None and seen[0] is lookups:
        return seen[1]
    printed = _hash({name: sorted(table.items()) for name, table in lookups.items()})
    _LOOKUP_PRINTS.clear()  # keep one: the set in use
    _LOOKUP_PRINTS[id(lookups)] = (lookups, printed)
    return printed


def _hash(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _per_unit(value: Decimal) -> Decimal:
    return canonical_decimal(value.quantize(_PER_UNIT))


def _dec(value: Value, default: Decimal | None = None) -> Decimal | None:
    return value if isinstance(value, Decimal) else default


class RowMapper:
    """Maps ERP records with one mapping and one set of loaded code tables (pure)."""

    def __init__(self, mapping: ErpMapping, lookups: Lookups) -> None:
        self.mapping = mapping
        self.lookups = lookups
        self._lookups_print = _lookups_print(lookups)
        self._bill_date = DateConverter(mapping.timezone)

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
        spec = table.fields[name]
        raw = row.get(spec.column, _ABSENT)
        if raw is _ABSENT:
            errors.append(
                MappingError(table.table, key(), spec.column, "column is missing from the ERP row")
            )
            return None
        if raw is None and spec.if_null is not None:
            raw = spec.if_null
        try:
            return spec.converter.convert(raw, self.lookups)
        except ConversionFailed as exc:
            errors.append(MappingError(table.table, key(), spec.column, exc.reason))
            return None

    def _status(self, head: Mapping[str, Value]) -> tuple[bool, bool, bool]:
        """(audited, cancelled, closed) from the header's mapped flags."""
        status = head.get("erp_status")
        checker = head.get("checker")
        audited = status != "draft" and (checker is None or checker != 0)
        closed = status == "closed" or head.get("closed") is True
        return audited, head.get("cancelled") is True, closed

    def map(self, record: ErpRecord, content_hash: str | None = None) -> MappedRow:
        """Map one record; never raises for bad data (errors are returned instead).

        ``content_hash`` is :meth:`content_hash` of ``record`` if already computed.
        """
        m = self.mapping
        errors: list[MappingError] = []
        hkey = self._row_key(record, None)
        head: dict[str, Value] = {
            name: self._read(m.header, record.header, name, lambda: hkey, errors)
            for name in m.header.fields
        }
        audited, cancelled, closed = self._status(head)
        inactive = (
            "draft" if not audited else ("cancelled" if cancelled else ("closed" if closed else ""))
        )
        ordered = sorted(record.lines, key=lambda r: _sort_key(r.get(m.lines.key)))
        if not ordered:
            errors.append(
                MappingError(
                    m.lines.table, hkey, m.lines.parent or m.lines.key, "the order has no lines"
                )
            )
        rate = _dec(head.get("exchange_rate"), Decimal(1)) or Decimal(1)
        erp_lines = [
            line for row in ordered if (line := self._line(record, row, rate, errors)) is not None
        ]
        erp_lines = self._shipped(record, erp_lines, errors)
        draft = None
        if not errors:
            draft = self._draft(record, head, erp_lines, errors)
        content = content_hash or self.content_hash(record)
        return MappedRow(record.erp_id, record.key, content, draft, tuple(errors), inactive)

    def content_hash(self, record: ErpRecord) -> str:
        """A hash of everything the mapping of ``record`` depends on (cheap; no mapping).

        Mapping is a pure function of the mapping, the code tables and the raw rows, so
        equal hashes mean an equal outcome: the sync skips such rows without mapping
        them. Any change of a code table changes every hash (the rows are re-examined).
        """
        m = self.mapping
        key = m.lines.key
        # the database's row order is not part of the content
        lines = sorted(record.lines, key=lambda r: str(r.get(key)))
        bills = m.shipments
        shipments = (
            sorted(
                record.shipments,
                key=lambda r: (str(r.get(bills.key)), str(r.get(bills.order_line))),
            )
            if bills is not None
            else []
        )
        # json's C encoder with default=str: Decimal, date and datetime as their text
        text = json.dumps(
            [m.fingerprint, self._lookups_print, record.header, lines, shipments],
            sort_keys=True,
            default=str,
            ensure_ascii=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def _line(
        self,
        record: ErpRecord,
        row: Mapping[str, object],
        rate: Decimal,
        errors: list[MappingError],
    ) -> ErpLine | None:
        """One ERP line: base quantity, order-unit quantity, prices and base amount."""
        m = self.mapping

        def lkey() -> str:
            return self._row_key(record, row)

        before = len(errors)
        v = {name: self._read(m.lines, row, name, lkey, errors) for name in m.lines.fields}
        product, qty = v.get("product"), _dec(v.get("qty"))
        if len(errors) > before or not isinstance(product, str) or qty is None:
            return None
        order_qty = _dec(v.get("order_qty"), qty) or qty
        price = _dec(v.get("unit_price"), Decimal(0)) or Decimal(0)
        incl = _dec(v.get("unit_price_incl_tax"))
        doc_price = incl if incl is not None else price
        base = _dec(v.get("base_amount"))
        if base is None:
            base = canonical_decimal(doc_price * order_qty * rate)
        delivery = v.get("delivery_date")
        return ErpLine(
            key=key_text(row.get(m.lines.key)),
            product=product,
            qty=qty,
            order_qty=order_qty,
            unit=str(v.get("unit") or ""),
            unit_price=price,
            base_amount=base,
            unit_price_incl_tax=incl,
            tax_rate=_dec(v.get("tax_rate")),
            discount_rate=_dec(v.get("discount_rate")),
            delivery_date=delivery if isinstance(delivery, dt.date) else None,
            closed=v.get("closed") is True,
        )

    def _shipped(
        self, record: ErpRecord, lines: list[ErpLine], errors: list[MappingError]
    ) -> list[ErpLine]:
        """The lines with net shipped quantity and delivery date from the outbound bills."""
        spec = self.mapping.shipments
        if spec is None or not record.shipments:
            return lines
        moves: list[ShipmentMove] = []
        for row in record.shipments:
            bill = key_text(row.get(spec.key))
            where = f"{spec.key}={bill}"
            try:
                day = self._bill_date.convert(row.get(spec.date), self.lookups)
                qty = abs(canonical_decimal(_number(row.get(spec.qty))))
            except ConversionFailed as exc:
                errors.append(
                    MappingError(spec.table, where, f"{spec.date}/{spec.qty}", exc.reason)
                )
                continue
            assert isinstance(day, dt.date)
            is_return = key_text(row.get(spec.red_column)) == str(spec.red_value)
            moves.append(
                ShipmentMove(bill, day, key_text(row.get(spec.order_line)), qty, is_return)
            )
        done = line_deliveries(moves, {ln.key: ln.qty for ln in lines})
        return [
            attrs.evolve(ln, shipped=d.shipped, delivered_on=d.delivered_on, bills=d.bills)
            if (d := done.get(ln.key)) is not None
            else ln
            for ln in lines
        ]

    def _draft(
        self,
        record: ErpRecord,
        head: Mapping[str, Value],
        erp_lines: list[ErpLine],
        errors: list[MappingError],
    ) -> ErpOrder | None:
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
        open_lines = [ln for ln in erp_lines if not ln.closed] or erp_lines
        lines: list[OrderLine] = []
        for ln in open_lines:
            try:
                lines.append(OrderLine(ln.product, ln.qty, self._base_price(ln, head)))
            except InputError as exc:
                key = f"{hkey}/{m.lines.key}={ln.key}"
                errors.append(
                    MappingError(m.lines.table, key, m.lines.fields["qty"].column, str(exc))
                )
        if errors:
            return None
        dates = [ln.delivery_date for ln in open_lines if ln.delivery_date is not None]
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
        audited, cancelled, closed = self._status(head)
        return ErpOrder(
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
            cancelled=cancelled,
            erp_status=str(head.get("erp_status") or ""),
            line_keys=tuple(ln.key for ln in open_lines),
            mapped=frozenset(head) | {"lines"},
            audited=audited,
            closed=closed or all(ln.closed for ln in erp_lines),
            currency=str(head.get("currency") or ""),
            exchange_rate=_dec(head.get("exchange_rate"), Decimal(1)) or Decimal(1),
            erp_lines=tuple(erp_lines),
        )

    def _base_price(self, line: ErpLine, head: Mapping[str, Value]) -> Decimal:
        """orderflow's unit price: base currency per base unit.

        Exact (no division) when the mapping has neither a base amount nor an
        order-unit quantity: then it is the document price times the exchange rate.
        """
        fields = self.mapping.lines.fields
        if "base_amount" in fields or "order_qty" in fields:
            return _per_unit(line.base_amount / line.qty)
        rate = _dec(head.get("exchange_rate"), Decimal(1)) or Decimal(1)
        price = (
            line.unit_price_incl_tax if line.unit_price_incl_tax is not None else line.unit_price
        )
        return canonical_decimal(price * rate)


def _number(value: object) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ConversionFailed(f"expected a quantity, got {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float | str):
        try:
            return Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except ArithmeticError:
            raise ConversionFailed(f"not a number: {value!r}") from None
    raise ConversionFailed(f"expected a quantity, got {type(value).__name__}")


def _sort_key(value: object) -> tuple[int, Decimal | str]:
    text = key_text(value)
    try:
        return (0, Decimal(text))
    except ArithmeticError:
        return (1, text)


def _midnight_utc(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=plant_zone(zone)).astimezone(dt.UTC)
