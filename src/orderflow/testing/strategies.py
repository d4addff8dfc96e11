"""Hypothesis strategies for orderflow's value types, for property-testing your own rules.

Installed orderflow registers them with Hypothesis (entry point), so
``st.from_type(Order)`` works out of the box. Build consistent scenarios with
:func:`orders` and :func:`facts_for`::

    from hypothesis import given
    from orderflow.testing import strategies as ofs

    @given(ofs.scenarios())
    def test_my_guard(scenario):
        order, facts = scenario
        ...
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from orderflow._extras import require

require("hypothesis", "testing")
from hypothesis import strategies as st

from orderflow.domain import (
    BomLine,
    Component,
    Customer,
    InboundPO,
    Order,
    OrderLine,
    OrderNumber,
    POStatus,
    Product,
    ProductKind,
    StockPosition,
)
from orderflow.domain.order import query_token_hash
from orderflow.policy import Policy, SafetyFactors
from orderflow.workflow import CapacitySchedule, CapacitySlot, Facts

__all__ = [
    "bom_lines",
    "codes",
    "components",
    "customers",
    "facts_for",
    "inbound_pos",
    "instants",
    "money",
    "order_lines",
    "order_numbers",
    "orders",
    "policies",
    "products",
    "quantities",
    "scenarios",
    "stock_positions",
]

MAINLINE = ("pending_review", "kitting_locked", "production_dispatched", "qc_released", "delivered")


def money(max_value: int = 10**7) -> st.SearchStrategy[Decimal]:
    """Non-negative amounts with two decimal places."""
    return st.decimals(
        min_value=0, max_value=max_value, places=2, allow_nan=False, allow_infinity=False
    )


def quantities(
    min_value: int = 1, max_value: int = 10_000, places: int = 0
) -> st.SearchStrategy[Decimal]:
    """Positive quantities (whole units by default)."""
    return st.decimals(
        min_value=min_value,
        max_value=max_value,
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def codes(prefix: str = "") -> st.SearchStrategy[str]:
    """Scannable codes like ``Q23-7`` (letters, digits, dashes)."""
    return st.from_regex(r"[A-Z]{1,3}[0-9]{1,3}(-[0-9]{1,2})?", fullmatch=True).map(
        lambda c: prefix + c
    )


def instants(
    min_value: dt.datetime = dt.datetime(2020, 1, 1),
    max_value: dt.datetime = dt.datetime(2035, 1, 1),
) -> st.SearchStrategy[dt.datetime]:
    """Timezone-aware UTC datetimes."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=st.just(dt.UTC))


def customers() -> st.SearchStrategy[Customer]:
    """Customers with a credit limit and exposure."""
    return st.builds(
        Customer,
        id=codes("C"),
        name=st.text(max_size=20),
        credit_grade=st.sampled_from("ABCD"),
        credit_limit=money(),
        open_exposure=money(),
    )


def components() -> st.SearchStrategy[Component]:
    """Components with suppliers, safety stock and lead time."""
    return st.builds(
        Component,
        code=codes(),
        name=st.text(max_size=12),
        imported=st.booleans(),
        suppliers=st.lists(codes("S"), max_size=3, unique=True).map(tuple),
        safety_stock=quantities(0, 1000),
        lead_time_days=st.integers(0, 120),
    )


def bom_lines(component: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[BomLine]:
    """BOM lines (quantity per finished unit, up to 3 decimals)."""
    return st.builds(
        BomLine,
        component=codes() if component is None else component,
        qty_per_unit=quantities(1, 20, 0),
    )


def products(component_codes: list[str] | None = None) -> st.SearchStrategy[Product]:
    """Products with a BOM of distinct components (drawn from ``component_codes`` if given)."""
    pool = st.sampled_from(component_codes) if component_codes else codes()
    bom = st.lists(bom_lines(pool), min_size=1, max_size=4, unique_by=lambda b: b.component)
    return st.builds(
        Product,
        code=codes("P"),
        name=st.text(max_size=12),
        kind=st.sampled_from(ProductKind),
        bom=bom.map(tuple),
    )


def order_lines(product_codes: list[str] | None = None) -> st.SearchStrategy[OrderLine]:
    """Order lines for the given products (or arbitrary product codes)."""
    pool = st.sampled_from(product_codes) if product_codes else codes("P")
    return st.builds(OrderLine, product=pool, qty=quantities(1, 500), unit_price=money(10_000))


def order_numbers() -> st.SearchStrategy[OrderNumber]:
    """Order numbers like ``HY20260122-887``."""
    return st.builds(
        OrderNumber,
        prefix=st.sampled_from(["HY", "NB", "SZ"]),
        date=st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)),
        seq=st.integers(0, 99_999),
    )


