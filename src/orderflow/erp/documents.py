"""ERP documents as read, and as mapped: :class:`ErpRecord` in, :class:`ErpOrder` out (R7).

An :class:`ErpOrder` keeps what the ERP says about a sales order in the ERP's own
terms (status flags, document currency and exchange rate, each line in its order unit
with its coefficient to the base unit, prices ex and incl tax, tax and discount rates,
net shipped quantity and delivery date) beside the orderflow lines derived from it:
base-unit quantities priced in the company's base currency, so credit checks and stock
comparisons never mix units or currencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from orderflow.domain import OrderLine
from orderflow.erp.convert import key_text

__all__ = ["ErpLine", "ErpOrder", "ErpRecord"]


def _rows(rows: Iterable[Mapping[str, object]]) -> tuple[Mapping[str, object], ...]:
    return tuple(rows)


@attrs.frozen
class ErpRecord:
    """One ERP document as read: the header row, its line rows and its shipment rows.

    ``key`` is the raw header key (``FInterID``). A column absent from a row's mapping
    is reported as missing, a ``None`` value as NULL. ``shipments`` are the outbound
    bill lines pointing at the document (bill and bill-line columns of the mapping's
    ``[shipments]`` section, one mapping per bill line).
    """

    key: object
    header: Mapping[str, object]
    lines: tuple[Mapping[str, object], ...] = attrs.field(converter=_rows, default=())
    shipments: tuple[Mapping[str, object], ...] = attrs.field(converter=_rows, default=())

    @property
    def erp_id(self) -> str:
        """The key as text, as stored in :attr:`Order.erp_id <orderflow.domain.Order>`."""
        return key_text(self.key)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@attrs.frozen
class ErpLine:
    """One ERP order line in the ERP's terms.

    ``qty`` is in the base unit (K3 ``FQty``), ``order_qty`` in the order unit
    ``unit`` (``FAuxQty``/``FUnitID``); ``unit_price`` is per order unit in the
    document currency, ex tax (``FAuxPrice``); ``base_amount`` is the line amount in
    the company's base currency. ``shipped`` is the net base quantity the outbound
    bills moved (returns subtracted) and ``delivered_on`` the date of the bill that
    covered the line, if any.
    """

    key: str
    product: str
    qty: Decimal
    order_qty: Decimal
    unit: str
    unit_price: Decimal
    base_amount: Decimal
    unit_price_incl_tax: Decimal | None = None
    tax_rate: Decimal | None = None
    discount_rate: Decimal | None = None
    delivery_date: dt.date | None = None
    closed: bool = False
    shipped: Decimal = Decimal(0)
    delivered_on: dt.date | None = None
    bills: tuple[str, ...] = ()

    @property
    def coefficient(self) -> Decimal:
        """Base units per order unit (K3: ``FQty / FAuxQty``, the unit's coefficient)."""
        return self.qty / self.order_qty

    @property
    def covered(self) -> bool:
        """True when the net shipped quantity reaches the ordered base quantity."""
        return self.shipped >= self.qty

    def canonical(self) -> list[object]:
        """The line as JSON-safe builtins (part of the content hash)."""
        return [
            self.key,
            self.product,
            str(self.qty),
            str(self.order_qty),
            self.unit,
            str(self.unit_price),
            str(self.base_amount),
            _text(self.unit_price_incl_tax),
            _text(self.tax_rate),
            _text(self.discount_rate),
            None if self.delivery_date is None else self.delivery_date.isoformat(),
            self.closed,
            str(self.shipped),
            None if self.delivered_on is None else self.delivered_on.isoformat(),
            list(self.bills),
        ]


@attrs.frozen
class ErpOrder:
    """A mapped ERP sales order, ready for :meth:`ErpOrderTarget.import_order`.

    ``order_id`` is derived from the stream and the ERP key (UUID 5), so re-importing
    the same document always names the same order. ``mapped`` lists the header fields
    the mapping supplies; only those are compared on later changes.

    ``lines`` are orderflow's lines: the open ERP lines (a closed line is no longer
    demand), each in the base unit and priced in the base currency; when every line is
    closed they are all the lines and the order counts as :attr:`closed`.
    ``line_keys`` are the ERP keys of ``lines``; ``erp_lines`` every ERP line.
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
    audited: bool = True
    closed: bool = False
    currency: str = ""
    exchange_rate: Decimal = Decimal(1)
    erp_lines: tuple[ErpLine, ...] = ()

    @property
    def open(self) -> bool:
        """Audited, not cancelled and not closed: what K3's open-order lists show."""
        return self.audited and not self.cancelled and not self.closed

    @property
    def shipped(self) -> bool:
        """Every open line covered by outbound bills (closed lines need nothing more)."""
        wanted = [ln for ln in self.erp_lines if not ln.closed]
        return (
            bool(self.erp_lines)
            and all(ln.covered for ln in wanted)
            and (any(ln.shipped > 0 for ln in self.erp_lines))
        )

    @property
    def delivered_on(self) -> dt.date | None:
        """The actual delivery date: the last covering bill's date, once :attr:`shipped`."""
        if not self.shipped:
            return None
        days = [ln.delivered_on for ln in self.erp_lines if ln.delivered_on is not None]
        return max(days) if days else None

    @property
    def base_amount(self) -> Decimal:
        """orderflow's order value in the base currency (the open lines)."""
        return sum((ln.amount for ln in self.lines), Decimal(0))

    def canonical(self) -> dict[str, Any]:
        """The order as JSON-safe builtins (stable; the content hash is taken over it)."""
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
            "audited": self.audited,
            "closed": self.closed,
            "currency": self.currency,
            "exchange_rate": str(self.exchange_rate),
            "erp_lines": [ln.canonical() for ln in self.erp_lines],
        }

    def facts(self) -> dict[str, Any]:
        """What orderflow keeps of the ERP side of the order (JSON-safe; see the guide)."""
        delivered = self.delivered_on
        return {
            "erp_number": self.erp_number,
            "erp_status": self.erp_status,
            "audited": self.audited,
            "cancelled": self.cancelled,
            "closed": self.closed,
            "currency": self.currency,
            "exchange_rate": str(self.exchange_rate),
            "base_amount": str(self.base_amount),
            "delivered_on": None if delivered is None else delivered.isoformat(),
            "lines": [ln.canonical() for ln in self.erp_lines],
        }
