"""Stock use cases: warehouse scans, stock-takes, reads and purchasing alerts (R6).

A scan updates available stock at once, writes a ``field_update`` entry on the
component's ``stock/<component>`` audit chain, and raises a purchasing alert when
available stock falls under the component's safety threshold, all in one transaction.
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
    who = rt.who(actor, factory_id, "scan")

    def body(tx: StoreTx) -> ScanResult:
        now_us = to_micros(rt.now())
        before = records.read_stock(tx, component, for_update=True)
        p = before.position
        on_hand = p.on_hand + amount if direction == "in" else p.on_hand - amount
        if on_hand < 0:
            raise InputError(
                f"goods-out of {amount} {component} would leave {on_hand} on hand; "
                "scan the goods-in first or do a stock-take"
            )
        after = StockLevel(StockPosition(component, on_hand, p.reserved), now_us)
        alert = inventory.set_level(
            tx, before, after, at_us=now_us, actor=who, device=device, batch=batch
        )
        rt.append(tx, f"stock/{component}", EntryType.FIELD_UPDATE, actor=who, at_us=now_us,
                  changes={"on_hand": (p.on_hand, on_hand)},
                  context={"direction": direction, "device": device, "batch": batch},
                  key=idempotency_key)  # fmt: skip
        return ScanResult(after.position, alert)

    args = {"component": component, "qty": str(amount), "direction": direction,
            "device": device, "batch": batch}  # fmt: skip
    return rt.once(idempotency_key, "scan", args, body, ScanResult)


def set_stock(rt: Runtime, component: str, on_hand: Decimal | int | str) -> StockPosition:
    """Set a component's on-hand stock (initial load or stock-take), keeping reservations."""
    with rt.store.transaction() as tx:
        level = records.read_stock(tx, component, for_update=True)
        new = StockPosition(component, on_hand, level.position.reserved)
        records.write_stock(tx, StockLevel(new, level.last_scan_us))
        return new


def stock(rt: Runtime, component: str) -> StockPosition:
    """A component's current stock."""
    with rt.store.transaction() as tx:
        return records.read_stock(tx, component).position


def alerts(rt: Runtime) -> list[PurchasingAlert]:
    """Every purchasing alert, oldest first (R6)."""
    with rt.store.transaction() as tx:
        return [from_json(body, PurchasingAlert) for _, body in tx.docs(records.ALERT)]
