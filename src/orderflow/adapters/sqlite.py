"""The embedded default store: SQLite from the standard library.

WAL journal, ``BEGIN IMMEDIATE`` write transactions (writers queue instead of failing
half-way), ``synchronous=FULL`` by default (an acknowledged commit survives power loss),
and a forward-only, versioned schema. One connection per thread.
"""

from __future__ import annotations

import bisect
import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orderflow.adapters.rows import COLUMNS, order_from_row, order_to_row, to_micros
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import ConcurrencyConflict, InputError, StoreError

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
    c for c in COLUMNS if c not in ("stage", "version", "stage_entered_at", "held_from", "deadline")
)


def _store_error(exc: sqlite3.Error, what: str) -> StoreError:
    err = StoreError(f"SQLite failed while {what}: {exc}")
    err.__cause__ = exc
    return err


_MISS = object()
_MAX_CACHED_ORDERS = 50_000


class _Cache:
    """What one connection has read or written, kept across its transactions.

    Valid while no other connection has committed: SQLite's ``PRAGMA data_version``
    changes exactly then, and every transaction checks it when it begins. Any rollback
    clears everything.
    """

    def __init__(self) -> None:
        self.version = -1
        self.docs: dict[tuple[str, str], str | None] = {}
        self.orders: dict[str, Order | None] = {}
        self.heads: dict[str, ChainHead | None] = {}
        self.lists: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.list_kinds: set[str] = set()
        # (table, key) of every cached entry written since the outermost savepoint began;
        # a savepoint rollback forgets just those (they may hold rolled-back values)
        self.written: list[tuple[dict[Any, Any], Any]] = []

    def forget_since(self, mark: int) -> None:
        """Drop cached entries written after ``mark`` (a savepoint was rolled back)."""
        written = self.written
        while len(written) > mark:
            table, key = written.pop()
            table.pop(key, None)
        self.lists.clear()
        self.list_kinds.clear()

    def clear(self) -> None:
        self.written.clear()
        self.docs.clear()
        self.orders.clear()
        self.heads.clear()
        self.lists.clear()
        self.list_kinds.clear()


