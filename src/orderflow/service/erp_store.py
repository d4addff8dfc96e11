"""The ERP bridge's writing side over the real order service (R7, R5).

:class:`ServiceErpStore` implements :class:`~orderflow.erp.ErpSyncStore` on an
:class:`~orderflow.service.OrderService` and its store (memory, SQLite, PostgreSQL), to
the transactional contract of :mod:`orderflow.erp.ports`:

- a unit of work is ONE outer ``store.transaction()``; orders, audit entries,
  idempotency records and the sync state commit together or not at all;
- each order write runs through the service in its own nested transaction (a
  savepoint), so a refused write leaves nothing behind and the batch goes on;
- imports go through :meth:`OrderService.submit` (same ``created`` entry with the R2
  check results, same deadline), with the draft's derived order id and number;
  ERP field changes write one ``field_update`` entry; cancellations fire the
  workflow's ``cancel`` event through :meth:`OrderService.fire`;
- idempotency keys are the service's idempotency records;
- the sync state is kept as store documents: ``erp_cursor`` (key: stream),
  ``erp_row`` and ``erp_quarantine`` (key: ``stream/erp_id``).

A unit of work belongs to the thread that opened it (the store's nested transactions
are per thread).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Literal, cast

import attrs

from orderflow.clock import from_micros, to_micros
from orderflow.domain import Order
from orderflow.erp.changes import ChangeValue
from orderflow.erp.documents import ErpOrder as ErpDraft
from orderflow.erp.ports import (
    ErpKey,
    ErpOrderTarget,
    QuarantineEntry,
    RowState,
    SyncCursor,
    SyncStateStore,
)
from orderflow.exceptions import ConcurrencyConflict, InputError, StoreError
from orderflow.ports import StoreTx
from orderflow.service.changes import field_update
from orderflow.service.codec import field_value
from orderflow.service.facade import OrderService
from orderflow.service.orders import OrderDraft

__all__ = ["CURSOR", "FACTS", "QUARANTINE", "ROW", "ServiceErpStore", "ServiceUnitOfWork"]

CURSOR = "erp_cursor"
"""Document kind of a stream's :class:`~orderflow.erp.SyncCursor` (key: the stream)."""
ROW = "erp_row"
"""Document kind of a document's :class:`~orderflow.erp.RowState` (key: ``stream/erp_id``)."""
QUARANTINE = "erp_quarantine"
"""Document kind of a :class:`~orderflow.erp.QuarantineEntry` (key: ``stream/erp_id``)."""
FACTS = "erp_facts"
"""Document kind of an order's ERP facts (:meth:`ErpOrder.facts`; key: ``stream/erp_id``)."""

UPDATABLE = frozenset({"customer_id", "requested_date", "erp_number", "delivery_address", "lines"})
"""Order fields an ERP change may set."""
BEFORE_KITTING = frozenset({"customer_id", "lines"})
"""Fields that may only change in the workflow's initial stage (nothing reserved, no
credit exposure booked yet), as :meth:`OrderService.edit` rules for lines."""


def _sort_key(value: str) -> tuple[int, Decimal | str]:
    try:
        return (0, Decimal(value))
    except ArithmeticError:
        return (1, value)


def _row_key(stream: str, erp_id: str) -> str:
    return f"{stream}/{erp_id}"


def _check_key(value: object) -> ErpKey | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise StoreError(f"corrupt {CURSOR} document: key {value!r}")


