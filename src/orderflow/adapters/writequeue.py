"""The write queue of a write-behind transaction, and its savepoints.

Writes are queued per table in the order made; a savepoint is a mark in each queue plus
a mark in an undo log of cache entries, and becomes a real SQL ``SAVEPOINT`` only when a
flush has to write queued writes on both of its sides (:meth:`QueuedTx.flush`). The
read-through cache and the store API on top are :mod:`orderflow.adapters.writebehind`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from orderflow.adapters.undo import MISSING, UndoStep, undo_to
from orderflow.audit import ChainHead
from orderflow.domain.order import Order

__all__ = ["QueuedTx", "Scope", "Slice", "TxCache"]

_MISS = MISSING  # also a cache's "not looked up yet" (writebehind)


class TxCache:
    """What a connection has read or written (documents, orders, chain heads, listings).

    SQLite keeps one per connection across transactions; PostgreSQL one per transaction.
    """

    def __init__(self) -> None:
        self.version = -1
        self.docs: dict[tuple[str, str], str | None] = {}
        self.orders: dict[str, Order | None] = {}
        self.heads: dict[str, ChainHead | None] = {}
        self.lists: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.list_kinds: dict[str, set[str]] = {}
        """kind -> the prefixes of its cached listings (a write updates only those)"""

    def clear(self) -> None:
        self.docs.clear()
        self.orders.clear()
        self.heads.clear()
        self.lists.clear()
        self.list_kinds.clear()


class _Level:
    """One open savepoint: where its writes start, and whether the database knows of it."""

    __slots__ = ("log_mark", "materialized", "name", "undo_mark")

    def __init__(self, name: str, log_mark: tuple[int, ...], undo_mark: int) -> None:
        # log_mark: the length of each write queue when the savepoint began
        self.name = name
        self.log_mark = log_mark
        self.undo_mark = undo_mark
        self.materialized = False


class Scope:
    """A savepoint of an open transaction (a class, not a generator: one per operation)."""

    __slots__ = ("_tx",)

    def __init__(self, tx: QueuedTx) -> None:
        self._tx = tx

    def __enter__(self) -> Any:
        self._tx._open_level()
        return self._tx

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            try:
                self._tx._check_ahead()
            except BaseException:
                self._tx._rollback_level()
                raise
            self._tx._release_level()
        else:
            self._tx._rollback_level()


class Slice:
    """One savepoint's share of the queue, collapsed: the last write of a key wins."""

    __slots__ = ("audit", "deletes", "full", "idem", "inserts", "state", "upserts")

    def __init__(self) -> None:
        self.upserts: list[tuple[str, str, str]] = []
        self.deletes: list[tuple[str, str]] = []
        self.inserts: list[Order] = []
        self.full: list[tuple[Order, int]] = []  # (order, expected version)
        self.state: list[tuple[Order, int]] = []  # only the workflow columns changed
        self.audit: list[tuple[str, int, bytes, bytes]] = []
        self.idem: list[tuple[str, str, str]] = []


