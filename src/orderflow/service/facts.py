"""Gather the facts a transition's guards need from the store, and nothing more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from orderflow.domain import Component, Customer, InboundPO, Order, Product
from orderflow.ports import StoreTx
from orderflow.service import records
from orderflow.workflow import Facts

__all__ = ["GUARD_NEEDS", "LOCK_GROUPS", "StoreFacts"]

GUARD_NEEDS: dict[str, frozenset[str]] = {
    "credit_limit": frozenset({"customer"}),
    "bom_kitting": frozenset({"products", "stock", "components"}),
    "inbound_po_overdue": frozenset({"products", "inbound", "components"}),
    "capacity_slot": frozenset({"capacity"}),
}
"""What each built-in guard reads; an unknown (custom) guard gets every fact."""
_EVERYTHING = frozenset({"customer", "products", "stock", "components", "inbound", "capacity"})


LOCK_GROUPS = ("reservation", "stock", "exposure", "streak")
"""What an effect may declare it locks, in the one order every writer locks them in: the
order's reservation (only ever locked under the order's own row lock), its stock rows,
its customer's exposure, its products' on-time streaks."""


def _products(tx: StoreTx, order: Order) -> tuple[dict[str, Product], set[str]]:
    """The order's products (those that exist) and the components of their BOMs."""
    products: dict[str, Product] = {}
    components: set[str] = set()
    for line in order.lines:
        product = records.get_typed(tx, Product, line.product)
        if product is not None:
            products[product.code] = product
            components.update(b.component for b in product.bom)
    return products, components


def _locked(
    tx: StoreTx, order: Order, locks: frozenset[str], components: set[str] | None
) -> dict[str, list[str]]:
    """The documents of the lock groups ``locks``, kind by kind in :data:`LOCK_GROUPS`
    order (the order the effects read them for update in). ``components``: the order's,
    if already read (``None``: read here, and only if its stock is to be locked)."""
    out: dict[str, list[str]] = {}
    if "reservation" in locks:
        out[records.RESERVATION] = [order.id]
    if "stock" in locks and components is None:
        components = _products(tx, order)[1]
    if "stock" in locks and components:
        out[records.stock_kind(records.warehouse_of(tx, order.factory_id))] = sorted(components)
    if "exposure" in locks:
        out[records.EXPOSURE] = [order.customer_id]
    if "streak" in locks:
        out[records.STREAK] = sorted({f"{order.factory_id}/{ln.product}" for ln in order.lines})
    return out


class StoreFacts:
    """Reads :class:`~orderflow.workflow.Facts` for one order inside a transaction."""

    def needs(self, guards: Iterable[str]) -> frozenset[str]:
        """The fact groups the named guards read."""
        out: frozenset[str] = frozenset()
        for g in guards:
            out |= GUARD_NEEDS.get(g, _EVERYTHING)
        return out

    def gather(
        self,
        tx: StoreTx,
        order: Order,
        today: dt.date,
        needs: frozenset[str],
        locks: frozenset[str] = frozenset(),
    ) -> Facts:
        """Facts for ``order``: only the groups in ``needs`` are read.

        ``locks`` names what the event's effect is about to read for update (groups of
        :data:`LOCK_GROUPS`): a store with a server locks them in the same round trip,
        so the guards read what the effect will change."""
        if not needs:
            if locks:
                tx.prefetch({}, (), _locked(tx, order, locks, None))
            return Facts(today=today)
        base = records.get_typed(tx, Customer, order.customer_id) if "customer" in needs else None
        products: dict[str, Product] = {}
        components: set[str] = set()
        read_products = bool(needs & {"products", "stock", "inbound", "components"})
        if read_products:
            products, components = _products(tx, order)
        warehouse = records.warehouse_of(tx, order.factory_id) if "stock" in needs else ""
        # everything else this gather reads, in one round trip where the store has one
        wanted: dict[str, list[str]] = {}
        if base is not None:
            wanted[records.EXPOSURE] = [base.id]
        if "stock" in needs:
            wanted[records.stock_kind(warehouse)] = list(components)
        if products:
            wanted[records.STREAK] = [
                *(f"{order.factory_id}/{code}" for code in products),
                *products,
            ]
        listings = [(records.CAPACITY, order.factory_id + "/")] if "capacity" in needs else []
        held = _locked(tx, order, locks, components if read_products else None) if locks else None
        tx.prefetch(wanted, listings, held)
        customer = None
        if base is not None:
            exposure = records.read_decimal(tx, records.EXPOSURE, base.id)
            customer = (
                base
                if not exposure
                else attrs.evolve(base, open_exposure=base.open_exposure + exposure)
            )
        available: dict[str, Decimal] = {}
        if "stock" in needs:
            for c, level in records.read_stocks(tx, components, warehouse).items():
                available[c] = level.position.available
        labels: dict[str, Component] = {}
        if "components" in needs:
            for c in components:
                master = records.get_typed(tx, Component, c)
                if master is not None:
                    labels[c] = master
        inbound: dict[str, tuple[InboundPO, ...]] = {}
        if "inbound" in needs:
            for c in components:
                pos = records.inbound_pos(tx, c)
                if pos:
                    inbound[c] = pos
        capacity = None
        if "capacity" in needs:
            capacity = records.capacity_schedule(tx, order.factory_id)
        streaks = records.read_streaks(tx, order.factory_id, products) if products else {}
        return Facts(
            today=today,
            customer=customer,
            products=products,
            components=labels,
            available=available,
            inbound=inbound,
            capacity=capacity,
            on_time_streak=streaks,
        )
