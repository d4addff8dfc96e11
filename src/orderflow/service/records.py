"""Typed documents kept by a store: master data, stock, exposure, alerts (R1, R6).

Master data is encoded with the cattrs converter and decoded through a small cache
(the same body decodes to the same immutable object); the hot, frequently rewritten
documents (stock, exposure, streaks) use a compact text form.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from orderflow.domain import Component, Customer, InboundPO, Product, StockPosition
from orderflow.exceptions import InputError
from orderflow.ports import StoreTx
from orderflow.serialization import from_json, to_json
from orderflow.workflow import CapacitySchedule, CapacitySlot

__all__ = [
    "ALERT",
    "CAPACITY",
    "COMPONENT",
    "CUSTOMER",
    "PO",
    "PRODUCT",
    "WAREHOUSE",
    "PurchasingAlert",
    "StockLevel",
    "add_exposure",
    "bump_streak",
    "bump_streaks",
    "capacity_schedule",
    "get_typed",
    "inbound_pos",
    "latest_failed_batch",
    "position",
    "put_failed_batch",
    "put_typed",
    "read_decimal",
    "read_stock",
    "read_stocks",
    "read_streak",
    "read_streaks",
    "require_component",
    "stock_chain",
    "stock_kind",
    "warehouse_of",
    "write_slot",
    "write_stock",
]

T = TypeVar("T")
_ZERO = Decimal(0)

CUSTOMER = "customer"
PRODUCT = "product"
COMPONENT = "component"
PO = "po"
CAPACITY = "capacity"
STOCK = "stock"
EXPOSURE = "exposure"
STREAK = "streak"
RESERVATION = "reservation"
ALERT = "alert"
COUNTER = "counter"

_KINDS: dict[type[Any], str] = {
    Customer: CUSTOMER,
    Product: PRODUCT,
    Component: COMPONENT,
    InboundPO: PO,
    CapacitySlot: CAPACITY,
}


@functools.lru_cache(maxsize=8192)
def _decode(cls: type[Any], body: str) -> Any:
    return from_json(body, cls)


def get_typed(tx: StoreTx, cls: type[T], key: str) -> T | None:
    """Load a master-data document of type ``cls``."""
    body = tx.get_doc(_KINDS[cls], key)
    # no typing.cast here: it is a real function call, and this runs ~25 times per order
    return None if body is None else _decode(cls, body)  # type: ignore[arg-type]


def require_component(tx: StoreTx, component: str) -> Component:
    """The registered component, or :class:`~orderflow.InputError`: stock of a code
    nobody registered would be phantom stock."""
    master = get_typed(tx, Component, component)
    if master is None:
        raise InputError(
            f"unknown component {component!r}: register it (put_component) before "
            "scanning, counting or moving it"
        )
    return master


def put_typed(tx: StoreTx, key: str, value: Any) -> None:
    """Store a master-data value under ``key``."""
    tx.put_doc(_KINDS[type(value)], key, to_json(value))


def read_decimal(tx: StoreTx, kind: str, key: str, *, for_update: bool = False) -> Decimal:
    """A number document (0 when absent)."""
    body = tx.get_doc(kind, key, for_update=for_update)
    return Decimal(body) if body else Decimal(0)


def add_exposure(tx: StoreTx, customer_id: str, delta: Decimal) -> None:
    """Book ``delta`` onto a customer's open exposure (accepted, undelivered orders)."""
    current = read_decimal(tx, EXPOSURE, customer_id, for_update=True)
    tx.put_doc(EXPOSURE, customer_id, str(current + delta))


def read_streak(tx: StoreTx, factory_id: str, product: str, *, for_update: bool = False) -> int:
    """On-time deliveries of ``product`` in a row at ``factory_id`` (R4 ladder).

    Kept per factory, so that plants delivering the same product share no row; a
    streak kept before 0.3 (one per product) is where a factory's own one starts.
    """
    return read_streaks(tx, factory_id, (product,), for_update=for_update)[product]