class QueuedTx:
    """Queued writes and savepoints over a :class:`TxCache` (the adapter-independent
    bottom half of :class:`~orderflow.adapters.writebehind.WriteBehindTx`)."""

    def __init__(self, cache: TxCache) -> None:
        self._cache = cache
        self._docs = cache.docs
        self._orders = cache.orders
        self._heads = cache.heads
        self._lists = cache.lists
        # queued writes, one queue per table, each in the order made, with the values
        # as of when they were made
        self._q_docs: list[tuple[tuple[str, str], str | None]] = []
        self._q_orders: list[tuple[Order, bool, int, bool]] = []
        self._q_audit: list[tuple[str, int, bytes, bytes]] = []
        self._q_idem: list[tuple[str, str, str]] = []
        self._queues: tuple[list[Any], ...] = (
            self._q_docs,
            self._q_orders,
            self._q_audit,
            self._q_idem,
        )
        self._q_kinds: set[str] = set()  # the kinds of the queued document writes
        self._levels: list[_Level] = []
        # (table, key, previous value or _MISS) for every cache entry written, so a
        # savepoint rollback restores the values its writes replaced
        self._undo: list[UndoStep] = []

    def _write(self, part: Slice) -> None:
        """Write one savepoint's share of the queue."""
        raise NotImplementedError

    def _exec(self, sql: str) -> None:
        """Run a savepoint statement (``SAVEPOINT``, ``RELEASE``, ``ROLLBACK TO``)."""
        raise NotImplementedError

    def _undo_savepoint(self, name: str) -> None:
        """Roll the database back to the savepoint ``name`` and release it."""
        self._exec(f"ROLLBACK TO SAVEPOINT {name}")
        self._exec(f"RELEASE SAVEPOINT {name}")

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        self._undo.append((table, key, table.get(key, _MISS)))
        table[key] = value

    def _check_ahead(self) -> None:
        """Before a savepoint is released: read what was sent ahead in it (a store that
        sends nothing ahead has nothing to read)."""

    def savepoint(self) -> AbstractContextManager[Any]:
        return Scope(self)

    def _open_level(self) -> None:
        # named by depth: a few distinct statements stay in the statement caches
        marks = tuple(map(len, self._queues))
        self._levels.append(_Level(f"sp{len(self._levels)}", marks, len(self._undo)))

    def _release_level(self) -> None:
        level = self._levels.pop()
        if level.materialized:
            self._exec(f"RELEASE SAVEPOINT {level.name}")

    def _rollback_level(self) -> None:
        level = self._levels.pop()
        for queue, mark in zip(self._queues, level.log_mark, strict=True):
            del queue[mark:]
        if level.materialized:
            self._undo_savepoint(level.name)
        undo_to(self._undo, level.undo_mark)
        # listings are rebuilt from the database (after a flush) when next asked for
        self._lists.clear()
        self._cache.list_kinds.clear()

    # --- the queue ----------------------------------------------------------------------
    def pending(self) -> bool:
        """Whether writes are queued."""
        return any(self._queues)

    def pending_kind(self, kind: str) -> bool:
        """Whether a write of a document of ``kind`` may be queued (after a savepoint
        rollback it may say so of a write that is gone: it errs on the side of a flush)."""
        return kind in self._q_kinds

    def flush(self) -> None:
        """Write every queued write to the database (still inside the transaction)."""
        if not any(self._queues):
            return
        start: tuple[int, ...] = (0, 0, 0, 0)
        for level in self._levels:
            if level.materialized:
                continue
            self._write(self._slice(start, level.log_mark))
            start = level.log_mark
            self._exec(f"SAVEPOINT {level.name}")
            level.materialized = True
        self._write(self._slice(start, tuple(map(len, self._queues))))
        for queue in self._queues:
            queue.clear()
        self._q_kinds.clear()
        for level in self._levels:
            level.log_mark = (0, 0, 0, 0)

    def _slice(self, start: tuple[int, ...], stop: tuple[int, ...]) -> Slice:
        """The queued slices ``[start, stop)`` (one savepoint's share), collapsed."""
        part = Slice()
        docs = dict(self._q_docs[start[0] : stop[0]])  # the last write of a key wins
        for (kind, key), body in docs.items():
            if body is None:
                part.deletes.append((kind, key))
            else:
                part.upserts.append((kind, key, body))
        orders: dict[str, list[Any]] = {}
        for order, inserted, expected, narrow in self._q_orders[start[1] : stop[1]]:
            seen = orders.get(order.id)
            if seen is None:
                orders[order.id] = [order, inserted, expected, narrow]
            else:
                seen[0] = order
                seen[3] = seen[3] and narrow
        for order, inserted, expected, narrow in orders.values():
            if inserted:
                part.inserts.append(order)
            else:
                (part.state if narrow else part.full).append((order, expected))
        part.audit = self._q_audit[start[2] : stop[2]]
        part.idem = self._q_idem[start[3] : stop[3]]
        return part