class _Orders:
    """:class:`~orderflow.erp.ErpOrderTarget` over the service, inside one transaction."""

    def __init__(self, service: OrderService, tx: StoreTx) -> None:
        self._svc = service
        self._tx = tx

    def find_by_erp_id(self, erp_id: str) -> Order | None:
        order_id = self._tx.find_order_id("erp_id", erp_id)
        return None if order_id is None else self._tx.get_order(order_id)

    def import_order(self, draft: ErpDraft, *, actor: str, idempotency_key: str) -> Order:
        submitted = self._svc.submit(
            OrderDraft(
                customer_id=draft.customer_id,
                lines=draft.lines,
                requested_date=draft.requested_date,
                factory_id=draft.factory_id,
                delivery_address=draft.delivery_address,
                number=draft.number,
                erp_id=draft.erp_id,
                erp_number=draft.erp_number,
                order_id=draft.order_id,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
        )
        return submitted.order

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
        svc = self._svc
        rt = svc.runtime
        fields: dict[str, Any] = dict(values)
        unknown = sorted(set(fields) - UPDATABLE)
        if unknown or not changes:
            raise InputError(
                f"bad ERP update of order {order_id}: "
                + (f"fields {unknown} cannot be set" if unknown else "no changes")
            )

        def body(tx: StoreTx) -> Order:
            order = rt.load(tx, order_id, for_update=True)
            if order.version != expected_version:
                raise ConcurrencyConflict(order_id, expected_version)
            who = rt.who(actor, order.factory_id, "change")
            initial = svc.workflow.definition.initial
            late = sorted(BEFORE_KITTING & set(fields))
            if late and order.stage != initial:
                raise InputError(
                    f"order {order.number}: {', '.join(late)} can only change in stage "
                    f"{initial!r}, not {order.stage!r}; ERP changes are no longer accepted"
                )
            new = attrs.evolve(order, **fields, version=order.version + 1)
            entry: dict[str, tuple[object, object]] = dict(changes)
            if "lines" in fields:
                # the per-line items name what changed; the whole value lets the
                # order be replayed from its chain (AuditReader.verify(deep=True))
                entry["lines"] = (
                    field_value("lines", order.lines),
                    field_value("lines", new.lines),
                )
            field_update(rt, tx, order, new, actor=who, changes=entry, key=idempotency_key,
                         context={"source": "erp"})  # fmt: skip
            return new

        args = {"order": order_id, "changes": dict(changes), "expected": expected_version}
        return rt.once(idempotency_key, "erp_update", args, body, Order)

    def cancel_order(
        self, order_id: str, reason: str, *, actor: str, idempotency_key: str
    ) -> Order:
        return self._svc.fire(
            order_id, "cancel", actor=actor, reason=reason, idempotency_key=idempotency_key
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
        return self._svc.fire(
            order_id,
            "deliver",
            actor=actor,
            reason=reason,
            occurred_at=delivered_at,
            idempotency_key=idempotency_key,
        )


class _State:
    """:class:`~orderflow.erp.SyncStateStore` as documents of one transaction."""

    def __init__(self, tx: StoreTx) -> None:
        self._tx = tx

    def load_cursor(self, stream: str) -> SyncCursor:
        body = self._tx.get_doc(CURSOR, stream)
        if body is None:
            return SyncCursor()
        data = json.loads(body)
        return SyncCursor(_check_key(data["watermark"]), _check_key(data["reconcile_after"]))

    def save_cursor(self, stream: str, cursor: SyncCursor) -> None:
        body = {"watermark": cursor.watermark, "reconcile_after": cursor.reconcile_after}
        self._tx.put_doc(CURSOR, stream, json.dumps(body))

    def row_states(self, stream: str, erp_ids: Collection[str]) -> Mapping[str, RowState]:
        found: dict[str, RowState] = {}
        for erp_id in erp_ids:
            body = self._tx.get_doc(ROW, _row_key(stream, erp_id))
            if body is not None:
                content_hash, status, order_id = json.loads(body)
                found[erp_id] = RowState(
                    erp_id, content_hash, cast("Literal['synced', 'quarantined']", status), order_id
                )
        return found

    def save_row_states(self, stream: str, states: Iterable[RowState]) -> None:
        for s in states:
            body = json.dumps([s.content_hash, s.status, s.order_id])
            self._tx.put_doc(ROW, _row_key(stream, s.erp_id), body)

    def quarantine(self, stream: str, entry: QuarantineEntry) -> None:
        body = {
            "stream": stream,
            "erp_id": entry.erp_id,
            "content_hash": entry.content_hash,
            "errors": [dict(e) for e in entry.errors],
            "at": to_micros(entry.at),
        }
        self._tx.put_doc(
            QUARANTINE, _row_key(stream, entry.erp_id), json.dumps(body, ensure_ascii=False)
        )

    def release(self, stream: str, erp_id: str) -> None:
        self._tx.delete_doc(QUARANTINE, _row_key(stream, erp_id))

    def quarantined(self, stream: str) -> Sequence[QuarantineEntry]:
        entries = []
        for _, body in self._tx.docs(QUARANTINE, stream + "/"):
            data = json.loads(body)
            if data["stream"] != stream:  # a stream whose name extends this one
                continue
            entries.append(
                QuarantineEntry(
                    data["erp_id"],
                    data["content_hash"],
                    tuple(data["errors"]),
                    from_micros(data["at"]),
                )
            )
        return sorted(entries, key=lambda e: _sort_key(e.erp_id))

    def known_ids(self, stream: str) -> Sequence[str]:
        # stream names hold no "/" (the mapping's pattern), so the prefix is exact
        return [key[len(stream) + 1 :] for key, _ in self._tx.docs(ROW, stream + "/")]

    def save_facts(self, stream: str, erp_id: str, facts: Mapping[str, Any]) -> None:
        self._tx.put_doc(FACTS, _row_key(stream, erp_id), json.dumps(facts, ensure_ascii=False))

    def facts(self, stream: str, erp_id: str) -> Mapping[str, Any] | None:
        body = self._tx.get_doc(FACTS, _row_key(stream, erp_id))
        return None if body is None else cast("Mapping[str, Any]", json.loads(body))


class ServiceUnitOfWork:
    """One transaction's view of the order service and the sync state."""

    def __init__(self, service: OrderService, tx: StoreTx) -> None:
        self._orders = _Orders(service, tx)
        self._state = _State(tx)
        self.tx = tx

    @property
    def orders(self) -> ErpOrderTarget:
        """The order service, bound to this transaction."""
        return self._orders

    @property
    def state(self) -> SyncStateStore:
        """The sync bookkeeping, bound to this transaction."""
        return self._state


class ServiceErpStore:
    """Synced orders and sync state in an :class:`~orderflow.service.OrderService`'s store.

    Example::

        svc = orderflow.connect("sqlite:///orderflow.db")
        report = sync_once(SqlErpSource(erp_url), ServiceErpStore(svc), load_preset(...))
    """

    def __init__(self, service: OrderService) -> None:
        self.service = service

    @contextmanager
    def unit_of_work(self) -> Iterator[ServiceUnitOfWork]:
        """Begin a store transaction: commit on clean exit, roll back on an exception."""
        with self.service.store.transaction() as tx:
            yield ServiceUnitOfWork(self.service, tx)

    def quarantined(self, stream: str) -> list[QuarantineEntry]:
        """The stream's quarantine, by ERP id."""
        with self.unit_of_work() as uow:
            return list(uow.state.quarantined(stream))

    def cursor(self, stream: str) -> SyncCursor:
        """The stream's cursor."""
        with self.unit_of_work() as uow:
            return uow.state.load_cursor(stream)