class _SqliteTx:
    """One ``BEGIN IMMEDIATE`` transaction.

    It holds SQLite's only write lock, so nothing else can change the database while it
    runs: rows it has read or written are kept in a write-through cache for the rest of
    the transaction (a batch of operations then reads master data, stock and orders
    once). The cache is dropped whenever a savepoint rolls back.
    """

    def __init__(self, conn: sqlite3.Connection, cache: _Cache) -> None:
        self._c = conn
        self._depth = 0
        self._cache = cache
        self._docs = cache.docs
        self._orders = cache.orders
        self._heads = cache.heads
        self._lists = cache.lists
        if len(self._orders) > _MAX_CACHED_ORDERS:
            self._orders.clear()

    def _update_lists(self, kind: str, key: str, body: str | None) -> None:
        """Keep cached listings of ``kind`` right after a write (``None`` = deleted)."""
        if kind not in self._cache.list_kinds:
            return
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

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        # named by depth, not by a running count: a few distinct statements stay in
        # sqlite3's statement cache instead of evicting the hot INSERT/UPDATEs
        name = f"sp{self._depth}"
        self._depth += 1
        mark = len(self._cache.written)
        self._c.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._cache.forget_since(mark)
            self._c.execute(f"ROLLBACK TO {name}")
            self._c.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        self._c.execute(f"RELEASE {name}")

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
        # "<> ''" lets SQLite use the partial erp_id index
        row = self._c.execute(
            f"SELECT id FROM orders WHERE {field} = ? AND {field} <> ''", (value,)
        ).fetchone()
        return None if row is None else str(row[0])

    def insert_order(self, order: Order) -> None:
        try:
            self._c.execute(_INSERT_ORDER, order_to_row(order))
        except sqlite3.IntegrityError as exc:
            raise ConcurrencyConflict(order.id, -1, f"order {order.number} already exists") from exc
        self._orders[order.id] = order
        self._cache.written.append((self._orders, order.id))

    def update_order(self, order: Order, expected_version: int) -> None:
        old = self._orders.get(order.id)
        if isinstance(old, Order) and all(
            getattr(old, f) is getattr(order, f) or getattr(old, f) == getattr(order, f)
            for f in _FIXED
        ):
            # only the workflow columns changed: a narrow UPDATE skips re-encoding the
            # lines and touching the number/token/ERP indexes
            deadline = order.deadline
            cur = self._c.execute(
                _UPDATE_STATE,
                (
                    order.stage,
                    order.version,
                    to_micros(order.stage_entered_at),
                    order.held_from,
                    None if deadline is None else to_micros(deadline),
                    order.id,
                    expected_version,
                ),
            )
        else:
            row = order_to_row(order)
            cur = self._c.execute(_UPDATE_ORDER, (*row[1:], order.id, expected_version))
        if cur.rowcount != 1:
            self._orders.pop(order.id, None)
            raise ConcurrencyConflict(order.id, expected_version)
        self._orders[order.id] = order
        self._cache.written.append((self._orders, order.id))

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
        try:
            self._c.execute(
                "INSERT INTO audit_log (chain, seq, leaf, data) VALUES (?, ?, ?, ?)",
                (chain, seq, leaf, data),
            )
        except sqlite3.IntegrityError as exc:
            self._heads.pop(chain, None)
            raise ConcurrencyConflict(chain, seq - 1, "audit chain moved on") from exc
        self._heads[chain] = ChainHead(seq, leaf)
        self._cache.written.append((self._heads, chain))

    def get_idempotent(self, key: str) -> tuple[str, str] | None:
        row = self._c.execute(
            "SELECT fingerprint, result FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def put_idempotent(self, key: str, fingerprint: str, result: str) -> None:
        try:
            self._c.execute(
                "INSERT INTO idempotency (key, fingerprint, result) VALUES (?, ?, ?)",
                (key, fingerprint, result),
            )
        except sqlite3.IntegrityError as exc:
            raise ConcurrencyConflict(key, -1, "idempotency key used concurrently") from exc

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
        self._c.execute(
            "INSERT INTO docs (kind, key, body) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
            (kind, key, body),
        )
        self._docs[(kind, key)] = body
        self._cache.written.append((self._docs, (kind, key)))
        self._update_lists(kind, key, body)

    def delete_doc(self, kind: str, key: str) -> None:
        self._c.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))
        self._docs[(kind, key)] = None
        self._cache.written.append((self._docs, (kind, key)))
        self._update_lists(kind, key, None)

    def docs(self, kind: str, prefix: str = "") -> list[tuple[str, str]]:
        cached = self._lists.get((kind, prefix))
        if cached is not None:
            return list(cached)
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
            conn.execute("PRAGMA mmap_size = 268435456")
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
    @contextmanager
    def transaction(self) -> Iterator[_SqliteTx]:
        """A ``BEGIN IMMEDIATE`` transaction; nested calls in one thread are savepoints."""
        current: _SqliteTx | None = getattr(self._local, "tx", None)
        if current is not None:
            with current.savepoint():
                yield current
            return
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
            cache.written.clear()
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
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            cache.clear()
            conn.execute("ROLLBACK")
            raise _store_error(exc, "committing") from exc
        finally:
            if self._shared_memory:
                self._memory_lock.release()

    # --- reads --------------------------------------------------------------------------
    def audit_entries(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Stored audit bytes in global order (index = rowid - 1)."""
        hi = -1 if stop is None else stop
        rows = self._read(
            "SELECT data FROM audit_log WHERE idx > ? AND (? < 0 OR idx <= ?) ORDER BY idx",
            (start, hi, hi),
        )
        return [bytes(r[0]) for r in rows]

    def audit_chain(self, chain: str) -> list[tuple[int, bytes]]:
        """One chain's ``(index, bytes)`` in sequence order."""
        rows = self._read(
            "SELECT idx - 1, data FROM audit_log WHERE chain = ? ORDER BY seq", (chain,)
        )
        return [(int(i), bytes(d)) for i, d in rows]

    def audit_size(self) -> int:
        """Number of audit entries."""
        return int(self._read("SELECT COUNT(*) FROM audit_log", ())[0][0])

    def orders(self) -> Iterator[Order]:
        """Every stored order, streamed."""
        for row in self._read(f"SELECT {', '.join(COLUMNS)} FROM orders", ()):
            yield order_from_row(row)

    def orders_due(self, before: dt.datetime) -> Iterator[Order]:
        """Orders whose stage deadline is earlier than ``before`` (uses an index)."""
        rows = self._read(
            f"SELECT {', '.join(COLUMNS)} FROM orders WHERE deadline IS NOT NULL AND deadline < ?",
            (to_micros(before),),
        )
        for row in rows:
            yield order_from_row(row)

    def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
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
