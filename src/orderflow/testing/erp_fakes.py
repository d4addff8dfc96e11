"""In-memory fakes of the ERP bridge's ports, for tests and examples.

:class:`InMemoryErpSource` (from :mod:`orderflow.testing.erp_source_fake`) is an ERP
database held in dictionaries (tables of rows), with helpers to insert, update and
delete rows the way Kingdee K3 users do.
:class:`InMemoryErpStore` implements :class:`~orderflow.erp.ErpSyncStore` with the
transactional contract the real service must meet: a unit of work commits or rolls
back as a whole, each order write is atomic on its own, idempotency keys make retries
harmless, and every write appends an audit record (its order writes are
:mod:`orderflow.testing.erp_fake_orders`). It is the reference the engine's tests run
against; the SQLite/PostgreSQL service must behave the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import attrs

from orderflow.clock import Clock, FrozenClock
from orderflow.domain import Order
from orderflow.erp.convert import key_text
from orderflow.erp.ports import (
    ErpOrderTarget,
    QuarantineEntry,
    RowState,
    SyncCursor,
    SyncStateStore,
)
from orderflow.testing.erp_fake_orders import AuditRecord, _Journal, _Orders
from orderflow.testing.erp_source_fake import InMemoryErpSource

__all__ = [
    "AuditRecord",
    "InMemoryErpSource",
    "InMemoryErpStore",
    "InMemoryUnitOfWork",
]


def _sort_key(value: object) -> tuple[int, Decimal | str]:
    text = key_text(value)
    try:
        return (0, Decimal(text))
    except ArithmeticError:
        return (1, text)


class _State:
    def __init__(self, store: InMemoryErpStore, journal: _Journal) -> None:
        self.store = store
        self.j = journal

    def known_ids(self, stream: str) -> Sequence[str]:
        return [i for s, i in self.store.row_state if s == stream]

    def save_facts(self, stream: str, erp_id: str, facts: Mapping[str, Any]) -> None:
        self.j.set(self.store.facts, (stream, erp_id), dict(facts))

    def facts(self, stream: str, erp_id: str) -> Mapping[str, Any] | None:
        return self.store.facts.get((stream, erp_id))

    def load_cursor(self, stream: str) -> SyncCursor:
        return self.store.cursors.get(stream, SyncCursor())

    def save_cursor(self, stream: str, cursor: SyncCursor) -> None:
        self.j.set(self.store.cursors, stream, cursor)

    def row_states(self, stream: str, erp_ids: Collection[str]) -> Mapping[str, RowState]:
        states = self.store.row_state
        return {i: states[(stream, i)] for i in erp_ids if (stream, i) in states}

    def save_row_states(self, stream: str, states: Iterable[RowState]) -> None:
        for state in states:
            self.j.set(self.store.row_state, (stream, state.erp_id), state)

    def quarantine(self, stream: str, entry: QuarantineEntry) -> None:
        self.j.set(self.store.quarantine, (stream, entry.erp_id), entry)

    def release(self, stream: str, erp_id: str) -> None:
        self.j.pop(self.store.quarantine, (stream, erp_id))

    def quarantined(self, stream: str) -> Sequence[QuarantineEntry]:
        entries = [e for (s, _), e in self.store.quarantine.items() if s == stream]
        return sorted(entries, key=lambda e: _sort_key(e.erp_id))


class InMemoryUnitOfWork:
    """A unit of work over :class:`InMemoryErpStore` (see :meth:`InMemoryErpStore.unit_of_work`)."""

    def __init__(self, store: InMemoryErpStore) -> None:
        self._journal = _Journal()
        self._orders = _Orders(store, self._journal)
        self._state = _State(store, self._journal)

    @property
    def orders(self) -> ErpOrderTarget:
        """The order service bound to this unit of work."""
        return self._orders

    @property
    def state(self) -> SyncStateStore:
        """The sync state bound to this unit of work."""
        return self._state


class InMemoryErpStore:
    """Orders, audit records and sync state in memory, with all-or-nothing units of work.

    ``fail_on`` is a hook for crash tests: called before every order write with the
    new order and its audit record; raising from it aborts that unit of work.
    ``frozen_stages`` refuse ERP field updates (as a real service may, after
    production starts); ``cancellable_stages`` are those the cancel event leaves,
    ``deliver_from`` the one the deliver event leaves (for ``delivered_stage``).
    ``facts`` holds the ERP facts the sync keeps per document.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        initial_stage: str = "pending_review",
        cancelled_stage: str = "cancelled",
        cancellable_stages: Collection[str] = ("pending_review", "kitting_locked"),
        frozen_stages: Collection[str] = (),
        delivered_stage: str = "delivered",
        deliver_from: str = "qc_released",
    ) -> None:
        self.clock = clock or FrozenClock()
        self.initial_stage = initial_stage
        self.cancelled_stage = cancelled_stage
        self.cancellable_stages = frozenset(cancellable_stages)
        self.frozen_stages = frozenset(frozen_stages)
        self.delivered_stage = delivered_stage
        self.deliver_from = deliver_from
        self.orders: dict[str, Order] = {}
        self.by_erp_id: dict[str, str] = {}
        self.audit: list[AuditRecord] = []
        self.idempotency: dict[str, tuple[object, str]] = {}
        self.cursors: dict[str, SyncCursor] = {}
        self.row_state: dict[tuple[str, str], RowState] = {}
        self.quarantine: dict[tuple[str, str], QuarantineEntry] = {}
        self.facts: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail_on: Callable[[Order, AuditRecord], None] | None = None
        self.commits = 0
        self.rollbacks = 0
        self.on_commit: Callable[[Sequence[AuditRecord]], None] | None = None

    def _before_write(self, order: Order, record: AuditRecord) -> None:
        if self.fail_on is not None:
            self.fail_on(order, record)

    @contextmanager
    def unit_of_work(self) -> Iterator[InMemoryUnitOfWork]:
        """Begin a unit of work: commit on clean exit, undo every write on an exception."""
        uow = InMemoryUnitOfWork(self)
        audit_before = len(self.audit)
        try:
            yield uow
        except BaseException:
            uow._journal.rollback()
            self.rollbacks += 1
            raise
        self.commits += 1
        if self.on_commit is not None and len(self.audit) > audit_before:
            self.on_commit(self.audit[audit_before:])

    # -- test helpers -------------------------------------------------------------------

    def set_stage(self, order_id: str, stage: str) -> Order:
        """Move an order to ``stage`` directly (as the workflow would), recording it."""
        order = self.orders[order_id]
        now = self.clock.now()
        updated = attrs.evolve(order, stage=stage, stage_entered_at=now, version=order.version + 1)
        self.orders[order_id] = updated
        self.audit.append(
            AuditRecord(
                order_id,
                updated.version,
                "state_change",
                "test",
                now,
                f"test:{order_id}:{stage}",
                order.stage,
                stage,
            )
        )
        return updated

    def quarantined(self, stream: str) -> list[QuarantineEntry]:
        """The stream's quarantine, by ERP id."""
        return list(_State(self, _Journal()).quarantined(stream))

    def snapshot(self) -> dict[str, tuple[object, ...]]:
        """The ERP-relevant state of every order, by ERP id (no ids, tokens or times)."""
        return {
            o.erp_id: (
                o.id,
                o.number,
                o.erp_number,
                o.customer_id,
                o.lines,
                o.requested_date,
                o.factory_id,
                o.stage,
                o.version,
            )
            for o in self.orders.values()
        }
