"""Which warehouse a factory's stock is kept in, and moving stock between warehouses (R6).

A store starts with one shared warehouse (``""``), which is all a single plant needs and
all orderflow had before 0.3. A plant group gives each factory a warehouse of its own
with :func:`put_warehouse`: from then on that factory's orders reserve and issue its own
stock, its scans and stock-takes move only its own stock, and nothing a factory does
locks a row another factory writes. Stock moves between warehouses only by an explicit,
audited :func:`transfer`, by someone allowed to scan in both factories.
"""

from __future__ import annotations

import json
from decimal import Decimal

from orderflow.audit import EntryType
from orderflow.clock import to_micros
from orderflow.domain import StockPosition
from orderflow.exceptions import InputError
from orderflow.ports import StoreTx
from orderflow.service import inventory, records
from orderflow.service.boundary import check_text
from orderflow.service.records import StockLevel
from orderflow.service.results import Transfer
from orderflow.service.runtime import ActorLike, Runtime

__all__ = ["put_warehouse", "transfer"]


def put_warehouse(rt: Runtime, factory_id: str, *, actor: ActorLike) -> bool:
    """Give ``factory_id`` a warehouse of its own (``False`` if it already has one).

    Its stock starts empty: count it (``set_stock(..., factory_id=...)``) or transfer
    stock into it. Reservations its orders took from the shared warehouse before stay
    there and are issued from there.
    """
    check_text(factory_id, "factory_id", max_len=64, blank=False)
    who = rt.who(actor, factory_id, "administer")
    with rt.store.transaction() as tx:
        if tx.get_doc(records.WAREHOUSE, factory_id) is not None:
            return False
        at_us = to_micros(rt.now())
        tx.put_doc(records.WAREHOUSE, factory_id, json.dumps({"since": at_us, "by": who}))
    return True


def transfer(
    rt: Runtime,
    component: str,
    qty: Decimal | int | str,
    *,
    from_factory: str,
    to_factory: str,
    actor: ActorLike,
    reason: str = "transfer",
    idempotency_key: str | None = None,
) -> Transfer:
    """Move ``qty`` on-hand units of ``component`` from one factory's warehouse to
    another's, with an audit entry on both stock chains, in one transaction.

    The actor must be allowed to scan in both factories. Refused when both factories
    keep their stock in the same warehouse, or when the source would keep less than it
    has reserved for kitted orders.
    """
    amount = StockPosition(component, qty).on_hand
    if amount == 0:
        raise InputError("a transfer must move a positive quantity")
    for value, what in ((from_factory, "from_factory"), (to_factory, "to_factory")):
        check_text(value, what, max_len=64)
    check_text(reason, "reason", blank=False)
    who = rt.who(actor, from_factory, "scan")
    rt.who(actor, to_factory, "scan")

    def body(tx: StoreTx) -> Transfer:
        source = records.warehouse_of(tx, from_factory)
        target = records.warehouse_of(tx, to_factory)
        if source == target:
            raise InputError(
                f"{from_factory or 'shared'} and {to_factory or 'shared'} keep their stock "
                "in the same warehouse: nothing to transfer (give a factory its own "
                "warehouse first)"
            )
        records.require_component(tx, component)
        at_us = to_micros(rt.now())
        # both rows locked in one global order (warehouse name), as every stock lock is
        levels = {w: records.read_stock(tx, component, w, for_update=True)
                  for w in sorted((source, target))}  # fmt: skip
        out, into = levels[source], levels[target]
        left = out.position.on_hand - amount
        if left < out.position.reserved:
            raise InputError(
                f"transferring {amount} {component} would leave {left} in "
                f"{from_factory or 'the shared warehouse'}, below the "
                f"{out.position.reserved} reserved for kitted orders"
            )
        moved_out = StockLevel(
            records.position(component, left, out.position.reserved), out.last_scan_us
        )
        got = into.position.on_hand + amount
        moved_in = StockLevel(
            records.position(component, got, into.position.reserved), into.last_scan_us
        )
        alert = inventory.set_level(tx, out, moved_out, at_us=at_us, actor=who,
                                    warehouse=source)  # fmt: skip
        records.write_stock(tx, moved_in, target)
        for w, before, after, ctx in (
            (source, out, left, {"direction": "transfer_out", "to": to_factory}),
            (target, into, got, {"direction": "transfer_in", "from": from_factory}),
        ):
            chain = records.stock_chain(w, component)
            rt.append(tx, chain, EntryType.FIELD_UPDATE, actor=who, at_us=at_us,
                      changes={"on_hand": (before.position.on_hand, after)},
                      context={**ctx, "reason": reason}, key=idempotency_key)  # fmt: skip
        return Transfer(moved_out.position, moved_in.position, alert)

    args = {"component": component, "qty": str(amount), "from": from_factory,
            "to": to_factory, "reason": reason}  # fmt: skip
    return rt.once(idempotency_key, "transfer", args, body, Transfer, actor=actor)