def read_streaks(
    tx: StoreTx, factory_id: str, products: Iterable[str], *, for_update: bool = False
) -> dict[str, int]:
    """:func:`read_streak` of several products, in two reads at most (the factory's own
    streaks, then the 0.3 ones of the products that have none yet), each locked in key
    order with ``for_update``."""
    keys = {p: f"{factory_id}/{p}" for p in products}
    found = tx.get_docs(STREAK, keys.values(), for_update=for_update)
    missing = [p for p, k in keys.items() if k not in found]
    legacy = tx.get_docs(STREAK, missing, for_update=for_update) if missing else {}
    return {p: int(found.get(k) or legacy.get(p) or 0) for p, k in keys.items()}


def bump_streak(tx: StoreTx, factory_id: str, product: str, *, on_time: bool) -> None:
    """One more on-time delivery of ``product`` at ``factory_id``, or back to zero."""
    bump_streaks(tx, factory_id, (product,), on_time=on_time)


def bump_streaks(tx: StoreTx, factory_id: str, products: Iterable[str], *, on_time: bool) -> None:
    """:func:`bump_streak` for each of ``products``, their rows locked in one read."""
    streaks = read_streaks(tx, factory_id, products, for_update=True)
    for product in sorted(streaks):
        tx.put_doc(STREAK, f"{factory_id}/{product}", str(streaks[product] + 1 if on_time else 0))


FAILED_BATCH = "qc_failed"


def put_failed_batch(tx: StoreTx, product: str, batch: str, at_us: int) -> None:
    """Remember ``batch`` as the product's latest batch that failed QC."""
    tx.put_doc(FAILED_BATCH, product, f"{at_us}|{batch}")


def latest_failed_batch(tx: StoreTx, products: Iterable[str]) -> str | None:
    """The most recent failed QC batch of any of ``products`` (R11), if any."""
    found = [body for p in products if (body := tx.get_doc(FAILED_BATCH, p)) is not None]
    if not found:
        return None
    return max(found, key=lambda body: int(body.split("|", 1)[0])).split("|", 1)[1] or None


def inbound_pos(tx: StoreTx, component: str) -> tuple[InboundPO, ...]:
    """The inbound purchase orders of a component."""
    return tuple(_decode(InboundPO, body) for _, body in tx.docs(PO, component + "/"))


def capacity_schedule(tx: StoreTx, factory_id: str) -> CapacitySchedule:
    """A factory's free production slots."""
    bodies = tuple([body for _, body in tx.docs(CAPACITY, factory_id + "/")])
    schedule = _schedule(bodies, factory_id)
    _LAST_SCHEDULE[factory_id] = (bodies, schedule)
    return schedule


# the schedule each factory was last given: a dispatch changes one slot's free units, so
# the next schedule is that one with one slot replaced (its first-fit index kept)
_LAST_SCHEDULE: dict[str, tuple[tuple[str, ...], CapacitySchedule]] = {}


@functools.lru_cache(maxsize=64)
def _schedule(bodies: tuple[str, ...], factory_id: str = "") -> CapacitySchedule:
    # the same schedule object while no slot changes, so its first-fit index is reused
    last = _LAST_SCHEDULE.get(factory_id)
    if last is not None and len(last[0]) == len(bodies):
        changed = [i for i, (a, b) in enumerate(zip(last[0], bodies, strict=True)) if a != b]
        if len(changed) == 1:
            with contextlib.suppress(InputError):  # a slot moved, not just filled: rebuild
                return last[1].with_free_units(changed[0], _slot(bodies[changed[0]]))
    return CapacitySchedule(tuple(_slot(body) for body in bodies))


def write_slot(
    tx: StoreTx, factory_id: str, slot: CapacitySlot, free_units: Decimal | None = None
) -> None:
    """Store one free production slot (compact text: it changes with every dispatch),
    with ``free_units`` instead of the slot's own when given."""
    start = slot.start.isoformat()
    free = slot.free_units if free_units is None else free_units
    tx.put_doc(
        CAPACITY,
        f"{factory_id}/{slot.line}/{start}",
        f"{slot.line}|{start}|{slot.end.isoformat()}|{free}",
    )


@functools.lru_cache(maxsize=4096)
def _slot(body: str) -> CapacitySlot:
    line, start, end, free = body.split("|")
    slot = object.__new__(CapacitySlot)
    for name, value in (
        ("line", line),
        ("start", dt.date.fromisoformat(start)),
        ("end", dt.date.fromisoformat(end)),
        ("free_units", Decimal(free)),
    ):
        object.__setattr__(slot, name, value)
    return slot