def stock_positions() -> st.SearchStrategy[StockPosition]:
    """Stock positions with reserved <= on hand."""
    return st.builds(
        lambda c, on, frac: StockPosition(c, on, (on * frac).quantize(Decimal(1))),
        codes(),
        quantities(0, 10_000),
        st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1)]),
    )


def inbound_pos(component_codes: list[str] | None = None) -> st.SearchStrategy[InboundPO]:
    """Inbound purchase orders, some overdue."""
    pool = st.sampled_from(component_codes) if component_codes else codes()
    return st.builds(
        InboundPO,
        number=codes("PO"),
        component=pool,
        qty=quantities(1, 1000),
        due=st.dates(dt.date(2025, 1, 1), dt.date(2027, 1, 1)),
        status=st.sampled_from(POStatus),
        supplier=codes("S"),
    )


@st.composite
def orders(
    draw: st.DrawFn, product_codes: list[str] | None = None, stage: str | None = None
) -> Order:
    """Orders in the given (or any mainline) stage."""
    created = draw(instants())
    return Order(
        id=draw(st.uuids()).hex,
        number=str(draw(order_numbers())),
        customer_id=draw(codes("C")),
        lines=tuple(draw(st.lists(order_lines(product_codes), min_size=1, max_size=4))),
        requested_date=draw(st.dates(dt.date(2020, 1, 1), dt.date(2036, 1, 1))),
        factory_id=draw(st.sampled_from(["NB1", "NB2", "SZ1"])),
        stage=stage or draw(st.sampled_from(MAINLINE)),
        created_at=created,
        stage_entered_at=created,
        version=draw(st.integers(0, 50)),
        query_token_hash=query_token_hash(draw(st.text(min_size=1, max_size=8))),
        delivery_address=draw(st.text(max_size=30)),
    )


def policies() -> st.SearchStrategy[Policy]:
    """Policies with varied safety factors and PO lateness limits."""
    factor = st.decimals(min_value=1, max_value=2, places=2)
    ladder = st.lists(factor, min_size=1, max_size=4).map(
        lambda xs: tuple(sorted(xs, reverse=True))
    )
    safety = st.builds(
        SafetyFactors,
        regular=factor,
        custom=factor,
        new_ladder=ladder,
        step_after=st.integers(1, 5),
    )
    return st.builds(
        Policy, version=st.integers(1, 1000), safety=safety, po_overdue_days=st.integers(0, 30)
    )


@st.composite
def facts_for(draw: st.DrawFn, order: Order, products_by_code: dict[str, Product]) -> Facts:
    """Facts consistent with ``order``: its customer, its products, stock near the need."""
    components = sorted({b.component for p in products_by_code.values() for b in p.bom})
    today = draw(st.dates(dt.date(2025, 6, 1), dt.date(2026, 12, 31)))
    available = {c: draw(quantities(0, 20_000)) for c in components}
    inbound = {c: tuple(draw(st.lists(inbound_pos([c]), max_size=2))) for c in components}
    slots = draw(
        st.lists(
            st.builds(
                CapacitySlot,
                line=st.sampled_from(["L1", "L2"]),
                start=st.just(today),
                end=st.dates(today, today + dt.timedelta(days=90)),
                free_units=quantities(0, 5000),
            ),
            max_size=3,
        )
    )
    customer = Customer(
        id=order.customer_id,
        name="customer",
        credit_limit=draw(money()),
        open_exposure=draw(money()),
    )
    return Facts(
        today=today,
        customer=customer,
        products=products_by_code,
        available=available,
        inbound=inbound,
        capacity=CapacitySchedule(tuple(slots)),
    )


@st.composite
def scenarios(draw: st.DrawFn, stage: str = "pending_review") -> tuple[Order, Facts]:
    """A consistent ``(order, facts)`` pair: products with BOMs, stock, POs, capacity."""
    comp_codes = draw(st.lists(codes(), min_size=1, max_size=5, unique=True))
    prods = draw(st.lists(products(comp_codes), min_size=1, max_size=3, unique_by=lambda p: p.code))
    by_code = {p.code: p for p in prods}
    order = draw(orders(list(by_code), stage=stage))
    return order, draw(facts_for(order, by_code))
