"""How an Order is laid out in a database row, shared by the SQL adapters.

Nothing permanent depends on this layout: audit entries carry orders as named fields
(:mod:`orderflow.service.codec`); a row is only the adapter's current copy.

Decoding skips attrs validation (rows were validated when written) and builds the
frozen order by filling its ``__dict__``: loading is on the hot path of every change.
Instants are stored as integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from orderflow.clock import from_micros, to_micros
from orderflow.domain.order import Order, OrderLine
from orderflow.exceptions import UnreadableRow

__all__ = [
    "COLUMNS",
    "STATE_COLUMNS",
    "decode_lines",
    "encode_lines",
    "from_micros",
    "order_from_row",
    "order_to_row",
    "state_row",
    "to_micros",
]

COLUMNS = (
    "id",
    "number",
    "customer_id",
    "factory_id",
    "stage",
    "version",
    "requested_date",
    "created_at",
    "stage_entered_at",
    "held_from",
    "query_token_hash",
    "verification_code",
    "delivery_address",
    "erp_id",
    "erp_number",
    "deadline",
    "lines",
)

STATE_COLUMNS = ("stage", "version", "stage_entered_at", "held_from", "deadline")
"""The workflow columns a narrow ``UPDATE`` writes (in :func:`state_row` order, then id
and expected version)."""


def state_row(order: Order, expected_version: int) -> tuple[Any, ...]:
    """Parameters of a narrow ``UPDATE`` (workflow columns, then id and expected version)."""
    deadline = order.deadline
    return (
        order.stage,
        order.version,
        to_micros(order.stage_entered_at),
        order.held_from,
        None if deadline is None else to_micros(deadline),
        order.id,
        expected_version,
    )


@functools.lru_cache(maxsize=4096)
def encode_lines(lines: tuple[OrderLine, ...]) -> str:
    """Order lines as compact JSON ``[[product, qty, price], ...]`` (cached: orders are
    written several times with the same lines)."""
    return json.dumps(
        [[ln.product, str(ln.qty), str(ln.unit_price)] for ln in lines],
        ensure_ascii=False,
        separators=(",", ":"),
    )


@functools.lru_cache(maxsize=4096)
def decode_lines(text: str) -> tuple[OrderLine, ...]:
    """The inverse of :func:`encode_lines` (cached: lines are immutable values)."""
    return tuple(_line(*ln) for ln in json.loads(text))


def order_to_row(order: Order) -> tuple[Any, ...]:
    """The column values of ``order``, in :data:`COLUMNS` order."""
    lines = encode_lines(order.lines)
    return (
        order.id,
        order.number,
        order.customer_id,
        order.factory_id,
        order.stage,
        order.version,
        order.requested_date.isoformat(),
        to_micros(order.created_at),
        to_micros(order.stage_entered_at),
        order.held_from,
        order.query_token_hash,
        "",  # verification_code: 0.1.0 stored the slip code here; it is derived now
        order.delivery_address,
        order.erp_id,
        order.erp_number,
        None if order.deadline is None else to_micros(order.deadline),
        lines,
    )


_new_line = object.__new__


def _line(product: str, qty: str, price: str) -> OrderLine:
    line = _new_line(OrderLine)
    object.__setattr__(line, "product", product)
    object.__setattr__(line, "qty", Decimal(qty))
    object.__setattr__(line, "unit_price", Decimal(price))
    return line


def order_from_row(row: tuple[Any, ...] | list[Any]) -> Order:
    """Rebuild an order from :func:`order_to_row` values (:class:`UnreadableRow` when a
    value is not what orderflow writes)."""
    try:
        return _order_from_row(row)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        key = str(row[0]) if len(row) else "?"
        raise UnreadableRow("orders", key, str(exc) or type(exc).__name__) from None


def orders_from_rows(
    rows: Iterable[tuple[Any, ...]], on_unreadable: Callable[[UnreadableRow], None] | None
) -> Iterator[Order]:
    """The orders of ``rows``; an unreadable row raises, or goes to ``on_unreadable``
    (which names it) and is skipped."""
    for row in rows:
        try:
            yield order_from_row(row)
        except UnreadableRow as exc:
            if on_unreadable is None:
                raise
            on_unreadable(exc)


def _order_from_row(row: tuple[Any, ...] | list[Any]) -> Order:
    (oid, number, customer, factory, stage, version, requested, created, entered, held,
     token, _code, address, erp_id, erp_number, deadline, lines) = row  # fmt: skip
    order = object.__new__(Order)
    order.__dict__.update(
        id=oid,
        number=number,
        customer_id=customer,
        lines=decode_lines(lines),
        requested_date=dt.date.fromisoformat(requested),
        factory_id=factory,
        stage=stage,
        created_at=from_micros(created),
        stage_entered_at=from_micros(entered),
        version=version,
        held_from=held,
        query_token_hash=token,
        delivery_address=address,
        erp_id=erp_id,
        erp_number=erp_number,
        deadline=None if deadline is None else from_micros(deadline),
    )
    return order
