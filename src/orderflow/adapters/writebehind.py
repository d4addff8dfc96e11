"""Write-behind inside one transaction, shared by the SQL adapters (SQLite, PostgreSQL).

A transaction checks every write at once (version, uniqueness) against what it sees,
applies it to a cache of what it has read and written, and queues it; the queue goes to
the database with one ``executemany`` per statement when the transaction commits, or
earlier when a read needs the database itself (a listing, a lookup by a field that a
queued change moved). A document rewritten many times in a batch (stock, exposure) is
written once, and savepoints cost no SQL until a queued write has to cross one.

Savepoints keep an undo log of cache entries; a savepoint only becomes a real SQL
``SAVEPOINT`` if queued writes are flushed while it is open (the flush writes each
savepoint's share of the queue on its own side of the ``SAVEPOINT``).

An adapter subclasses :class:`WriteBehindTx` and supplies the reads (``_fetch_*``), the
writes of one savepoint's share of the queue (``_write``) and ``_exec`` for savepoint
statements. SQLite's cache outlives the transaction (one writer at a time, checked with
``PRAGMA data_version``); PostgreSQL's lives for one transaction, and a read *for update*
goes to the database once per key (``SELECT ... FOR UPDATE``) even when the row is
already cached, because only that takes the row lock (``_locking``).
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from orderflow.adapters.rows import COLUMNS, STATE_COLUMNS
from orderflow.adapters.writequeue import _MISS, QueuedTx, Scope, Slice, TxCache
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import ConcurrencyConflict, InputError

__all__ = ["FINDABLE", "Scope", "Slice", "TxCache", "WriteBehindTx"]

FINDABLE = frozenset({"number", "query_token_hash", "erp_id"})
"""The order fields :meth:`WriteBehindTx.find_order_id` looks orders up by."""

_FIXED = tuple(c for c in COLUMNS if c not in (*STATE_COLUMNS, "verification_code"))
_fixed = operator.attrgetter(*_FIXED)  # tuple equality checks identity first, in C


class WriteBehindTx(QueuedTx):
    """The adapter-independent part of a write-behind transaction (see the module doc)."""

    _locking = False
    """Whether a read for update must reach the database to lock the row (PostgreSQL)."""

    def __init__(self, cache: TxCache) -> None:
        super().__init__(cache)
        # idempotency records and findable order fields written but maybe not flushed
        self._idem: dict[str, tuple[str, str] | None] = {}
        self._found: dict[tuple[str, str], str | None] = {}
        # rows this transaction locked, and rows it wrote: a read for update of those
        # returns the queued value without a lock (a blind write is last-writer-wins
        # anyway; the write itself locks the row when it is flushed)
        self._locked: dict[Any, bool] = {}
        self._written: dict[Any, bool] = {}

    # --- what an adapter supplies -------------------------------------------------------
    def _fetch_order(self, order_id: str, for_update: bool) -> Order | None:
        raise NotImplementedError

    def _fetch_order_id(self, field: str, value: str) -> str | None:
        raise NotImplementedError

    def _fetch_head(self, chain: str) -> ChainHead | None:
        raise NotImplementedError

    def _fetch_idem(self, key: str) -> tuple[str, str] | None:
        raise NotImplementedError

    def _fetch_idem_locking(
        self, key: str, order_id: str
    ) -> tuple[tuple[str, str] | None, Order | None]:
        """The idempotency record under ``key`` and the order ``order_id``, locked for
        update (a locking adapter reads both in one round trip)."""
        return self._fetch_idem(key), self._fetch_order(order_id, True)

    def _fetch_docs(self, kind: str, keys: Sequence[str], for_update: bool) -> dict[str, str]:
        """The bodies of the documents of ``kind`` among ``keys`` that exist (locked, and
        the missing keys' creation serialised, when ``for_update``)."""
        raise NotImplementedError

    def _fetch_listing(self, kind: str, prefix: str, limit: int | None) -> list[tuple[str, str]]:
        raise NotImplementedError

    # --- listings -----------------------------------------------------------------------
    def _update_lists(self, kind: str, key: str, body: str | None) -> None:
        """Keep cached listings of ``kind`` right after a write (``None`` = deleted)."""
        for prefix in self._cache.list_kinds.get(kind, ()):
            if not key.startswith(prefix):
                continue
            rows = self._lists[(kind, prefix)]
            i = bisect.bisect_left(rows, (key,))
            present = i < len(rows) and rows[i][0] == key
            if body is None:
                if present:
                    del rows[i]
            elif present:
                rows[i] = (key, body)
            else:
                rows.insert(i, (key, body))

    # --- orders -------------------------------------------------------------------------
    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        cached = self._orders.get(order_id, _MISS)
        if cached is not _MISS and not (
            for_update
            and self._locking
            and order_id not in self._locked
            and order_id not in self._written  # inserted, or updated after a version check
        ):
            return cached  # type: ignore[return-value]
        order = self._fetch_order(order_id, for_update and self._locking)
        if for_update and self._locking:
            self._set(self._locked, order_id, True)
        self._orders[order_id] = order
        return order

    def find_order_id(self, field: str, value: str) -> str | None:
        if field not in FINDABLE:
            raise InputError(f"cannot look orders up by {field!r}")
        found = self._found.get((field, value), _MISS)
        if isinstance(found, str):
            return found
        if found is None:  # a queued change moved the value away: ask the database itself
            self.flush()
        order_id = self._fetch_order_id(field, value)
        if order_id is None:
            return None
        order = self._orders.get(order_id)
        if isinstance(order, Order) and getattr(order, field) != value:
            self.flush()  # the row is about to change: read what it will say
            return self.find_order_id(field, value)
        return order_id

    def _index(self, old: Order | None, new: Order) -> None:
        for field in FINDABLE:
            value = getattr(new, field)
            before = None if old is None else getattr(old, field)
            if before is not None and before != value:
                self._set(self._found, (field, before), None)
            if value:
                self._set(self._found, (field, value), new.id)

    def _exists(self, order: Order) -> bool:
        """Whether an order with ``order``'s id or number exists already."""
        return self.get_order(order.id) is not None or (
            self.find_order_id("number", order.number) is not None
        )

    def insert_order(self, order: Order) -> None:
        if self._exists(order):
            raise ConcurrencyConflict(order.id, -1, f"order {order.number} already exists")
        self._index(None, order)
        self._set(self._orders, order.id, order)
        if self._locking:
            self._set(self._written, order.id, True)
        self._q_orders.append((order, True, -1, False))

    def update_order(self, order: Order, expected_version: int) -> None:
        old = self.get_order(order.id)
        if old is None or old.version != expected_version:
            raise ConcurrencyConflict(order.id, expected_version)
        # only the workflow columns changed: a narrow UPDATE skips re-encoding the
        # lines and touching the number/token/ERP indexes
        narrow = _fixed(old) == _fixed(order)
        if not narrow:
            self._index(old, order)
        self._set(self._orders, order.id, order)
        if self._locking:
            self._set(self._written, order.id, True)
        self._q_orders.append((order, False, expected_version, narrow))

    def _unlocked_updates(self) -> bool:
        """Whether a queued update targets an order this transaction did not lock (its
        version check can only be trusted once the database counted the rows)."""
        return self._locking and any(
            not inserted and order.id not in self._locked
            for order, inserted, _, _ in self._q_orders
        )

    # --- audit --------------------------------------------------------------------------
    def chain_head(self, chain: str) -> ChainHead | None:
        cached = self._heads.get(chain, _MISS)
        if cached is not _MISS:
            return cached  # type: ignore[return-value]
        head = self._fetch_head(chain)
        self._heads[chain] = head
        return head

    def append_audit(self, chain: str, seq: int, data: bytes, leaf: bytes) -> None:
        head = self.chain_head(chain)
        if head is not None and seq <= head.seq:
            raise ConcurrencyConflict(chain, seq - 1, "audit chain moved on")
        self._set(self._heads, chain, ChainHead(seq, leaf))
        self._q_audit.append((chain, seq, leaf, data))

    # --- idempotency --------------------------------------------------------------------
    def get_idempotent(self, key: str, *, lock_order: str | None = None) -> tuple[str, str] | None:
        known = self._idem.get(key, _MISS)
        if known is not _MISS:
            return known  # type: ignore[return-value]
        if (
            lock_order is not None
            and self._locking
            and lock_order not in self._locked
            and lock_order not in self._written
        ):
            stored, order = self._fetch_idem_locking(key, lock_order)
            self._set(self._locked, lock_order, True)  # as get_order(for_update=True) does
            self._orders[lock_order] = order
        else:
            stored = self._fetch_idem(key)
        self._idem[key] = stored  # a read: no undo (a rollback cannot unstore it)
        return stored

    def ask_idempotent(
        self, key: str, *, lock_order: str | None = None
    ) -> Callable[[], tuple[str, str] | None] | None:
        """Nothing sent ahead by default (SQLite reads its own file)."""
        return None

    def put_idempotent(self, key: str, fingerprint: str, result: str) -> None:
        if self.get_idempotent(key) is not None:
            raise ConcurrencyConflict(key, -1, "idempotency key used concurrently")
        self._set(self._idem, key, (fingerprint, result))
        self._q_idem.append((key, fingerprint, result))

    # --- documents ----------------------------------------------------------------------
    def get_doc(self, kind: str, key: str, *, for_update: bool = False) -> str | None:
        k = (kind, key)
        cached = self._docs.get(k, _MISS)
        if cached is not _MISS and not (
            for_update and self._locking and k not in self._locked and k not in self._written
        ):
            return cached  # type: ignore[return-value]
        return self._load_docs(kind, (key,), for_update).get(key)

    def prefetch(
        self,
        docs: Mapping[str, Iterable[str]],
        listings: Iterable[tuple[str, str]] = (),
        locks: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """A hint (see :meth:`orderflow.ports.StoreTx.prefetch`): nothing by default."""

    def get_docs(
        self, kind: str, keys: Iterable[str], *, for_update: bool = False
    ) -> dict[str, str]:
        """The bodies of the documents of ``kind`` among ``keys`` that exist, read (and
        with ``for_update`` locked, in key order) with one statement."""
        wanted = sorted(set(keys))
        lock = for_update and self._locking
        docs = self._docs
        out: dict[str, str] = {}
        missing: list[str] = []
        for key in wanted:
            k = (kind, key)
            cached = docs.get(k, _MISS)
            if cached is _MISS or (lock and k not in self._locked and k not in self._written):
                missing.append(key)
            elif cached is not None:
                out[key] = cached  # type: ignore[assignment]
        if missing:
            for key, body in self._load_docs(kind, missing, for_update).items():
                if body is not None:
                    out[key] = body
            return {key: out[key] for key in wanted if key in out}  # key order
        return out

    def _load_docs(self, kind: str, keys: Sequence[str], for_update: bool) -> dict[str, str | None]:
        """Read ``keys`` from the database into the cache; their (cached) bodies."""
        lock = for_update and self._locking
        fetched = self._fetch_docs(kind, keys, lock)
        out: dict[str, str | None] = {}
        for key in keys:
            k = (kind, key)
            if lock:
                self._set(self._locked, k, True)
            body = fetched.get(key)
            if lock and k in self._docs and self._docs[k] != body:
                self._update_lists(kind, key, body)  # moved on since we listed it
            self._docs[k] = body
            out[key] = body
        return out

    def put_doc(self, kind: str, key: str, body: str) -> None:
        self._set(self._docs, (kind, key), body)
        if self._locking:
            self._set(self._written, (kind, key), True)
        self._q_docs.append(((kind, key), body))
        self._q_kinds.add(kind)
        if kind in self._cache.list_kinds:  # checked here: ~25 writes an order
            self._update_lists(kind, key, body)

    def delete_doc(self, kind: str, key: str) -> None:
        self._set(self._docs, (kind, key), None)
        if self._locking:
            self._set(self._written, (kind, key), True)
        self._q_docs.append(((kind, key), None))
        self._q_kinds.add(kind)
        if kind in self._cache.list_kinds:
            self._update_lists(kind, key, None)

    def docs(
        self, kind: str, prefix: str = "", *, limit: int | None = None
    ) -> list[tuple[str, str]]:
        # a listing read from the database must see this transaction's queued writes of
        # its kind; writes of other kinds stay queued (a flush is a round trip)
        if limit is not None:  # a window into a long listing: never cached
            if self.pending_kind(kind):
                self.flush()
            return self._fetch_listing(kind, prefix, limit)
        cached = self._lists.get((kind, prefix))
        if cached is not None:
            return list(cached)
        if self.pending_kind(kind):
            self.flush()
        found = self._fetch_listing(kind, prefix, None)
        self._lists[(kind, prefix)] = found
        self._cache.list_kinds.setdefault(kind, set()).add(prefix)
        return list(found)
