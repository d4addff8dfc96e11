"""Stock use cases: warehouse scans, stock-takes, reads and purchasing alerts (R6).

A scan updates available stock at once, writes a ``field_update`` entry on the
component's stock audit chain, and raises a purchasing alert when available stock falls
under the component's safety threshold, all in one transaction. Each call names the
factory it happens in (``factory_id``); its stock is that factory's own warehouse once
it has one (:mod:`~orderflow.service.warehouses`), else the shared warehouse, and an
:class:`~orderflow.geo.Actor` is checked against that factory, never another.
"""

from __future__ import annotations

from decimal import Decimal

from orderflow.audit import EntryType
from orderflow.clock import to_micros
from orderflow.domain import StockPosition
from orderflow.exceptions import InputError
from orderflow.geo.access import Actor
from orderflow.ports import StoreTx
from orderflow.serialization import from_json
from orderflow.service import inventory, records
from orderflow.service.boundary import check_text
from orderflow.service.records import PurchasingAlert, StockLevel
from orderflow.service.results import ScanResult
from orderflow.service.runtime import ActorLike, Runtime

__all__ = ["alerts", "record_scan", "set_stock", "stock"]


def record_scan(
    rt: Runtime,
    component: str,
    qty: Decimal | int | str,
    *,
    direction: str,
    actor: ActorLike,
    factory_id: str = "",
    device: str = "",
    batch: str = "",
    idempotency_key: str | None = None,
) -> ScanResult:
    """A warehouse scan: goods ``"in"`` add to stock, goods ``"out"`` take from it."""
    if direction not in ("in", "out"):
        raise InputError(f"scan direction must be 'in' or 'out', not {direction!r}")
    amount = StockPosition(component, qty).on_hand
    if amount == 0:
        raise InputError("a scan must move a positive quantity")
    if isinstance(actor, Actor) and not factory_id:
        raise InputError("a scan by an Actor needs factory_id= (the factory it happens in)")
    for value, what in ((device, "device"), (batch, "batch"), (factory_id, "factory_id")):
        check_text(value, what, max_len=64)
    who = rt.who(actor, factory_id, "scan")

    def body(tx: StoreTx) -> ScanResult:
        records.require_component(tx, component)
        warehouse = records.warehouse_of(tx, factory_id)
        now_us = to_micros(rt.now())
        before = records.read_stock(tx, component, warehouse, for_update=True)
        p = before.position
        on_hand = p.on_hand + amount if direction == "in" else p.on_hand - amount
        if on_hand < p.reserved:
            # reserved stock belongs to kitted orders: taking it would make a later
            # dispatch find less than it reserved
            raise InputError(
                f"goods-out of {amount} {component} would leave {on_hand} on hand, below the "
                f"{p.reserved} reserved for kitted orders; scan the goods-in first or do a "
                "stock-take"
            )
        after = StockLevel(StockPosition(component, on_hand, p.reserved), now_us)
        alert = inventory.set_level(tx, before, after, at_us=now_us, actor=who, device=device,
                                    batch=batch, warehouse=warehouse)  # fmt: skip
        chain = records.stock_chain(warehouse, component)
        rt.append(tx, chain, EntryType.FIELD_UPDATE, actor=who, at_us=now_us,
                  changes={"on_hand": (p.on_hand, on_hand)},
                  context={"direction": direction, "device": device, "batch": batch},
                  key=idempotency_key)  # fmt: skip
        return ScanResult(after.position, alert)

    args = {"component": component, "qty": str(amount), "direction": direction,
            "device": device, "batch": batch}  # fmt: skip
    if factory_id:  # scans without one keep the fingerprint they had
        args["factory"] = factory_id
    return rt.once(idempotency_key, "scan", args, body, ScanResult, actor=actor)


def set_stock(
    rt: Runtime,
    component: str,
    on_hand: Decimal | int | str,
    *,
    actor: ActorLike = "orderflow",
    reason: str = "stock-take",
    factory_id: str = "",
) -> StockPosition:
    """A stock-take: set a component's on-hand stock, keeping its reservations (R6).

    ``factory_id`` names the factory whose warehouse was counted (the shared warehouse
    when it has none of its own). Writes a ``field_update`` entry on the component's
    stock chain (old -> new, actor, reason). A count below what is reserved for kitted
    orders is refused: cancel or re-plan those orders first, so that no dispatch later
    finds less than it reserved.
    """
    check_text(reason, "reason", blank=False)
    check_text(factory_id, "factory_id", max_len=64)
    who = rt.who(actor, factory_id, "administer" if isinstance(actor, Actor) else "")
    with rt.store.transaction() as tx:
        records.require_component(tx, component)
        warehouse = records.warehouse_of(tx, factory_id)
        level = records.read_stock(tx, component, warehouse, for_update=True)
        new = StockPosition(component, on_hand, level.position.reserved)
        if new.on_hand < new.reserved:
            raise InputError(
                f"a count of {new.on_hand} {component} is below the {new.reserved} reserved "
                "for kitted orders; cancel or re-plan those orders first"
            )
        now_us = to_micros(rt.now())
        records.write_stock(tx, StockLevel(new, level.last_scan_us), warehouse)
        if new.on_hand != level.position.on_hand:
            chain = records.stock_chain(warehouse, component)
            rt.append(tx, chain, EntryType.FIELD_UPDATE, actor=who,
                      at_us=now_us, changes={"on_hand": (level.position.on_hand, new.on_hand)},
                      context={"direction": "count", "reason": reason})  # fmt: skip
    rt.committed()
    return new


def stock(rt: Runtime, component: str, factory_id: str = "") -> StockPosition:
    """A component's current stock in ``factory_id``'s warehouse (the shared one when
    it has none of its own)."""
    check_text(factory_id, "factory_id", max_len=64)
    with rt.store.transaction() as tx:
        return records.read_stock(tx, component, records.warehouse_of(tx, factory_id)).position


def alerts(rt: Runtime) -> list[PurchasingAlert]:
    """Every purchasing alert, oldest first (R6)."""
    with rt.store.transaction() as tx:
        return [from_json(body, PurchasingAlert) for _, body in tx.docs(records.ALERT)]
