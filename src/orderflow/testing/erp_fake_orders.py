"""The order side of :class:`~orderflow.testing.erp_fakes.InMemoryErpStore`: order writes
(create, ERP field updates, cancel, deliver) with their audit records and idempotency keys,
undone as a whole by the unit of work's journal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from orderflow.domain import Order, new_order
from orderflow.erp.changes import ChangeValue
from orderflow.erp.documents import ErpOrder
from orderflow.exceptions import (
    ConcurrencyConflict,
    IdempotencyConflict,
    InputError,
    InvalidTransition,
    NotFound,
)

if TYPE_CHECKING:
    from orderflow.testing.erp_fakes import InMemoryErpStore

__all__ = ["AuditRecord"]


@attrs.frozen
class AuditRecord:
    """What the fake records for each write (the real service writes an audit entry).

    ``changes`` is sorted by field name, like the canonical audit entry.
    """

    order_id: str
    seq: int
    type: str
    actor: str
    at: dt.datetime
    idempotency_key: str
    from_state: str | None = None
    to_state: str | None = None
    changes: tuple[tuple[str, ChangeValue, ChangeValue], ...] = ()
    reason: str = ""
    occurred_at: dt.datetime | None = None

    def without_time(self) -> tuple[object, ...]:
        """Everything but the timestamp (for "same entries modulo timestamps")."""
        return (
            self.order_id,
            self.seq,
            self.type,
            self.actor,
            self.idempotency_key,
            self.from_state,
            self.to_state,
            self.changes,
            self.reason,
        )


class _Journal:
    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []

    def set(self, target: dict[Any, Any], key: object, value: object) -> None:
        if key in target:
            old = target[key]
            self.undo.append(lambda: target.__setitem__(key, old))
        else:
            self.undo.append(lambda: target.pop(key, None))
        target[key] = value

    def pop(self, target: dict[Any, Any], key: object) -> None:
        if key in target:
            old = target.pop(key)
            self.undo.append(lambda: target.__setitem__(key, old))

    def append(self, target: list[Any], value: object) -> None:
        target.append(value)
        self.undo.append(target.pop)

    def rollback(self) -> None:
        while self.undo:
            self.undo.pop()()


class _Orders:
    def __init__(self, store: InMemoryErpStore, journal: _Journal) -> None:
        self.store = store
        self.j = journal

    def find_by_erp_id(self, erp_id: str) -> Order | None:
        order_id = self.store.by_erp_id.get(erp_id)
        return None if order_id is None else self.store.orders[order_id]

    def _order(self, order_id: str) -> Order:
        order = self.store.orders.get(order_id)
        if order is None:
            raise NotFound("order", order_id)
        return order

    def _replay(self, key: str, request: object) -> Order | None:
        seen = self.store.idempotency.get(key)
        if seen is None:
            return None
        if seen[0] != request:
            raise IdempotencyConflict(key)
        return self.store.orders[seen[1]]

    def _commit(self, order: Order, record: AuditRecord, key: str, request: object) -> Order:
        self.store._before_write(order, record)  # may raise: nothing written yet
        self.j.set(self.store.orders, order.id, order)
        if order.erp_id:
            self.j.set(self.store.by_erp_id, order.erp_id, order.id)
        self.j.append(self.store.audit, record)
        self.j.set(self.store.idempotency, key, (request, order.id))
        return order

    def import_order(self, draft: ErpOrder, *, actor: str, idempotency_key: str) -> Order:
        request = ("import", draft)
        replay = self._replay(idempotency_key, request)
        if replay is not None:
            return replay
        if draft.order_id in self.store.orders:
            raise InputError(f"order {draft.order_id} exists already")
        now = self.store.clock.now()
        order, _token = new_order(
            number=draft.number,
            customer_id=draft.customer_id,
            lines=draft.lines,
            requested_date=draft.requested_date,
            factory_id=draft.factory_id,
            initial_stage=self.store.initial_stage,
            created_at=now,
            delivery_address=draft.delivery_address,
            order_id=draft.order_id,
            erp_id=draft.erp_id,
            erp_number=draft.erp_number,
        )
        record = AuditRecord(order.id, 0, "created", actor, now, idempotency_key, None, order.stage)
        return self._commit(order, record, idempotency_key, request)

    def update_order_fields(
        self,
        order_id: str,
        changes: Mapping[str, tuple[ChangeValue, ChangeValue]],
        *,
        values: Mapping[str, object],
        expected_version: int,
        actor: str,
        idempotency_key: str,
    ) -> Order:
        request = ("update", order_id, tuple(sorted(changes.items())))
        replay = self._replay(idempotency_key, request)
        if replay is not None:
            return replay
        order = self._order(order_id)
        if order.version != expected_version:
            raise ConcurrencyConflict(order_id, expected_version)
        if order.stage in self.store.frozen_stages:
            raise InputError(
                f"order {order.number} is in stage {order.stage}; "
                "ERP changes are no longer accepted"
            )
        unknown = set(values) - set(attrs.fields_dict(Order))
        if unknown or not changes:
            raise InputError(f"bad update of order {order_id}: fields {sorted(unknown)}")
        fields: dict[str, Any] = dict(values)
        updated = attrs.evolve(order, **fields, version=order.version + 1)
        record = AuditRecord(
            order.id,
            updated.version,
            "field_update",
            actor,
            self.store.clock.now(),
            idempotency_key,
            changes=tuple((f, old, new) for f, (old, new) in sorted(changes.items())),
        )
        return self._commit(updated, record, idempotency_key, request)

    def cancel_order(
        self, order_id: str, reason: str, *, actor: str, idempotency_key: str
    ) -> Order:
        return self._fire(
            "cancel",
            order_id,
            reason,
            self.store.cancellable_stages,
            self.store.cancelled_stage,
            actor=actor,
            idempotency_key=idempotency_key,
        )

    def deliver_order(
        self,
        order_id: str,
        reason: str,
        *,
        delivered_at: dt.datetime,
        actor: str,
        idempotency_key: str,
    ) -> Order:
        return self._fire(
            "deliver",
            order_id,
            reason,
            frozenset({self.store.deliver_from}),
            self.store.delivered_stage,
            actor=actor,
            idempotency_key=idempotency_key,
            occurred_at=delivered_at,
        )

    def _fire(
        self,
        event: str,
        order_id: str,
        reason: str,
        sources: Collection[str],
        target: str,
        *,
        actor: str,
        idempotency_key: str,
        occurred_at: dt.datetime | None = None,
    ) -> Order:
        request = (event, order_id, reason)
        replay = self._replay(idempotency_key, request)
        if replay is not None:
            return replay
        order = self._order(order_id)
        if order.stage not in sources:
            raise InvalidTransition(order_id, order.stage, event, ())
        if not reason.strip():
            raise InputError(f"a {event} event needs a reason")
        now = self.store.clock.now()
        updated = attrs.evolve(order, stage=target, stage_entered_at=now, version=order.version + 1)
        record = AuditRecord(
            order.id,
            updated.version,
            "state_change",
            actor,
            now,
            idempotency_key,
            order.stage,
            updated.stage,
            reason=reason,
            occurred_at=occurred_at,
        )
        return self._commit(updated, record, idempotency_key, request)
