"""The ports of the ERP bridge (R7): what the sync engine reads from and writes into.

Reading side
    :class:`ErpSource` reads ERP documents, code tables, on-hand stock and the live
    schema. The SQLAlchemy adapter (``orderflow.adapters.erp_sql``, extra ``erp``)
    implements it over a read-only connection; tests use an in-memory fake.

Writing side
    :class:`ErpSyncStore` opens a unit of work (:class:`ErpUnitOfWork`) that bundles
    the order service (:class:`ErpOrderTarget`) and the sync bookkeeping
    (:class:`SyncStateStore`: watermark, content hashes, quarantine). Everything
    written through one unit of work commits together or not at all; this is what
    makes "nothing half-written remains" hold across a crash.

Outbound
    :class:`ErpSink` receives the change feed (rows keyed by ``FInterID``/``FBillNo``)
    that the ERP side imports; orderflow never writes through the read-only account.

Transactional contract (what an implementation must guarantee)
    1. ``ErpSyncStore.unit_of_work()`` is a context manager: a clean exit commits every
       write made through ``uow.orders`` and ``uow.state`` in one transaction; an
       exception rolls all of them back and propagates.
    2. Each write method of :class:`ErpOrderTarget` is atomic on its own inside the
       unit of work (a SAVEPOINT or equivalent): it either applies completely (order
       row, lines, audit entry) or raises leaving nothing behind, so the engine can
       catch a refusal, quarantine that one row and carry on with the batch.
    3. Reads inside a unit of work see that unit's own earlier writes.
    4. Idempotency keys: a write repeated with the same key returns the order as it was
       after the first write and creates nothing new; the same key with a different
       request raises :class:`~orderflow.IdempotencyConflict`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

import attrs

from orderflow.domain import Order
from orderflow.erp.changes import ChangeValue
from orderflow.erp.documents import ErpOrder, ErpRecord
from orderflow.erp.mapping import ErpMapping, LookupSpec

__all__ = [
    "ErpKey",
    "ErpOrderTarget",
    "ErpSink",
    "ErpSource",
    "ErpSyncStore",
    "ErpUnitOfWork",
    "QuarantineEntry",
    "RowState",
    "RowStatus",
    "SyncCursor",
    "SyncStateStore",
]

ErpKey: TypeAlias = int | str
"""An ERP document key as stored in a watermark (``FInterID`` is an integer)."""


@attrs.frozen
class SyncCursor:
    """Where a stream's sync stands.

    ``watermark`` is the highest header key imported (new rows are those above it);
    ``reconcile_after`` is where the rolling reconciliation pass continues (``None``:
    from the start).
    """

    watermark: ErpKey | None = None
    reconcile_after: ErpKey | None = None


RowStatus: TypeAlias = Literal["synced", "quarantined", "skipped", "waiting"]
"""What came of a document: ``synced``; ``quarantined``; ``skipped`` (not an open
order, nothing imported); ``waiting`` (shipped in the ERP, but the order has not reached
the stage its deliver event leaves: re-examined every run even when unchanged)."""


@attrs.frozen
class RowState:
    """The last content hash seen for one ERP document, and what came of it."""

    erp_id: str
    content_hash: str
    status: RowStatus
    order_id: str | None = None


@attrs.frozen
class QuarantineEntry:
    """A row that could not be mapped or applied: every error, by table/row/column.

    ``errors`` holds :meth:`MappingError.as_dict <orderflow.MappingError.as_dict>`
    mappings (``table``, ``key``, ``column``, ``reason``).
    """

    erp_id: str
    content_hash: str
    errors: tuple[Mapping[str, Any], ...]
    at: dt.datetime

    @property
    def message(self) -> str:
        """One line per error: ``SEOrderEntry row 'FInterID=7/FEntryID=2', column FQty: ...``."""
        return "\n".join(
            f"{e['table']} row {e['key']!r}, column {e['column']}: {e['reason']}"
            for e in self.errors
        )


@runtime_checkable
class ErpSource(Protocol):
    """Read access to an ERP database (orders, code tables, stock, schema)."""

    def schema(self) -> Mapping[str, frozenset[str]]:
        """The live schema: every table the source sees, with its column names."""
        ...

    def read_orders(
        self,
        mapping: ErpMapping,
        *,
        after: ErpKey | None,
        limit: int,
        upto: ErpKey | None = None,
    ) -> Sequence[ErpRecord]:
        """Up to ``limit`` documents with ``after < key <= upto``, ascending by key.

        ``None`` bounds are open. Only rows passing the tables' ``where`` filters
        count. Each record carries its header row, all its line rows (only the mapped
        columns that exist; a missing column is simply absent) and, when the mapping
        has ``[shipments]``, the bill lines pointing at it (bill key, date and red
        flag, order line and quantity columns), from bills passing their filters.
        """
        ...

    def count_orders(
        self, mapping: ErpMapping, *, after: ErpKey | None, upto: ErpKey | None = None
    ) -> int:
        """How many documents :meth:`read_orders` would return without a limit."""
        ...

    def read_lookup(self, lookup: LookupSpec) -> Mapping[str, str]:
        """A code table: ERP key as text (see :func:`~orderflow.erp.convert.key_text`) -> code."""
        ...

    def read_stock(self, mapping: ErpMapping) -> Sequence[Mapping[str, object]]:
        """Raw on-hand stock rows (item, quantity and warehouse columns of the mapping)."""
        ...

    def read_stock_locks(self, mapping: ErpMapping) -> Sequence[Mapping[str, object]]:
        """Raw rows of stock locked for orders (``[stock.locks]``; empty without it)."""
        ...


@runtime_checkable
class ErpOrderTarget(Protocol):
    """The order service as the sync engine sees it (implemented by the real service).

    Every write records its audit entry (R5) in the same transaction as the change.
    """

    def find_by_erp_id(self, erp_id: str) -> Order | None:
        """The order linked to ERP document ``erp_id`` (``Order.erp_id``), if any."""
        ...

    def import_order(self, draft: ErpOrder, *, actor: str, idempotency_key: str) -> Order:
        """Create the order described by ``draft`` in the workflow's initial stage.

        Uses ``draft.order_id``, ``draft.number``, ``draft.erp_id`` and
        ``draft.erp_number``; records a ``created`` audit entry.
        """
        ...

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
        """Apply an ERP change: set ``values`` (typed attribute values) on the order and
        record one ``field_update`` audit entry with ``changes`` (field -> old, new).

        Raises :class:`~orderflow.ConcurrencyConflict` if the order's version is no
        longer ``expected_version``; may refuse with another
        :class:`~orderflow.OrderflowError` (e.g. lines changed after production).
        """
        ...

    def cancel_order(
        self, order_id: str, reason: str, *, actor: str, idempotency_key: str
    ) -> Order:
        """Fire the workflow's cancel event with ``reason`` (a ``state_change`` entry).

        Raises :class:`~orderflow.WorkflowError` when the stage does not allow it.
        """
        ...

    def deliver_order(
        self,
        order_id: str,
        reason: str,
        *,
        delivered_at: dt.datetime,
        actor: str,
        idempotency_key: str,
    ) -> Order:
        """Fire the workflow's deliver event: the ERP's outbound bills cover the order.

        ``delivered_at`` (the covering bill's date) is recorded as when it happened;
        ``reason`` names the bills. Raises :class:`~orderflow.WorkflowError` when the
        stage does not allow it.
        """
        ...


@runtime_checkable
class SyncStateStore(Protocol):
    """The sync's own bookkeeping, per stream (one stream per ERP mapping/source)."""

    def load_cursor(self, stream: str) -> SyncCursor:
        """The stream's cursor (an empty cursor for a new stream)."""
        ...

    def save_cursor(self, stream: str, cursor: SyncCursor) -> None:
        """Replace the stream's cursor."""
        ...

    def row_states(self, stream: str, erp_ids: Collection[str]) -> Mapping[str, RowState]:
        """The known states of the given documents (unknown ids are left out)."""
        ...

    def save_row_states(self, stream: str, states: Iterable[RowState]) -> None:
        """Insert or replace the states of these documents."""
        ...

    def quarantine(self, stream: str, entry: QuarantineEntry) -> None:
        """Insert or replace the quarantine entry of ``entry.erp_id``."""
        ...

    def release(self, stream: str, erp_id: str) -> None:
        """Remove ``erp_id`` from the quarantine (no-op if absent)."""
        ...

    def quarantined(self, stream: str) -> Sequence[QuarantineEntry]:
        """Every quarantined document of the stream, by ERP id."""
        ...

    def known_ids(self, stream: str) -> Sequence[str]:
        """The ERP ids of every document the stream has a row state for."""
        ...

    def save_facts(self, stream: str, erp_id: str, facts: Mapping[str, Any]) -> None:
        """Keep what the ERP says about an order (:meth:`ErpOrder.facts`), replacing it."""
        ...

    def facts(self, stream: str, erp_id: str) -> Mapping[str, Any] | None:
        """The ERP facts last kept for ``erp_id``, if any."""
        ...


@runtime_checkable
class ErpUnitOfWork(Protocol):
    """One transaction's view of the order service and the sync state."""

    @property
    def orders(self) -> ErpOrderTarget:
        """The order service, bound to this transaction."""
        ...

    @property
    def state(self) -> SyncStateStore:
        """The sync bookkeeping, bound to this transaction."""
        ...


@runtime_checkable
class ErpSyncStore(Protocol):
    """Where synced orders and sync state live; opens units of work."""

    def unit_of_work(self) -> AbstractContextManager[ErpUnitOfWork]:
        """Begin a transaction: commit on clean exit, roll back on an exception."""
        ...


@runtime_checkable
class ErpSink(Protocol):
    """Receives the outbound change feed (rows of ERP column -> value)."""

    def write(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Write the rows; return how many were written."""
        ...
