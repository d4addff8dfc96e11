"""Stock effects of the workflow and of warehouse scans (R6), inside one transaction.

Kitting reserves the order's base need, dispatch issues it, cancellation releases it.
When available stock of a component falls under its safety threshold, a purchasing
alert is written in the same transaction.

Stock rows are always locked in component order (sorted codes), whatever order a BOM
lists them in: two orders whose BOMs list shared components in opposite orders then
wait for each other instead of deadlocking. A reservation remembers the warehouse it
was taken from, so issue and release use that one even if the factory's warehouse
changed since.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from orderflow.domain import Component, Order
from orderflow.exceptions import InputError
from orderflow.ports import StoreTx
from orderflow.serialization import to_json
from orderflow.service import outbox, records
from orderflow.service.records import PurchasingAlert, StockLevel

__all__ = ["issue", "release", "reserve", "set_level"]


def set_level(
    tx: StoreTx,
    before: StockLevel,
    after: StockLevel,
    *,
    at_us: int,
    actor: str,
    device: str = "",
    batch: str = "",
    warehouse: str = "",
) -> PurchasingAlert | None:
    """Store a component's new stock; return the purchasing alert it raised, if any.

    An alert is raised when available stock falls from at or above the component's safety
    threshold to below it, and is stored in the same transaction.
    """
    records.write_stock(tx, after, warehouse)
    master = records.get_typed(tx, Component, after.position.component)
    threshold = master.safety_stock if master is not None else Decimal(0)
    was, now = before.position.available, after.position.available
    if threshold <= 0 or not (was >= threshold > now):
        return None
    alert = PurchasingAlert(
        after.position.component, now, threshold, at_us, actor, device, batch, warehouse
    )
    key = f"{at_us:020d}/{alert.component}" + (f"@{warehouse}" if warehouse else "")
    tx.put_doc(records.ALERT, key, to_json(alert))
    outbox.write_alert(tx, key)  # purchasing hears of it (R6)
    return alert


def reserve(
    tx: StoreTx,
    order: Order,
    needs: Mapping[str, Decimal],
    *,
    at_us: int,
    actor: str,
    warehouse: str = "",
) -> list[PurchasingAlert]:
    """Reserve ``needs`` (component -> base quantity) for ``order`` in ``warehouse``."""
    alerts = []
    levels = records.read_stocks(tx, needs, warehouse, for_update=True)
    for component, before in levels.items():
        qty = needs[component]
        p = before.position
        after = StockLevel(
            records.position(component, p.on_hand, p.reserved + qty), before.last_scan_us
        )
        alert = set_level(tx, before, after, at_us=at_us, actor=actor, warehouse=warehouse)
        if alert is not None:
            alerts.append(alert)
    held = {c: str(q) for c, q in needs.items()}
    # the shared warehouse's reservations keep the 0.2 form (a plain map)
    body = {"warehouse": warehouse, "needs": held} if warehouse else held
    tx.put_doc(records.RESERVATION, order.id, json.dumps(body))
    return alerts


def _reservation(tx: StoreTx, order: Order) -> tuple[str, list[tuple[str, Decimal]]]:
    """The warehouse an order's reservation was taken from, and its needs in lock order."""
    body = tx.get_doc(records.RESERVATION, order.id, for_update=True)
    if body is None:
        return "", []
    data = json.loads(body)
    warehouse = ""
    if isinstance(data.get("needs"), dict):  # a 0.2 map's values are all text
        warehouse, data = str(data["warehouse"]), data["needs"]
    return warehouse, sorted((c, Decimal(q)) for c, q in data.items())


def issue(tx: StoreTx, order: Order) -> None:
    """Hand the reserved components to production: on hand and reserved both drop."""
    warehouse, held = _reservation(tx, order)
    levels = records.read_stocks(tx, (c for c, _ in held), warehouse, for_update=True)
    for component, qty in held:
        level = levels[component]
        p = level.position
        if p.on_hand < qty or p.reserved < qty:
            # never clamp: stock that is not there cannot be issued
            raise InputError(
                f"order {order.number}: {qty} {component} reserved, but only {p.on_hand} on "
                "hand; scan the goods-in or do a stock-take before dispatching"
            )
        records.write_stock(
            tx,
            StockLevel(
                records.position(component, p.on_hand - qty, p.reserved - qty),
                level.last_scan_us,
            ),
            warehouse,
        )
    tx.delete_doc(records.RESERVATION, order.id)


def release(tx: StoreTx, order: Order) -> bool:
    """Give an order's reserved components back; ``False`` if nothing was reserved."""
    warehouse, held = _reservation(tx, order)
    levels = records.read_stocks(tx, (c for c, _ in held), warehouse, for_update=True)
    for component, qty in held:
        level = levels[component]
        p = level.position
        records.write_stock(
            tx,
            StockLevel(
                records.position(component, p.on_hand, max(p.reserved - qty, Decimal(0))),
                level.last_scan_us,
            ),
            warehouse,
        )
    tx.delete_doc(records.RESERVATION, order.id)
    return bool(held)
