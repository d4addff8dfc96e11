"""Shipped quantities and actual delivery dates from outbound bills (R7).

In Kingdee K3 WISE a sales order is shipped by sales outbound bills (``ICStockBill``
with ``FTranType = 21``), audited and not cancelled, whose lines point at the order
line through ``ICStockBillEntry.FOrderInterID``/``FOrderEntryID``. A red bill
(``FROB = -1``) is a return and takes quantity back. The actual delivery date is the
date (``ICStockBill.FDate``) of the outbound bill with which a line's net shipped
quantity reached the ordered quantity; a later return that drops it below the ordered
quantity undoes that, and the next outbound bill that covers it again sets the date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

__all__ = ["LineDelivery", "ShipmentMove", "line_deliveries"]


@attrs.frozen
class ShipmentMove:
    """One outbound-bill line as it concerns one order line (quantity in the base unit).

    ``qty`` is always >= 0; ``is_return`` says whether it is taken back (a red bill).
    """

    bill: str
    day: dt.date
    order_line: str
    qty: Decimal
    is_return: bool = False

    @property
    def signed(self) -> Decimal:
        """The quantity with its effect: + shipped out, - returned."""
        return -self.qty if self.is_return else self.qty


@attrs.frozen
class LineDelivery:
    """What the bills say about one order line: net shipped and, if covered, when."""

    shipped: Decimal = Decimal(0)
    delivered_on: dt.date | None = None
    bills: tuple[str, ...] = ()


def line_deliveries(
    moves: Iterable[ShipmentMove], ordered: Mapping[str, Decimal]
) -> dict[str, LineDelivery]:
    """Net shipped quantity and delivery date per order line (pure).

    ``ordered`` is each line's quantity in the base unit; lines without moves are left
    out. Moves are taken in date order (bill key breaks ties), so the result does not
    depend on the order the database returned them in.
    """
    by_line: dict[str, list[ShipmentMove]] = {}
    for move in moves:
        by_line.setdefault(move.order_line, []).append(move)
    out: dict[str, LineDelivery] = {}
    for line_key, line_moves in by_line.items():
        line_moves.sort(key=lambda m: (m.day, _bill_key(m.bill), m.is_return))
        need = ordered.get(line_key)
        net = Decimal(0)
        delivered: dt.date | None = None
        for move in line_moves:
            before = net
            net += move.signed
            if need is None:
                continue
            if net < need:
                delivered = None
            elif before < need:  # this outbound bill is the one that covered the line
                delivered = move.day
        bills = tuple(dict.fromkeys(m.bill for m in line_moves))
        out[line_key] = LineDelivery(net, delivered, bills)
    return out


def _bill_key(bill: str) -> tuple[int, Decimal | str]:
    try:
        return (0, Decimal(bill))
    except ArithmeticError:
        return (1, bill)