@attrs.frozen
class StockLevel:
    """Scan-based stock of one component (R6) and when it was last scanned."""

    position: StockPosition
    last_scan_us: int = 0


def stock_kind(warehouse: str) -> str:
    """The document kind of a warehouse's stock: ``stock`` for the shared warehouse
    (``""``, the only one before 0.3), ``stock:<factory>`` for a factory's own."""
    return f"{STOCK}:{warehouse}" if warehouse else STOCK


WAREHOUSE = "warehouse"
"""Document kind: one document per factory that keeps a warehouse of its own."""


def warehouse_of(tx: StoreTx, factory_id: str) -> str:
    """The warehouse ``factory_id``'s stock is kept in: its own once registered with
    :func:`put_warehouse`, else the shared one (``""``)."""
    if factory_id and tx.get_doc(WAREHOUSE, factory_id) is not None:
        return factory_id
    return ""


def stock_chain(warehouse: str, component: str) -> str:
    """The audit chain of a component's stock in ``warehouse`` (``stock/<component>``
    for the shared warehouse, as before 0.3; ``stock:<factory>/<component>`` else)."""
    return f"stock:{warehouse}/{component}" if warehouse else f"stock/{component}"


def read_stock(
    tx: StoreTx, component: str, warehouse: str = "", *, for_update: bool = False
) -> StockLevel:
    """The component's stock in ``warehouse`` (zero if never seen)."""
    body = tx.get_doc(stock_kind(warehouse), component, for_update=for_update)
    if body is None:
        return StockLevel(position(component, _ZERO, _ZERO))
    return _stock(component, body)


def read_stocks(
    tx: StoreTx, components: Iterable[str], warehouse: str = "", *, for_update: bool = False
) -> dict[str, StockLevel]:
    """:func:`read_stock` of several components with one read (with ``for_update``, their
    rows locked in component order, whatever order the caller lists them in)."""
    wanted = sorted(set(components))
    bodies = tx.get_docs(stock_kind(warehouse), wanted, for_update=for_update)
    return {
        c: StockLevel(position(c, _ZERO, _ZERO)) if (body := bodies.get(c)) is None
        else _stock(c, body)
        for c in wanted
    }  # fmt: skip


# Parsed stock bodies: one order's facts, reservation and issue read the same body
# several times, and the next order reads the body the last one wrote, so a write
# remembers what its body says (Decimal's text form reads back to the same value and
# exponent). Bounded by clearing it: a year touches a few hundred components.
_STOCKS: dict[tuple[str, str], StockLevel] = {}
_STOCKS_MAX = 4096


def _stock(component: str, body: str) -> StockLevel:
    level = _STOCKS.get((component, body))
    if level is None:
        on_hand, reserved, last = body.split("|")
        level = StockLevel(position(component, Decimal(on_hand), Decimal(reserved)), int(last))
        _remember_stock(component, body, level)
    return level


def _remember_stock(component: str, body: str, level: StockLevel) -> None:
    if len(_STOCKS) >= _STOCKS_MAX:
        _STOCKS.clear()
    _STOCKS[(component, body)] = level


def position(component: str, on_hand: Decimal, reserved: Decimal) -> StockPosition:
    """A stock position from trusted numbers, without re-validation (hot path)."""
    p = object.__new__(StockPosition)
    object.__setattr__(p, "component", component)
    object.__setattr__(p, "on_hand", on_hand)
    object.__setattr__(p, "reserved", reserved)
    return p


def write_stock(tx: StoreTx, level: StockLevel, warehouse: str = "") -> None:
    """Store a component's stock in ``warehouse``."""
    p = level.position
    body = f"{p.on_hand}|{p.reserved}|{level.last_scan_us}"
    tx.put_doc(stock_kind(warehouse), p.component, body)
    if type(p.on_hand) is Decimal and type(p.reserved) is Decimal:  # what a read gives
        _remember_stock(p.component, body, level)


@attrs.frozen
class PurchasingAlert:
    """Available stock of a component fell under its safety threshold (R6)."""

    component: str
    available: Decimal
    safety_stock: Decimal
    at_us: int
    actor: str
    device: str = ""
    batch: str = ""
    warehouse: str = ""
    """The factory whose own warehouse ran short; ``""`` for the shared warehouse."""
