"""The Order aggregate root (R1) and its identifiers (order number, query token, slip code)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from typing import Any

import attrs

from orderflow._entropy import random_bytes, token_urlsafe
from orderflow.domain._checks import non_negative, not_blank, positive, to_decimal
from orderflow.exceptions import InputError

__all__ = [
    "Order",
    "OrderLine",
    "OrderNumber",
    "new_order",
    "query_token_hash",
    "time_ordered_id",
]

_NUMBER_RE = re.compile(r"^([A-Z]{1,6})(\d{4})(\d{2})(\d{2})-(\d{1,7})$")


@attrs.frozen(order=True)
class OrderNumber:
    """A human order number shaped like ``HY20260122-887``: prefix, date, daily sequence."""

    prefix: str
    date: dt.date
    seq: int

    def __attrs_post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{1,6}", self.prefix):
            raise InputError(
                f"order number prefix must be 1-6 capital letters, got {self.prefix!r}"
            )
        if not 0 <= self.seq < 10_000_000:
            raise InputError(f"order number sequence out of range: {self.seq}")

    def __str__(self) -> str:
        return f"{self.prefix}{self.date:%Y%m%d}-{self.seq}"

    @classmethod
    def parse(cls, text: str) -> OrderNumber:
        """Parse ``HY20260122-887``; raise :class:`~orderflow.InputError` if malformed."""
        match = _NUMBER_RE.match(text.strip())
        if match is None:
            raise InputError(f"not an order number (expected like HY20260122-887): {text!r}")
        prefix, year, month, day, seq = match.groups()
        try:
            date = dt.date(int(year), int(month), int(day))
        except ValueError:
            raise InputError(f"order number {text!r} has an impossible date") from None
        return cls(prefix, date, int(seq))


@attrs.frozen
class OrderLine:
    """One product line of an order."""

    product: str = attrs.field(validator=not_blank)
    qty: Decimal = attrs.field(converter=to_decimal, validator=positive)
    unit_price: Decimal = attrs.field(
        default=Decimal(0), converter=to_decimal, validator=non_negative
    )

    @property
    def amount(self) -> Decimal:
        """Quantity times unit price."""
        return self.qty * self.unit_price


def _lines(value: Any) -> tuple[OrderLine, ...]:
    lines = tuple(value)
    if not lines:
        raise InputError("an order needs at least one line")
    return lines


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(f"timestamps must be timezone-aware, got naive {value!r}")
    return value


# slots=False on purpose: the workflow engine copies an order by copying its __dict__,
# which costs a fraction of attrs.evolve() on the hot path (see workflow.machine).
@attrs.frozen(slots=False)
class Order:
    """The order aggregate: immutable; every change yields a new version.

    ``version`` counts the changes recorded for the order (0 right after creation) and
    equals the per-order sequence of its latest audit entry. ``erp_id``/``erp_number``
    link the order to its ERP document (Kingdee K3 ``FInterID``/``FBillNo``), if any.
    ``deadline`` is when the current stage's time limit runs out (R4), if it has one.
    """

    id: str = attrs.field(validator=not_blank)
    number: str = attrs.field(validator=not_blank)
    customer_id: str = attrs.field(validator=not_blank)
    lines: tuple[OrderLine, ...] = attrs.field(converter=_lines)
    requested_date: dt.date
    factory_id: str = attrs.field(validator=not_blank)
    stage: str
    created_at: dt.datetime = attrs.field(converter=_utc)
    stage_entered_at: dt.datetime = attrs.field(converter=_utc)
    version: int = 0
    held_from: str | None = None
    query_token_hash: str = ""
    delivery_address: str = ""
    erp_id: str = ""
    erp_number: str = ""
    deadline: dt.datetime | None = None

    @property
    def amount(self) -> Decimal:
        """Total order value (sum of the lines)."""
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def total_qty(self) -> Decimal:
        """Total number of units ordered."""
        return sum((line.qty for line in self.lines), Decimal(0))


def time_ordered_id(at: dt.datetime) -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit milliseconds + 80 random bits).

    Ids that grow with time keep database index inserts local (random UUIDs scatter
    them over the whole B-tree); the random part keeps them unguessable and unique.
    """
    millis = int(at.timestamp() * 1000) & 0xFFFF_FFFF_FFFF
    return f"{millis:012x}{random_bytes(10).hex()}"


def query_token_hash(token: str) -> str:
    """The stored form of a customer query token (hex SHA-256); tokens are never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_order(
    *,
    number: str | OrderNumber,
    customer_id: str,
    lines: tuple[OrderLine, ...] | list[OrderLine],
    requested_date: dt.date,
    factory_id: str,
    initial_stage: str,
    created_at: dt.datetime,
    delivery_address: str = "",
    order_id: str | None = None,
    erp_id: str = "",
    erp_number: str = "",
    deadline: dt.datetime | None = None,
) -> tuple[Order, str]:
    """Create an order with a fresh id and query token.

    Returns ``(order, query_token)``. The token (>= 128 bits) is for the customer's link
    and is returned only here; the order keeps its hash. The 6-digit slip code is not
    part of the order: the service derives it (:meth:`OrderService.slip_code`).
    """
    token = token_urlsafe(16)
    if isinstance(number, str):
        OrderNumber.parse(number)  # validates the shape (an OrderNumber already is valid)
    text = str(number)
    order = Order(
        id=order_id or time_ordered_id(created_at),
        number=text,
        customer_id=customer_id,
        lines=tuple(lines),
        requested_date=requested_date,
        factory_id=factory_id,
        stage=initial_stage,
        created_at=created_at,
        stage_entered_at=created_at,
        query_token_hash=query_token_hash(token),
        delivery_address=delivery_address,
        erp_id=erp_id,
        erp_number=erp_number,
        deadline=deadline,
    )
    return order, token
