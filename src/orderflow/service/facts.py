"""Gather the facts a transition's guards need from the store, and nothing more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from orderflow.domain import Component, Customer, InboundPO, Order, OrderLine, Product
from orderflow.ports import StoreTx
from orderflow.service import records
from orderflow.workflow import Facts

__all__ = ["GUARD_NEEDS", "LOCK_GROUPS", "FactsPlan", "StoreFacts"]

GUARD_NEEDS: dict[str, frozenset[str]] = {
    "credit_limit": frozenset({"customer"}),
    "bom_kitting": frozenset({"products", "stock", "components"}),
    "inbound_po_overdue": frozenset({"products", "inbound", "components"}),
    "capacity_slot": frozenset({"capacity"}),
}
"""What each built-in guard reads; an unknown (custom) guard gets every fact."""
_EVERYTHING = frozenset({"customer", "products", "stock", "components", "inbound", "capacity"})
_PRODUCT_NEEDS = frozenset({"products", "stock", "inbound", "components"})


LOCK_GROUPS = ("reservation", "stock", "exposure", "streak")
"""What an effect may declare it locks, in the one order every writer locks them in: the
order's reservation (only ever locked under the order's own row lock), its stock rows,
its customer's exposure, its products' on-time streaks."""


def _products(tx: StoreTx, lines: Iterable[OrderLine]) -> tuple[dict[str, Product], set[str]]:
    """The products of ``lines`` (those that exist) and the components of their BOMs."""
    products: dict[str, Product] = {}
    components: set[str] = set()
    for line in lines:
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
        components = _products(tx, order.lines)[1]
    if "stock" in locks and components:
        out[records.stock_kind(records.warehouse_of(tx, order.factory_id))] = sorted(components)
    if "exposure" in locks:
        out[records.EXPOSURE] = [order.customer_id]
    if "streak" in locks:
        out[records.STREAK] = sorted({f"{order.factory_id}/{ln.product}" for ln in order.lines})
    return out


@attrs.define(slots=True)
class FactsPlan:
    """What a gather reads for one order: the master data already read (customer,
    products, their components, the factory's warehouse) and the documents and listings
    still to read, which :meth:`StoreFacts.plan`'s caller may prefetch with locks of its
    own (a submission's order-number counter) before the order exists."""

    base: Customer | None
    products: dict[str, Product]
    components: set[str]
    warehouse: str
    wanted: dict[str, list[str]]
    listings: list[tuple[str, str]]


class StoreFacts:
    """Reads :class:`~orderflow.workflow.Facts` for one order inside a transaction."""

    def needs(self, guards: Iterable[str]) -> frozenset[str]:
        """The fact groups the named guards read."""
        out: frozenset[str] = frozenset()
        for g in guards:
            out |= GUARD_NEEDS.get(g, _EVERYTHING)
        return out

    def plan(
        self,
        tx: StoreTx,
        customer_id: str,
        factory_id: str,
        lines: Iterable[OrderLine],
        needs: frozenset[str],
    ) -> FactsPlan:
        """Read the master data a gather of ``needs`` starts from, for an order of
        ``customer_id`` in ``factory_id`` with ``lines`` (it need not exist yet), and
        name the documents and listings it reads next."""
        base = records.get_typed(tx, Customer, customer_id) if "customer" in needs else None
        products: dict[str, Product] = {}
        components: set[str] = set()
        if needs & _PRODUCT_NEEDS:
            products, components = _products(tx, lines)
        warehouse = records.warehouse_of(tx, factory_id) if "stock" in needs else ""
        # everything else the gather reads, in one round trip where the store has one
        wanted: dict[str, list[str]] = {}
        if base is not None:
            wanted[records.EXPOSURE] = [base.id]
        if "stock" in needs:
            wanted[records.stock_kind(warehouse)] = list(components)
        if products:
            wanted[records.STREAK] = [*(f"{factory_id}/{code}" for code in products), *products]
        listings = [(records.CAPACITY, factory_id + "/")] if "capacity" in needs else []
        return FactsPlan(base, products, components, warehouse, wanted, listings)

    def gather(
        self,
        tx: StoreTx,
        order: Order,
        today: dt.date,
        needs: frozenset[str],
        locks: frozenset[str] = frozenset(),
        *,
        plan: FactsPlan | None = None,
    ) -> Facts:
        """Facts for ``order``: only the groups in ``needs`` are read.

        ``locks`` names what the event's effect is about to read for update (groups of
        :data:`LOCK_GROUPS`): a store with a server locks them in the same round trip,
        so the guards read what the effect will change. ``plan``: :meth:`plan`'s answer
        for this order's customer, factory and lines, whose reads the caller has already
        sent (with ``tx.prefetch``)."""
        if not needs:
            if locks:
                tx.prefetch({}, (), _locked(tx, order, locks, None))
            return Facts(today=today)
        wanted: Mapping[str, list[str]] = {}
        listings: list[tuple[str, str]] = []
        if plan is None:
            plan = self.plan(tx, order.customer_id, order.factory_id, order.lines, needs)
            wanted, listings = plan.wanted, plan.listings
        held = None
        if locks:
            known = plan.components if needs & _PRODUCT_NEEDS else None
            held = _locked(tx, order, locks, known)
        tx.prefetch(wanted, listings, held)
        base, products, components = plan.base, plan.products, plan.components
        warehouse = plan.warehouse
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
