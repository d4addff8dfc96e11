"""A :class:`~orderflow.ports.Store` on PostgreSQL (the ``postgres`` extra, psycopg 3).

Several plants, several application servers and several processes can share one
PostgreSQL database: every plant (or plant group) keeps its tables in its own schema
(``schema=``), and every write is an ordinary ``READ COMMITTED`` transaction.

Write path (no table-wide lock anywhere)
    * ``get_order(for_update=True)`` is ``SELECT ... FOR UPDATE``: it locks one order row.
    * ``update_order`` is ``UPDATE ... WHERE id = %s AND version = %s``; when no row matches
      (another writer moved the version on) it raises
      :class:`~orderflow.exceptions.ConcurrencyConflict`: a lost update is impossible.
    * ``append_audit`` inserts into ``audit_log`` whose ``UNIQUE (chain, seq)`` turns two
      writers extending the same chain into a ``ConcurrencyConflict`` for the second.
    * ``get_doc(for_update=True)`` is ``SELECT ... FOR UPDATE``; when the document does not
      exist yet, a transaction-scoped advisory lock on its key serialises the writers
      that want to create it. ``put_doc`` is an ``INSERT ... ON CONFLICT DO UPDATE``.
    * Serialization failures, deadlocks, lock timeouts and unique violations become
      ``ConcurrencyConflict`` (reload and retry); every other driver error becomes
      :class:`~orderflow.exceptions.StoreError` with the psycopg error as ``__cause__``.
    * A nested :meth:`PostgresStore.transaction` in the same thread is a savepoint.

Global log order: the integrator
    A writer cannot know the global index of its audit entry without serialising all
    writers (a table lock or a counter row every transaction would have to update). So
    writers insert their entry with ``idx`` NULL; the ``bigserial`` column ``id`` only
    records insertion order. :meth:`PostgresStore.integrate` then runs one transaction
    that takes ``pg_advisory_xact_lock`` for the schema (one integrator at a time, in
    any process), reads the next free index from the one-row ``audit_integrator``
    table, and numbers the rows that are *committed* and still have ``idx`` NULL
    consecutively, by ``id``, in batches. Because the marker is "``idx`` is NULL" and not
    an ``id`` watermark, a row whose transaction commits after a row with a higher
    ``id`` was already numbered is not skipped: it is simply numbered by the next
    integration (the global order is commit order as observed by the integrator). The
    lock and the ``WHERE idx IS NULL`` update mean no row is numbered twice, and the
    counter row means no index is used twice or left out. Per-order chains stay valid
    whatever the interleaving: an entry is only written after its predecessor committed,
    so the predecessor is always numbered first.

    :meth:`~PostgresStore.audit_entries`, :meth:`~PostgresStore.audit_chain` and
    :meth:`~PostgresStore.audit_size` integrate first and then return integrated
    entries only. ``chain_head`` (used under the order's row lock to build the next
    entry) sees the latest committed entry of a chain, integrated or not.

Connections: a small built-in pool (``pool_size`` connections at most, opened on
demand); a transaction holds one connection from ``BEGIN`` to ``COMMIT``. Reads outside
a transaction borrow a connection for one statement. A forked child process opens its
own connections and leaves the parent's sessions alone. The schema is versioned
(``schema_migrations``), forward-only, and migrated under an advisory lock, so several
processes may open the same schema at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from orderflow._extras import require
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

if TYPE_CHECKING:
    import psycopg

__all__ = ["MIGRATIONS", "PostgresStore"]

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "orders, audit log with integrator, idempotency keys, documents",
        (
            """CREATE TABLE orders (
                id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL,
                factory_id TEXT NOT NULL, stage TEXT NOT NULL, version BIGINT NOT NULL,
                requested_date TEXT NOT NULL, created_at BIGINT NOT NULL,
                stage_entered_at BIGINT NOT NULL, held_from TEXT, query_token_hash TEXT NOT NULL,
                verification_code TEXT NOT NULL, delivery_address TEXT NOT NULL,
                erp_id TEXT NOT NULL, erp_number TEXT NOT NULL, deadline BIGINT,
                lines TEXT NOT NULL, CHECK (version >= 0))""",
            "CREATE INDEX orders_token ON orders (query_token_hash)",
            "CREATE INDEX orders_erp ON orders (erp_id) WHERE erp_id <> ''",
            "CREATE INDEX orders_stage ON orders (stage)",
            "CREATE INDEX orders_deadline ON orders (deadline) WHERE deadline IS NOT NULL",
            """CREATE TABLE audit_log (
                id BIGSERIAL PRIMARY KEY, idx BIGINT UNIQUE, chain TEXT NOT NULL,
                seq BIGINT NOT NULL, leaf BYTEA NOT NULL, data BYTEA NOT NULL,
                UNIQUE (chain, seq), CHECK (idx >= 0), CHECK (seq >= 0))""",
            "CREATE INDEX audit_log_pending ON audit_log (id) WHERE idx IS NULL",
            """CREATE TABLE audit_integrator (
                singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
                next_idx BIGINT NOT NULL CHECK (next_idx >= 0))""",
            "INSERT INTO audit_integrator (next_idx) VALUES (0)",
            """CREATE TABLE idempotency (
                key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, result TEXT NOT NULL)""",
            """CREATE TABLE docs (
                kind TEXT NOT NULL, key TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL,
                PRIMARY KEY (kind, key))""",
        ),
    ),
)
"""Schema versions in order: ``(version, description, statements)``. Never edit a
released entry; add a new one."""

_LOCK_NAMESPACE = 0x6F66  # "of": first key of orderflow's two-part advisory locks
_MIGRATE, _INTEGRATE = 1, 2  # lock purposes, mixed into the second key
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_CONFLICT_STATES = {
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "55P03": "lock timeout",
    "23505": "unique key taken",
}
_FINDABLE = {"number", "query_token_hash", "erp_id"}
_IDLE, _INTRANS = 0, 2  # libpq PQtransactionStatus values (psycopg.pq.TransactionStatus)

_COLS = ", ".join(COLUMNS)
_SELECT_ORDER = f"SELECT {_COLS} FROM orders WHERE id = %s"
_SELECT_ORDER_LOCKED = _SELECT_ORDER + " FOR UPDATE"
_INSERT_ORDER = (
    f"INSERT INTO orders ({_COLS}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
    "ON CONFLICT DO NOTHING"
)
_UPDATE_ORDER = (
    "UPDATE orders SET "
    + ", ".join(f"{c} = %s" for c in COLUMNS[1:])
    + " WHERE id = %s AND version = %s"
)
_SELECT_DOC = "SELECT body FROM docs WHERE kind = %s AND key = %s"
_INTEGRATE_BATCH = """UPDATE audit_log a SET idx = %s + t.rn
    FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn
          FROM audit_log WHERE idx IS NULL ORDER BY id LIMIT %s) t
    WHERE a.id = t.id"""


def _lock_key(schema: str, purpose: int) -> tuple[int, int]:
    """The two ``int4`` keys of an advisory lock owned by ``schema`` for ``purpose``."""
    digest = zlib.crc32(f"{purpose}:{schema}".encode())
    return _LOCK_NAMESPACE, digest - (1 << 32) if digest >= 1 << 31 else digest


def _prefix_end(prefix: str) -> str | None:
    """The least string greater than every string starting with ``prefix`` (code points)."""
    stem = prefix.rstrip("\U0010ffff")
    if not stem:
        return None
    nxt = ord(stem[-1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be stored; skip the block
        nxt = 0xE000
    return stem[:-1] + chr(nxt)


def _error(exc: Exception, what: str, key: str = "?", version: int = -1) -> StoreError:
    """Map a psycopg error to ConcurrencyConflict (retryable) or StoreError, chained."""
    state = getattr(exc, "sqlstate", None)
    err: StoreError
    if state in _CONFLICT_STATES:
        err = ConcurrencyConflict(key, version, f"{_CONFLICT_STATES[state]} while {what}")
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err = StoreError(f"PostgreSQL failed while {what}: {first}")
    err.__cause__ = exc
    return err


class _Pool:
    """At most ``size`` connections, opened on demand and reused (LIFO)."""

    def __init__(self, store: PostgresStore, size: int, timeout: float) -> None:
        self._store = store
        self._size = size
        self._timeout = timeout
        self._cond = threading.Condition()
        self._idle: list[psycopg.Connection[Any]] = []
        self._all: set[psycopg.Connection[Any]] = set()
        self._opening = 0
        self._closed = False
        self._pid = os.getpid()

    def _forget_after_fork(self) -> None:
        """In a forked child: drop the parent's connections without closing them (closing
        would end the parent's sessions; psycopg leaves them alone when collected)."""
        self._pid = os.getpid()
        self._idle.clear()
        self._all.clear()
        self._opening = 0

    def get(self) -> psycopg.Connection[Any]:
        with self._cond:
            if self._pid != os.getpid():
                self._forget_after_fork()
            while True:
                if self._closed:
                    raise StoreError("this PostgresStore is closed")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._opening < self._size:
                    self._opening += 1
                    break
                if not self._cond.wait(self._timeout):
                    raise StoreError(
                        f"no PostgreSQL connection free within {self._timeout:g} s "
                        f"(pool_size={self._size}); raise pool_size or shorten transactions"
                    )
        try:
            conn = self._store._connect()
        finally:
            with self._cond:
                self._opening -= 1
                self._cond.notify()
        with self._cond:
            self._all.add(conn)
        return conn

    def put(self, conn: psycopg.Connection[Any]) -> None:
        healthy = not conn.closed and conn.info.transaction_status == _IDLE
        with self._cond:
            if healthy and not self._closed and conn in self._all:
                self._idle.append(conn)
            else:
                self._all.discard(conn)
                healthy = False
            self._cond.notify()
        if not healthy:
            conn.close()

    @contextmanager
    def borrow(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self.get()
        try:
            yield conn
        finally:
            self.put(conn)

    def close(self) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._forget_after_fork()
            self._closed = True
            conns = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for conn in conns:
            conn.close()


class _PgTx:
    """One ``READ COMMITTED`` transaction on one connection."""

    def __init__(self, conn: psycopg.Connection[Any], store: PostgresStore) -> None:
        self._c = conn
        self._error = store._driver.Error
        self._lock_prefix = store.schema + "\x1f"
        self._names = itertools.count()

    def _run(
        self, sql: str, params: Sequence[Any] = (), what: str = "writing", key: str = "?"
    ) -> psycopg.Cursor[Any]:
        try:
            return self._c.execute(sql, params)
        except self._error as exc:
            raise _error(exc, what, key) from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        name = f"sp{next(self._names)}"
        self._run(f"SAVEPOINT {name}", (), "opening a savepoint")
        try:
            yield
        except BaseException:
            self._run(f"ROLLBACK TO SAVEPOINT {name}", (), "rolling back a savepoint")
            self._run(f"RELEASE SAVEPOINT {name}", (), "releasing a savepoint")
            raise
        self._run(f"RELEASE SAVEPOINT {name}", (), "releasing a savepoint")

    # --- orders -------------------------------------------------------------------------
    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        sql = _SELECT_ORDER_LOCKED if for_update else _SELECT_ORDER
        row = self._run(sql, (order_id,), "reading an order", order_id).fetchone()
        return None if row is None else order_from_row(row)

    def find_order_id(self, field: str, value: str) -> str | None:
        if field not in _FINDABLE:
            raise InputError(f"cannot look orders up by {field!r}")
        row = self._run(
            # "<> ''" lets the planner use the partial erp_id index
            f"SELECT id FROM orders WHERE {field} = %s AND {field} <> '' LIMIT 1",
            (value,),
            "finding an order",
        ).fetchone()
        return None if row is None else str(row[0])

    def insert_order(self, order: Order) -> None:
        cur = self._run(_INSERT_ORDER, order_to_row(order), "inserting an order", order.id)
        if cur.rowcount != 1:
            raise ConcurrencyConflict(order.id, -1, f"order {order.number} already exists")

    def update_order(self, order: Order, expected_version: int) -> None:
        row = order_to_row(order)
        cur = self._run(
            _UPDATE_ORDER, (*row[1:], order.id, expected_version), "updating an order", order.id
        )
        if cur.rowcount != 1:
            raise ConcurrencyConflict(order.id, expected_version)

    # --- audit --------------------------------------------------------------------------
    def chain_head(self, chain: str) -> ChainHead | None:
        row = self._run(
            "SELECT seq, leaf FROM audit_log WHERE chain = %s ORDER BY seq DESC LIMIT 1",
            (chain,),
            "reading a chain head",
            chain,
        ).fetchone()
        return None if row is None else ChainHead(int(row[0]), bytes(row[1]))

    def append_audit(self, chain: str, seq: int, data: bytes, leaf: bytes) -> None:
        cur = self._run(
            "INSERT INTO audit_log (chain, seq, leaf, data) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (chain, seq) DO NOTHING",
            (chain, seq, leaf, data),
            "appending an audit entry",
            chain,
        )
        if cur.rowcount != 1:
            raise ConcurrencyConflict(chain, seq - 1, "audit chain moved on")

    # --- idempotency and documents ------------------------------------------------------
    def get_idempotent(self, key: str) -> tuple[str, str] | None:
        row = self._run(
            "SELECT fingerprint, result FROM idempotency WHERE key = %s",
            (key,),
            "reading an idempotency key",
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def put_idempotent(self, key: str, fingerprint: str, result: str) -> None:
        cur = self._run(
            "INSERT INTO idempotency (key, fingerprint, result) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO NOTHING",
            (key, fingerprint, result),
            "storing an idempotency key",
        )
        if cur.rowcount != 1:
            raise ConcurrencyConflict(key, -1, "idempotency key recorded by another writer")

    def get_doc(self, kind: str, key: str, *, for_update: bool = False) -> str | None:
        if not for_update:
            row = self._run(_SELECT_DOC, (kind, key), "reading a document").fetchone()
            return None if row is None else str(row[0])
        locked = _SELECT_DOC + " FOR UPDATE"
        row = self._run(locked, (kind, key), "locking a document", f"{kind}/{key}").fetchone()
        if row is None:
            # nothing to lock yet: serialise the writers that will create it by its key
            self._run(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"{self._lock_prefix}{kind}\x1f{key}",),
                "locking a document key",
                f"{kind}/{key}",
            )
            row = self._run(locked, (kind, key), "locking a document", f"{kind}/{key}").fetchone()
        return None if row is None else str(row[0])

    def put_doc(self, kind: str, key: str, body: str) -> None:
        self._run(
            "INSERT INTO docs (kind, key, body) VALUES (%s, %s, %s) "
            "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
            (kind, key, body),
            "writing a document",
        )

    def delete_doc(self, kind: str, key: str) -> None:
        self._run(
            "DELETE FROM docs WHERE kind = %s AND key = %s", (kind, key), "deleting a document"
        )

    def docs(
        self, kind: str, prefix: str = "", *, limit: int | None = None
    ) -> list[tuple[str, str]]:
        end = _prefix_end(prefix)
        sql = "SELECT key, body FROM docs WHERE kind = %s AND key >= %s"
        params: list[object] = [kind, prefix]
        if end is not None:
            sql += " AND key < %s"
            params.append(end)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        cur = self._run(sql, params, "listing documents")
        return [(str(k), str(b)) for k, b in cur.fetchall()]


class PostgresStore:
    """A :class:`~orderflow.ports.Store` in one schema of a PostgreSQL database.

    ``url`` is a libpq connection string or URI
    (``postgresql://user@host:5432/dbname``). ``schema`` (lower-case letters, digits,
    ``_``) holds this store's tables and is created and migrated on first use; give each
    plant or plant group its own. At most ``pool_size`` connections are opened; a caller
    waiting longer than ``pool_timeout`` seconds for one gets a
    :class:`~orderflow.exceptions.StoreError`. A writer waiting longer than
    ``lock_timeout`` seconds for a row lock gets a
    :class:`~orderflow.exceptions.ConcurrencyConflict`. :meth:`integrate` numbers at
    most ``batch_size`` audit entries per transaction.

    Needs the ``postgres`` extra: ``pip install "orderflow[postgres]"``.
    """

    def __init__(
        self,
        url: str,
        *,
        origin: str = "orderflow.local/postgres",
        schema: str = "orderflow",
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        lock_timeout: float = 30.0,
        connect_timeout: int = 10,
        batch_size: int = 10_000,
    ) -> None:
        if not _SCHEMA_RE.fullmatch(schema):
            raise InputError(
                f"schema must be 1-63 lower-case letters, digits or _ "
                f"(not starting with a digit), got {schema!r}"
            )
        if pool_size < 1 or batch_size < 1:
            raise InputError("pool_size and batch_size must be at least 1")
        self._driver: Any = require("psycopg", "postgres")
        self.url = url
        self.origin = origin
        self.schema = schema
        self.batch_size = batch_size
        self._lock_timeout_ms = max(int(lock_timeout * 1000), 1)
        self._connect_timeout = connect_timeout
        self._pool = _Pool(self, pool_size, pool_timeout)
        self._local = threading.local()
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    # --- connections --------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn: psycopg.Connection[Any] = self._driver.connect(
                self.url,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                application_name="orderflow",
            )
            conn.execute(
                "SELECT set_config('search_path', %s, false), "
                "set_config('lock_timeout', %s, false)",
                (f'"{self.schema}"', f"{self._lock_timeout_ms}ms"),
            )
        except self._driver.Error as exc:
            raise _error(exc, f"connecting to {self._safe_url()}") from exc
        return conn

    def _safe_url(self) -> str:
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", self.url)

    def _migrate(self) -> None:
        latest = MIGRATIONS[-1][0]
        with self._pool.borrow() as conn, self._raw_tx(conn, "migrating the schema"):
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _lock_key(self.schema, _MIGRATE))
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            conn.execute(f'SET LOCAL search_path TO "{self.schema}"')
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            have = int(row.fetchone()[0])  # type: ignore[index]
            if have > latest:
                raise StoreError(
                    f"schema {self.schema!r} has version {have}, newer than this orderflow "
                    f"knows ({latest}); upgrade orderflow"
                )
            for version, description, statements in MIGRATIONS:
                if version > have:
                    for sql in statements:
                        conn.execute(sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, description) VALUES (%s, %s)",
                        (version, description),
                    )

    @contextmanager
    def _raw_tx(self, conn: psycopg.Connection[Any], what: str) -> Iterator[None]:
        """``BEGIN`` ... ``COMMIT`` on ``conn``; driver errors mapped, rollback on error."""
        try:
            conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            yield
            conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback(conn)
            if isinstance(exc, self._driver.Error):
                raise _error(exc, what) from exc
            raise

    def _rollback(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.info.transaction_status == _IDLE:
            return
        try:
            conn.execute("ROLLBACK")
        except self._driver.Error:
            conn.close()  # the pool drops it

    def schema_version(self) -> int:
        """The version of the schema's tables (see :data:`MIGRATIONS`)."""
        return int(self._read("SELECT MAX(version) FROM schema_migrations", ())[0][0])

    # --- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[_PgTx]:
        """A ``READ COMMITTED`` transaction; nested calls in one thread are savepoints."""
        current: _PgTx | None = getattr(self._local, "tx", None)
        if current is not None:
            with current.savepoint():
                yield current
            return
        conn = self._begin()
        tx = _PgTx(conn, self)
        self._local.tx = tx
        try:
            yield tx
        except BaseException as exc:
            self._local.tx = None
            try:
                self._rollback(conn)
            finally:
                self._pool.put(conn)
            if isinstance(exc, self._driver.Error):
                raise _error(exc, "writing") from exc
            raise
        self._local.tx = None
        try:
            if conn.info.transaction_status != _INTRANS:  # a statement failed
                raise StoreError(
                    "the transaction was aborted by an error the caller caught; "
                    "nothing was committed (catch errors inside tx.savepoint() instead)"
                )
            conn.execute("COMMIT")
        except self._driver.Error as exc:
            self._rollback(conn)
            raise _error(exc, "committing") from exc
        except BaseException:
            self._rollback(conn)
            raise
        finally:
            self._pool.put(conn)

    def _begin(self) -> psycopg.Connection[Any]:
        """A pooled connection inside ``BEGIN``; a connection that went stale while idle
        (server restart, network cut) is replaced once."""
        for attempt in (1, 2):
            conn = self._pool.get()
            try:
                conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            except self._driver.Error as exc:
                self._pool.put(conn)
                if attempt == 2 or not conn.closed:
                    raise _error(exc, "starting a transaction") from exc
                continue
            return conn
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the integrator -----------------------------------------------------------------
    def integrate(self) -> int:
        """Give every committed, not yet numbered audit entry its global log index.

        Runs under a transaction-scoped advisory lock for this schema (one integrator at
        a time across processes), in batches of ``batch_size``; returns how many entries
        were numbered. Entries committed before the call are numbered when it returns.
        """
        total = 0
        key = _lock_key(self.schema, _INTEGRATE)
        with self._pool.borrow() as conn:
            try:
                pending = conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM audit_log WHERE idx IS NULL)"
                ).fetchone()
            except self._driver.Error as exc:
                raise _error(exc, "looking for audit entries to integrate") from exc
            if pending is None or not pending[0]:
                return 0
            while True:
                with self._raw_tx(conn, "integrating audit entries"):
                    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", key)
                    row = conn.execute("SELECT next_idx FROM audit_integrator").fetchone()
                    if row is None:
                        raise StoreError(f"schema {self.schema!r} lost its audit_integrator row")
                    base = int(row[0])
                    done = conn.execute(_INTEGRATE_BATCH, (base, self.batch_size)).rowcount
                    if done:
                        conn.execute("UPDATE audit_integrator SET next_idx = %s", (base + done,))
                total += done
                if done < self.batch_size:
                    return total

    # --- reads --------------------------------------------------------------------------
    def audit_entries(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Integrated audit bytes in global order, ``[start, stop)`` (integrates first)."""
        return self._audit_column("data", start, stop)

    def audit_leaves(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Stored leaf hashes in global order, ``[start, stop)`` (integrates first)."""
        return self._audit_column("leaf", start, stop)

    def _audit_column(self, column: str, start: int, stop: int | None) -> list[bytes]:
        self.integrate()
        if stop is None:
            rows = self._read(
                f"SELECT {column} FROM audit_log WHERE idx >= %s ORDER BY idx", (max(start, 0),)
            )
        else:
            rows = self._read(
                f"SELECT {column} FROM audit_log WHERE idx >= %s AND idx < %s ORDER BY idx",
                (max(start, 0), stop),
            )
        return [bytes(r[0]) for r in rows]

    def in_transaction(self) -> bool:
        """Whether the calling thread has a transaction open."""
        return getattr(self._local, "tx", None) is not None

    def audit_chain(self, chain: str) -> list[tuple[int, bytes]]:
        """One chain's integrated ``(index, bytes)`` in sequence order (integrates first)."""
        self.integrate()
        rows = self._read(
            "SELECT idx, data FROM audit_log WHERE chain = %s AND idx IS NOT NULL ORDER BY seq",
            (chain,),
        )
        return [(int(i), bytes(d)) for i, d in rows]

    def audit_size(self) -> int:
        """Number of entries in the global log (integrates first)."""
        self.integrate()
        return int(self._read("SELECT next_idx FROM audit_integrator", ())[0][0])

    def orders(
        self, *, on_unreadable: Callable[[UnreadableRow], None] | None = None
    ) -> Iterator[Order]:
        """Every stored order."""
        return orders_from_rows(self._read(f"SELECT {_COLS} FROM orders", ()), on_unreadable)

    def orders_due(
        self,
        before: dt.datetime,
        *,
        on_unreadable: Callable[[UnreadableRow], None] | None = None,
    ) -> Iterator[Order]:
        """Orders whose stage deadline is earlier than ``before`` (uses an index)."""
        rows = self._read(
            f"SELECT {_COLS} FROM orders WHERE deadline IS NOT NULL AND deadline < %s",
            (to_micros(before),),
        )
        return orders_from_rows(rows, on_unreadable)

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._pool.borrow() as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except self._driver.Error as exc:
                raise _error(exc, "reading") from exc

    def execute_raw(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run raw SQL in this store's schema, autocommitted, outside orderflow's checks
        (tests use it to tamper with rows)."""
        with self._pool.borrow() as conn:
            try:
                conn.execute(sql, params)
            except self._driver.Error as exc:
                raise _error(exc, "running raw SQL") from exc

    def close(self) -> None:
        """Close every connection this store opened; the store cannot be used after."""
        self._pool.close()
        self._local = threading.local()
