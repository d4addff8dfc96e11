"""Stock positions and inbound purchase orders (R3 kitting guard, R6)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import attrs

from orderflow.domain._checks import non_negative, not_blank, to_decimal

__all__ = ["InboundPO", "POStatus", "StockPosition"]


@attrs.frozen
class StockPosition:
    """Stock of one component: physically on hand and reserved for orders."""

    component: str = attrs.field(validator=not_blank)
    on_hand: Decimal = attrs.field(converter=to_decimal, validator=non_negative)
    reserved: Decimal = attrs.field(
        default=Decimal(0), converter=to_decimal, validator=non_negative
    )

    @property
    def available(self) -> Decimal:
        """On hand minus reserved: what a new order may still use."""
        return self.on_hand - self.reserved


class POStatus(enum.Enum):
    """Where an inbound purchase order stands."""

    OPEN = "open"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"

    @property
    def pending(self) -> bool:
        """True while goods are still expected (open or in transit)."""
        return self in (POStatus.OPEN, POStatus.IN_TRANSIT)


@attrs.frozen
class InboundPO:
    """A purchase order for a component that has not necessarily arrived yet."""

    number: str = attrs.field(validator=not_blank)
    component: str = attrs.field(validator=not_blank)
    qty: Decimal = attrs.field(converter=to_decimal, validator=non_negative)
    due: dt.date
    status: POStatus = POStatus.IN_TRANSIT
    supplier: str = ""

    def days_late(self, today: dt.date) -> int:
        """Whole days past the due date on ``today`` (0 when not yet due or no longer pending)."""
        if not self.status.pending:
            return 0
        return max(0, (today - self.due).days)
