"""The ports (``typing.Protocol``) between the service layer and the outside world.

A store adapter implements :class:`Store`; one :class:`StoreTx` is one database
transaction in which an order change, its audit entry, its idempotency record and its
stock effects commit together or not at all. The adapters shipped are memory, SQLite
(the embedded default) and PostgreSQL (``postgres`` extra); all pass the same contract
suite in :mod:`orderflow.testing.contracts`.

Besides orders, audit entries and idempotency records, a store keeps *documents*: JSON
bodies by ``(kind, key)`` for master data, stock, reservations, incidents, alerts and
query events. The typed layer above (:mod:`orderflow.service.records`) encodes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import UnreadableRow

__all__ = ["Store", "StoreTx"]


class StoreTx(Protocol):
    """One transaction. Writes become visible to others only when it commits."""

    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        """The stored order, locked against concurrent writers if ``for_update``."""
        ...

    def find_order_id(self, field: str, value: str) -> str | None:
        """The id of the order whose ``number``, ``query_token_hash`` or ``erp_id`` is ``value``."""
        ...

    def insert_order(self, order: Order) -> None:
        """Store a new order; a duplicate id or number raises ConcurrencyConflict.

        Inside a savepoint, a store with a server may check while the caller works on
        and raise it when the savepoint ends (which rolls the insert back)."""
        ...

    def update_order(self, order: Order, expected_version: int) -> None:
        """Replace an order if its stored version is ``expected_version``.

        Otherwise raise :class:`~orderflow.ConcurrencyConflict` (a lost update prevented).
        """
        ...

    def chain_head(self, chain: str) -> ChainHead | None:
        """The last ``seq`` and leaf hash of an audit chain (an order id or a stream)."""
        ...

    def append_audit(self, chain: str, seq: int, data: bytes, leaf: bytes) -> None:
        """Append one canonical entry; ``(chain, seq)`` is unique (ConcurrencyConflict)."""
        ...

    def get_idempotent(self, key: str, *, lock_order: str | None = None) -> tuple[str, str] | None:
        """``(request fingerprint, result JSON)`` stored under an idempotency key.

        ``lock_order`` names an order the caller is about to read for update: a store
        with a server may lock it in the same round trip (then ``get_order(lock_order,
        for_update=True)`` costs nothing more); others ignore it."""
        ...

    def ask_idempotent(
        self, key: str, *, lock_order: str | None = None
    ) -> Callable[[], tuple[str, str] | None] | None:
        """Send the question :meth:`get_idempotent` asks ahead, and answer it later.

        A store with a server may send the lookup now and return a function that gives
        its answer, so the caller's work overlaps the round trip; any other use of the
        transaction reads the answer first. ``None``: nothing was sent ahead (the store
        has no server, or it would cost more); call :meth:`get_idempotent`."""
        ...

    def put_idempotent(self, key: str, fingerprint: str, result: str) -> None:
        """Remember the result of the request made under ``key``."""
        ...

    def get_doc(self, kind: str, key: str, *, for_update: bool = False) -> str | None:
        """A document body, locked against concurrent writers if ``for_update``."""
        ...

    def get_docs(
        self, kind: str, keys: Iterable[str], *, for_update: bool = False
    ) -> dict[str, str]:
        """The bodies of the documents of ``kind`` among ``keys`` that exist (absent keys
        are left out), read with one statement where the store has SQL; with
        ``for_update``, locked (in key order, so two writers cannot deadlock over them)
        as :meth:`get_doc` locks one."""
        ...

    def prefetch(
        self,
        docs: Mapping[str, Iterable[str]],
        listings: Iterable[tuple[str, str]] = (),
        locks: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """A hint that the caller is about to read these documents (kind -> keys) and
        listings (``(kind, prefix)``, as :meth:`docs` reads them), and to read ``locks``
        (kind -> keys) for update: a store with a server may read them all in one round
        trip, locking ``locks`` kind by kind in the order given (keys in key order, as
        :meth:`get_docs` locks them); others ignore it. Reads stay as they were: a later
        :meth:`get_doc`, :meth:`get_docs` or :meth:`docs` answers the same."""
        ...

    def put_doc(self, kind: str, key: str, body: str) -> None:
        """Insert or replace a document."""
        ...

    def delete_doc(self, kind: str, key: str) -> None:
        """Remove a document if it exists."""
        ...

    def docs(
        self, kind: str, prefix: str = "", *, limit: int | None = None
    ) -> list[tuple[str, str]]:
        """``(key, body)`` of every document of ``kind`` whose key starts with ``prefix``,
        in key order; with ``limit``, only the first ``limit`` of them."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested scope: an exception inside undoes only its own writes."""
        ...


class Store(Protocol):
    """A persistent home for orders, the audit log and documents."""

    origin: str
    """The audit log's origin line (e.g. ``orderflow.example/plant-1``)."""

    def transaction(self) -> AbstractContextManager[StoreTx]:
        """Open a write transaction (committed on normal exit, rolled back on error)."""
        ...

    def audit_entries(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Stored audit bytes in global log order, ``[start, stop)``."""
        ...

    def audit_leaves(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """The leaf hashes stored beside the entries, in global log order, ``[start, stop)``.

        The verifier recomputes each from the entry's bytes and compares; checkpoints
        are built from them without reading the entries themselves.
        """
        ...

    def audit_chain(self, chain: str) -> list[tuple[int, bytes]]:
        """``(global index, bytes)`` of one chain's entries in sequence order."""
        ...

    def in_transaction(self) -> bool:
        """Whether the calling thread has a transaction of this store open."""
        ...

    def audit_size(self) -> int:
        """Number of entries in the global log."""
        ...

    def orders(
        self, *, on_unreadable: Callable[[UnreadableRow], None] | None = None
    ) -> Iterator[Order]:
        """Every stored order (any order of iteration).

        A row that cannot be read raises :class:`~orderflow.exceptions.UnreadableRow`,
        or, given ``on_unreadable``, is handed to it and skipped (for readers that
        aggregate and may go on without it).
        """
        ...

    def orders_due(
        self,
        before: dt.datetime,
        *,
        on_unreadable: Callable[[UnreadableRow], None] | None = None,
    ) -> Iterator[Order]:
        """Orders whose stage deadline is earlier than ``before`` (an indexed query);
        ``on_unreadable`` as for :meth:`orders`."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
