"""Small builders for readable unit tests (the seal-ring example of issue 2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from orderflow.domain import (
    BomLine,
    Component,
    Customer,
    InboundPO,
    Order,
    OrderLine,
    Product,
    ProductKind,
    new_order,
)
from orderflow.workflow import CapacitySchedule, CapacitySlot, Facts

AT = pendulum.datetime(2026, 1, 22, 2, tz="UTC")
TODAY = dt.date(2026, 1, 22)


def valve(kind: ProductKind = ProductKind.REGULAR) -> Product:
    """A valve needing one seal ring Q23-7 per unit."""
    return Product("HV-100", "hydraulic valve", kind, (BomLine("Q23-7", 1),))


def make_order(qty: int = 100, price: str = "10", product: str = "HV-100") -> Order:
    order, _ = new_order(
        number="HY20260122-887",
        customer_id="C001",
        lines=[OrderLine(product, qty, price)],
        requested_date=dt.date(2026, 3, 1),
        factory_id="NB1",
        initial_stage="pending_review",
        created_at=AT,
    )
    return order


def make_facts(
    seal_rings: int | str = 105, kind: ProductKind = ProductKind.REGULAR, **changes: Any
) -> Facts:
    facts = Facts(
        today=TODAY,
        customer=Customer("C001", "Ningbo Valves", "A", Decimal(100_000), Decimal(0)),
        products={"HV-100": valve(kind)},
        components={"Q23-7": Component("Q23-7", "seal ring")},
        available={"Q23-7": Decimal(seal_rings)},
        capacity=CapacitySchedule(
            (CapacitySlot("L1", dt.date(2026, 1, 23), dt.date(2026, 2, 20), Decimal(1000)),)
        ),
    )
    return attrs.evolve(facts, **changes) if changes else facts


def late_po(days: int) -> InboundPO:
    return InboundPO("PO-1", "Q23-7", Decimal(50), TODAY - dt.timedelta(days=days))
