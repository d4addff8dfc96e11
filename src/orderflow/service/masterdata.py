"""Master data use cases: customers, products with BOMs, components, POs, capacity (R1)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from orderflow.domain import Component, Customer, InboundPO, Product
from orderflow.exceptions import NotFound
from orderflow.risk.carriers import Carrier, write_carrier
from orderflow.service import records
from orderflow.service.runtime import Runtime
from orderflow.workflow import CapacitySlot

__all__ = ["customer", "put", "put_capacity", "put_carrier"]


def put(rt: Runtime, value: Customer | Product | Component | InboundPO) -> None:
    """Create or replace one master-data record (keyed by its id, code or PO number)."""
    if isinstance(value, Customer):
        key = value.id
    elif isinstance(value, Product | Component):
        key = value.code
    else:
        key = f"{value.component}/{value.number}"
    with rt.store.transaction() as tx:
        records.put_typed(tx, key, value)


def put_capacity(rt: Runtime, factory_id: str, slots: Iterable[CapacitySlot]) -> None:
    """Replace a factory's free production slots."""
    with rt.store.transaction() as tx:
        for key, _ in tx.docs(records.CAPACITY, factory_id + "/"):
            tx.delete_doc(records.CAPACITY, key)
        for slot in slots:
            records.write_slot(tx, factory_id, slot)


def put_carrier(rt: Runtime, carrier: Carrier) -> None:
    """Create or replace a carrier (has it a backup route? R13 rule 3)."""
    with rt.store.transaction() as tx:
        write_carrier(tx, carrier)


def customer(rt: Runtime, customer_id: str) -> Customer:
    """A customer with its live open exposure (receivables + accepted, undelivered orders)."""
    with rt.store.transaction() as tx:
        base = records.get_typed(tx, Customer, customer_id)
        if base is None:
            raise NotFound("customer", customer_id)
        extra = records.read_decimal(tx, records.EXPOSURE, customer_id)
        return attrs.evolve(base, open_exposure=base.open_exposure + extra)
