"""The embedded default store: SQLite from the standard library.

WAL journal, ``BEGIN IMMEDIATE`` write transactions (writers queue instead of failing
half-way), ``synchronous=FULL`` by default (an acknowledged commit survives power loss),
and a forward-only, versioned schema. One connection per thread.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from orderflow.adapters.rows import (
    COLUMNS,
    order_from_row,
    order_to_row,
    orders_from_rows,
    to_micros,
)
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import ConcurrencyConflict, InputError, StoreError, UnreadableRow

__all__ = ["MIGRATIONS", "SqliteStore"]

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "orders, audit log, idempotency keys, documents",
        (
            """CREATE TABLE orders (
                id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL,
                factory_id TEXT NOT NULL, stage TEXT NOT NULL, version INTEGER NOT NULL,
                requested_date TEXT NOT NULL, created_at INTEGER NOT NULL,
                stage_entered_at INTEGER NOT NULL, held_from TEXT, query_token_hash TEXT NOT NULL,
                verification_code TEXT NOT NULL, delivery_address TEXT NOT NULL,
                erp_id TEXT NOT NULL, erp_number TEXT NOT NULL, deadline INTEGER,
                lines TEXT NOT NULL, CHECK (version >= 0))""",
            "CREATE INDEX orders_token ON orders (query_token_hash)",
            "CREATE INDEX orders_erp ON orders (erp_id) WHERE erp_id <> ''",
            "CREATE INDEX orders_stage ON orders (stage)",
            "CREATE INDEX orders_deadline ON orders (deadline) WHERE deadline IS NOT NULL",
            """CREATE TABLE audit_log (
                idx INTEGER PRIMARY KEY, chain TEXT NOT NULL, seq INTEGER NOT NULL,
                leaf BLOB NOT NULL, data BLOB NOT NULL, UNIQUE (chain, seq))""",
            """CREATE TABLE idempotency (
                key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, result TEXT NOT NULL)""",
            """CREATE TABLE docs (
                kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
                PRIMARY KEY (kind, key)) WITHOUT ROWID""",
        ),
    ),
)
"""Schema versions in order: ``(version, description, statements)``. Never edit a
released entry; add a new one."""

_SELECT_ORDER = f"SELECT {', '.join(COLUMNS)} FROM orders WHERE id = ?"
_INSERT_ORDER = (
    f"INSERT INTO orders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_UPDATE_ORDER = (
    "UPDATE orders SET "
    + ", ".join(f"{c} = ?" for c in COLUMNS[1:])
    + " WHERE id = ? AND version = ?"
)
_FINDABLE = {"number", "query_token_hash", "erp_id"}
_UPDATE_STATE = (
    "UPDATE orders SET stage = ?, version = ?, stage_entered_at = ?, held_from = ?, "
    "deadline = ? WHERE id = ? AND version = ?"
)
_FIXED = tuple(
    c
    for c in COLUMNS
    if c
    not in ("stage", "version", "stage_entered_at", "held_from", "deadline", "verification_code")
)
_fixed = operator.attrgetter(*_FIXED)  # tuple equality checks identity first, in C


def _store_error(exc: sqlite3.Error, what: str) -> StoreError:
    err = StoreError(f"SQLite failed while {what}: {exc}")
    err.__cause__ = exc
    return err


_UPSERT_DOC = (
    "INSERT INTO docs (kind, key, body) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)
_DELETE_DOC = "DELETE FROM docs WHERE kind = ? AND key = ?"
_INSERT_AUDIT = "INSERT INTO audit_log (chain, seq, leaf, data) VALUES (?, ?, ?, ?)"
_INSERT_IDEM = "INSERT INTO idempotency (key, fingerprint, result) VALUES (?, ?, ?)"


def _state_row(order: Order, expected_version: int) -> tuple[Any, ...]:
    deadline = order.deadline
    return (
        order.stage,
        order.version,
        to_micros(order.stage_entered_at),
        order.held_from,
        None if deadline is None else to_micros(deadline),
        order.id,
        expected_version,
    )


_MISS = object()
# What a connection keeps between transactions is bounded, so a year-long batch job's
# memory does not grow with the orders it has written: past a bound a table is
# dropped whole when the next transaction begins (the hot rows, stock and master
# data, are read back once). Write-mostly documents (outbox rows, query events) would
# otherwise make up most of it.
_MAX_CACHED_ORDERS = 20_000
_MAX_CACHED_DOCS = 50_000
_MAX_CACHED_HEADS = 50_000


class _Cache:
    """What one connection has read or written, kept across its transactions.

    Valid while no other connection has committed: SQLite's ``PRAGMA data_version``
    changes exactly then, and every transaction checks it when it begins. Any rollback
    of a whole transaction clears everything.
    """

    def __init__(self) -> None:
        self.version = -1
        self.docs: dict[tuple[str, str], str | None] = {}
        self.orders: dict[str, Order | None] = {}
        self.heads: dict[str, ChainHead | None] = {}
        self.lists: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.list_kinds: set[str] = set()

    def clear(self) -> None:
        self.docs.clear()
        self.orders.clear()
        self.heads.clear()
        self.lists.clear()
        self.list_kinds.clear()


class _Level:
    """One open savepoint: where its writes start, and whether SQLite knows of it."""

    __slots__ = ("log_mark", "materialized", "name", "undo_mark")

    def __init__(self, name: str, log_mark: tuple[int, ...], undo_mark: int) -> None:
        # log_mark: the length of each write queue when the savepoint began
        self.name = name
        self.log_mark = log_mark
        self.undo_mark = undo_mark
        self.materialized = False


class _Scope:
    """A savepoint of an open transaction (a class, not a generator: one per operation)."""

    __slots__ = ("_tx",)

    def __init__(self, tx: _SqliteTx) -> None:
        self._tx = tx

    def __enter__(self) -> _SqliteTx:
        self._tx._open_level()
        return self._tx

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            self._tx._release_level()
        else:
            self._tx._rollback_level()


class _SqliteTx:
    """One ``BEGIN IMMEDIATE`` transaction with write-behind.

    It holds SQLite's only write lock, so nothing else can change the database while it
    runs. Writes are checked at once (version, uniqueness) against what the transaction
    sees, applied to the connection's cache, and queued; the queue is written with one
    ``executemany`` per statement when the transaction commits, or earlier when a read
    needs SQLite itself. A document rewritten many times in a batch (stock, exposure) is
    written once, and savepoints cost no SQL until a queued write has to cross one.

    Savepoints keep an undo log of cache entries; a savepoint only becomes a real
    SQLite ``SAVEPOINT`` if queued writes are flushed while it is open (the flush
    writes each savepoint's share of the queue on its own side of the ``SAVEPOINT``).
    """

    def __init__(self, conn: sqlite3.Connection, cache: _Cache) -> None:
        self._c = conn
        self._cache = cache
        self._docs = cache.docs
        self._orders = cache.orders
        self._heads = cache.heads
        self._lists = cache.lists
        if len(self._orders) > _MAX_CACHED_ORDERS:
            self._orders.clear()
        if len(self._docs) > _MAX_CACHED_DOCS:
            self._docs.clear()
        if len(self._heads) > _MAX_CACHED_HEADS:
            self._heads.clear()
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
        self._levels: list[_Level] = []
        # (table, key, previous value or _MISS) for every cache entry written, so a
        # savepoint rollback restores the values its writes replaced
        self._undo: list[tuple[dict[Any, Any], Any, Any]] = []
        # idempotency records and findable order fields written but maybe not flushed
        self._idem: dict[str, tuple[str, str]] = {}
        # keys SQLite was asked for and did not hold: this transaction holds the write
        # lock, so they stay absent until it writes them (saves a second SELECT per put)
        self._idem_absent: set[str] = set()
        self._found: dict[tuple[str, str], str | None] = {}

    # --- bookkeeping --------------------------------------------------------------------
    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        self._undo.append((table, key, table.get(key, _MISS)))
        table[key] = value

    def _update_lists(self, kind: str, key: str, body: str | None) -> None:
        """Keep cached listings of ``kind`` right after a write (``None`` = deleted)."""
        for (k, prefix), rows in self._lists.items():
            if k != kind or not key.startswith(prefix):
                continue
            i = bisect.bisect_left(rows, (key,))
            present = i < len(rows) and rows[i][0] == key
            if body is None:
                if present:
                    del rows[i]
            elif present:
                rows[i] = (key, body)
            else:
                rows.insert(i, (key, body))

    def savepoint(self) -> AbstractContextManager[Any]:
        return _Scope(self)

    def _open_level(self) -> None:
        # named by depth: a few distinct statements stay in sqlite3's statement cache
        marks = tuple(map(len, self._queues))
        self._levels.append(_Level(f"sp{len(self._levels)}", marks, len(self._undo)))

    def _release_level(self) -> None:
        level = self._levels.pop()
        if level.materialized:
            self._c.execute(f"RELEASE {level.name}")

    def _rollback_level(self) -> None:
        level = self._levels.pop()
        for queue, mark in zip(self._queues, level.log_mark, strict=True):
            del queue[mark:]
        if level.materialized:
            self._c.execute(f"ROLLBACK TO {level.name}")
            self._c.execute(f"RELEASE {level.name}")
        undo = self._undo
        while len(undo) > level.undo_mark:
            table, key, old = undo.pop()
            if old is _MISS:
                table.pop(key, None)
            else:
                table[key] = old
        # listings are rebuilt from SQLite (after a flush) when next asked for
        self._lists.clear()
        self._cache.list_kinds.clear()

    # --- the queue ----------------------------------------------------------------------
    def flush(self) -> None:
        """Write every queued write to SQLite (still inside the transaction)."""
        if not any(self._queues):
            return
        start: tuple[int, ...] = (0, 0, 0, 0)
        for level in self._levels:
            if level.materialized:
                continue
            self._write(start, level.log_mark)
            start = level.log_mark
            self._c.execute(f"SAVEPOINT {level.name}")
            level.materialized = True
        self._write(start, tuple(map(len, self._queues)))
        for queue in self._queues:
            queue.clear()
        for level in self._levels:
            level.log_mark = (0, 0, 0, 0)

    def _write(self, start: tuple[int, ...], stop: tuple[int, ...]) -> None:
        """Write the queued slices ``[start, stop)`` (one savepoint's share)."""
        c = self._c
        docs = dict(self._q_docs[start[0] : stop[0]])  # the last write of a key wins
        if docs:
            c.executemany(
                _UPSERT_DOC, [(k, key, b) for (k, key), b in docs.items() if b is not None]
            )
            c.executemany(_DELETE_DOC, [k for k, b in docs.items() if b is None])
        orders: dict[str, list[Any]] = {}
        for order, inserted, expected, narrow in self._q_orders[start[1] : stop[1]]:
            seen = orders.get(order.id)
            if seen is None:
                orders[order.id] = [order, inserted, expected, narrow]
            else:
                seen[0] = order
                seen[3] = seen[3] and narrow
        if orders:
            c.executemany(
                _INSERT_ORDER, [order_to_row(o) for o, new, _, _ in orders.values() if new]
            )
            full = [
                (*order_to_row(o)[1:], o.id, v)
                for o, new, v, only_state in orders.values()
                if not new and not only_state
            ]
            state = [_state_row(o, v) for o, new, v, only in orders.values() if not new and only]
            for sql, rows in ((_UPDATE_ORDER, full), (_UPDATE_STATE, state)):
                if rows and c.executemany(sql, rows).rowcount != len(rows):
                    raise StoreError("an order row changed outside this transaction")
        if stop[2] > start[2]:
            c.executemany(_INSERT_AUDIT, self._q_audit[start[2] : stop[2]])
        if stop[3] > start[3]:
            c.executemany(_INSERT_IDEM, self._q_idem[start[3] : stop[3]])

    # --- orders -------------------------------------------------------------------------
    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        cached = self._orders.get(order_id, _MISS)
        if cached is not _MISS:
            return cached  # type: ignore[return-value]
        row = self._c.execute(_SELECT_ORDER, (order_id,)).fetchone()
        order = None if row is None else order_from_row(row)
        self._orders[order_id] = order
        return order

    def find_order_id(self, field: str, value: str) -> str | None:
        if field not in _FINDABLE:
            raise InputError(f"cannot look orders up by {field!r}")
        found = self._found.get((field, value), _MISS)
        if isinstance(found, str):
            return found
        if found is None:  # a queued change moved the value away: ask SQLite itself
            self.flush()
        # "<> ''" lets SQLite use the partial erp_id index
        row = self._c.execute(
            f"SELECT id FROM orders WHERE {field} = ? AND {field} <> ''", (value,)
        ).fetchone()
        if row is None:
            return None
        order = self._orders.get(row[0])
        if isinstance(order, Order) and getattr(order, field) != value:
            self.flush()  # the row is about to change: read what it will say
            return self.find_order_id(field, value)
        return str(row[0])

    def _index(self, old: Order | None, new: Order) -> None:
        for field in _FINDABLE:
            value = getattr(new, field)
            before = None if old is None else getattr(old, field)
            if before is not None and before != value:
                self._set(self._found, (field, before), None)
            if value:
                self._set(self._found, (field, value), new.id)

    def insert_order(self, order: Order) -> None:
        if self.get_order(order.id) is not None or (
            self.find_order_id("number", order.number) is not None
        ):
            raise ConcurrencyConflict(order.id, -1, f"order {order.number} already exists")
        self._index(None, order)
        self._set(self._orders, order.id, order)
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
        self._q_orders.append((order, False, expected_version, narrow))

    # --- audit --------------------------------------------------------------------------
    def chain_head(self, chain: str) -> ChainHead | None:
        cached = self._heads.get(chain, _MISS)
        if cached is not _MISS:
            return cached  # type: ignore[return-value]
        row = self._c.execute(
            "SELECT seq, leaf FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1", (chain,)
        ).fetchone()
        head = None if row is None else ChainHead(row[0], bytes(row[1]))
        self._heads[chain] = head
        return head

    def append_audit(self, chain: str, seq: int, data: bytes, leaf: bytes) -> None:
        head = self.chain_head(chain)
        if head is not None and seq <= head.seq:
            raise ConcurrencyConflict(chain, seq - 1, "audit chain moved on")
        self._set(self._heads, chain, ChainHead(seq, leaf))
        self._q_audit.append((chain, seq, leaf, data))

    # --- idempotency --------------------------------------------------------------------
    def get_idempotent(self, key: str) -> tuple[str, str] | None:
        queued = self._idem.get(key)
        if queued is not None:
            return queued
        if key in self._idem_absent:
            return None
        row = self._c.execute(
            "SELECT fingerprint, result FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            self._idem_absent.add(key)
            return None
        return (row[0], row[1])

    def put_idempotent(self, key: str, fingerprint: str, result: str) -> None:
        if self.get_idempotent(key) is not None:
            raise ConcurrencyConflict(key, -1, "idempotency key used concurrently")
        self._set(self._idem, key, (fingerprint, result))
        self._q_idem.append((key, fingerprint, result))

    # --- documents ----------------------------------------------------------------------
    def get_doc(self, kind: str, key: str, *, for_update: bool = False) -> str | None:
        cached = self._docs.get((kind, key), _MISS)
        if cached is not _MISS:
            return cached  # type: ignore[return-value]
        row = self._c.execute(
            "SELECT body FROM docs WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        body = None if row is None else str(row[0])
        self._docs[(kind, key)] = body
        return body

    def put_doc(self, kind: str, key: str, body: str) -> None:
        self._set(self._docs, (kind, key), body)
        self._q_docs.append(((kind, key), body))
        if kind in self._cache.list_kinds:  # checked here: ~25 writes an order
            self._update_lists(kind, key, body)

    def delete_doc(self, kind: str, key: str) -> None:
        self._set(self._docs, (kind, key), None)
        self._q_docs.append(((kind, key), None))
        if kind in self._cache.list_kinds:
            self._update_lists(kind, key, None)

    def docs(
        self, kind: str, prefix: str = "", *, limit: int | None = None
    ) -> list[tuple[str, str]]:
        if limit is not None:  # a window into a long listing: never cached
            self.flush()
            rows = self._c.execute(
                "SELECT key, body FROM docs WHERE kind = ? AND key >= ? AND key < ? "
                "ORDER BY key LIMIT ?",
                (kind, prefix, prefix + "\U0010ffff", limit),
            ).fetchall()
            return [(str(k), str(b)) for k, b in rows]
        cached = self._lists.get((kind, prefix))
        if cached is not None:
            return list(cached)
        self.flush()
        rows = self._c.execute(
            "SELECT key, body FROM docs WHERE kind = ? AND key >= ? AND key < ? ORDER BY key",
            (kind, prefix, prefix + "\U0010ffff"),
        ).fetchall()
        found = [(str(k), str(b)) for k, b in rows]
        self._lists[(kind, prefix)] = found
        self._cache.list_kinds.add(kind)
        return list(found)


class SqliteStore:
    """A :class:`~orderflow.ports.Store` in one SQLite file (or ``:memory:``).

    ``synchronous`` is SQLite's durability setting: ``FULL`` (default) makes every
    acknowledged commit survive power loss; ``NORMAL`` survives application crashes
    only and is much faster on slow disks.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        origin: str = "orderflow.local/sqlite",
        synchronous: str = "FULL",
    ) -> None:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise InputError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path = str(path)
        self.origin = origin
        self._synchronous = synchronous.upper()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._caches: dict[int, _Cache] = {}
        self._all_lock = threading.Lock()
        self._shared_memory = self.path == ":memory:"
        if self._shared_memory:
            # one connection for every thread: a ":memory:" database is per connection
            self._memory_conn = self._connect()
            self._memory_lock = threading.RLock()
        self._migrate()

    # --- connections --------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=30.0,
                check_same_thread=False,
                cached_statements=256,
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA busy_timeout = 30000")
            # a year of orders is a few hundred MB: keep hot index pages in process memory
            conn.execute("PRAGMA cache_size = -65536")
            # mapped pages count as the process's resident memory: 64 MiB keeps the hot
            # pages mapped without a year's database showing up as a 256 MiB footprint
            conn.execute("PRAGMA mmap_size = 67108864")
        except sqlite3.Error as exc:
            raise _store_error(exc, f"opening {self.path}") from exc
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._shared_memory:
            return self._memory_conn
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _migrate(self) -> None:
        with self.transaction():
            conn = self._conn()
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            have = int(current.fetchone()[0])
            latest = MIGRATIONS[-1][0]
            if have > latest:
                raise StoreError(
                    f"{self.path} has schema version {have}, newer than this orderflow "
                    f"knows ({latest}); upgrade orderflow"
                )
            for version, description, statements in MIGRATIONS:
                if version > have:
                    for sql in statements:
                        conn.execute(sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
                        (version, description),
                    )

    def schema_version(self) -> int:
        """The schema version of the database file."""
        row = self._conn().execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0])

    # --- transactions -------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[_SqliteTx]:
        """A ``BEGIN IMMEDIATE`` transaction; nested calls in one thread are savepoints."""
        current: _SqliteTx | None = getattr(self._local, "tx", None)
        if current is not None:
            return _Scope(current)
        return self._begin()

    @contextmanager
    def _begin(self) -> Iterator[_SqliteTx]:
        if self._shared_memory:
            self._memory_lock.acquire()
        conn = self._conn()
        cache = self._cache_for(conn)
        tx = _SqliteTx(conn, cache)
        try:
            conn.execute("BEGIN IMMEDIATE")
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version != cache.version:  # another connection committed: forget it all
                cache.clear()
                cache.version = version
        except sqlite3.Error as exc:
            if self._shared_memory:
                self._memory_lock.release()
            raise _store_error(exc, "starting a transaction") from exc
        self._local.tx = tx
        try:
            yield tx
        except BaseException as exc:
            self._local.tx = None
            cache.clear()
            try:
                conn.execute("ROLLBACK")
            finally:
                if self._shared_memory:
                    self._memory_lock.release()
            if isinstance(exc, sqlite3.Error):
                raise _store_error(exc, "writing") from exc
            raise
        self._local.tx = None
        try:
            tx.flush()
            conn.execute("COMMIT")
        except BaseException as exc:
            cache.clear()
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _store_error(exc, "committing") from exc
            raise
        finally:
            if self._shared_memory:
                self._memory_lock.release()

    # --- reads --------------------------------------------------------------------------
    def audit_entries(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Stored audit bytes in global order (index = rowid - 1)."""
        return self._audit_column("data", start, stop)

    def audit_leaves(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Stored leaf hashes in global order, as written beside each entry."""
        return self._audit_column("leaf", start, stop)

    def _audit_column(self, column: str, start: int, stop: int | None) -> list[bytes]:
        hi = -1 if stop is None else stop
        rows = self._read(
            f"SELECT {column} FROM audit_log WHERE idx > ? AND (? < 0 OR idx <= ?) ORDER BY idx",
            (start, hi, hi),
        )
        return [bytes(r[0]) for r in rows]

    def in_transaction(self) -> bool:
        """Whether the calling thread has a transaction open."""
        return getattr(self._local, "tx", None) is not None

    def audit_chain(self, chain: str) -> list[tuple[int, bytes]]:
        """One chain's ``(index, bytes)`` in sequence order."""
        rows = self._read(
            "SELECT idx - 1, data FROM audit_log WHERE chain = ? ORDER BY seq", (chain,)
        )
        return [(int(i), bytes(d)) for i, d in rows]

    def audit_size(self) -> int:
        """Number of audit entries."""
        return int(self._read("SELECT COUNT(*) FROM audit_log", ())[0][0])

    def orders(
        self, *, on_unreadable: Callable[[UnreadableRow], None] | None = None
    ) -> Iterator[Order]:
        """Every stored order, streamed."""
        rows = self._stream(f"SELECT {', '.join(COLUMNS)} FROM orders", ())
        return orders_from_rows(rows, on_unreadable)

    def orders_due(
        self,
        before: dt.datetime,
        *,
        on_unreadable: Callable[[UnreadableRow], None] | None = None,
    ) -> Iterator[Order]:
        """Orders whose stage deadline is earlier than ``before`` (uses an index)."""
        rows = self._read(
            f"SELECT {', '.join(COLUMNS)} FROM orders WHERE deadline IS NOT NULL AND deadline < ?",
            (to_micros(before),),
        )
        return orders_from_rows(rows, on_unreadable)

    def _stream(self, sql: str, params: tuple[object, ...]) -> Iterator[tuple[Any, ...]]:
        """Rows of a long read, a batch at a time (a year's orders are never all held);
        a private connection, so the caller may write while it iterates."""
        if self._shared_memory or getattr(self._local, "tx", None) is not None:
            yield from self._read(sql, params)  # in memory, or must see its own writes
            return
        conn = self._connect()
        try:
            cursor = conn.execute(sql, params)
            while rows := cursor.fetchmany(2_000):
                yield from rows
        except sqlite3.Error as exc:
            raise _store_error(exc, "reading") from exc
        finally:
            conn.close()

    def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        current: _SqliteTx | None = getattr(self._local, "tx", None)
        if current is not None:  # this thread's open transaction: let it see its own writes
            current.flush()
        try:
            if self._shared_memory:
                with self._memory_lock:
                    return self._memory_conn.execute(sql, params).fetchall()
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _store_error(exc, "reading") from exc

    def execute_raw(self, sql: str, params: tuple[object, ...] = ()) -> None:
        """Run raw SQL outside orderflow's checks (tests use it to tamper with rows)."""
        conn = self._conn()
        conn.execute(sql, params)
        self._cache_for(conn).clear()

    def _cache_for(self, conn: sqlite3.Connection) -> _Cache:
        caches: dict[int, _Cache] = self._caches
        cache = caches.get(id(conn))
        if cache is None:
            cache = caches[id(conn)] = _Cache()
        return cache

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
