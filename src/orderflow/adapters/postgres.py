"""A :class:`~orderflow.ports.Store` on PostgreSQL (the ``postgres`` extra, psycopg 3).

Several plants, several application servers and several processes can share one
PostgreSQL database: every plant (or plant group) keeps its tables in its own schema
(``schema=``), and every write is an ordinary ``READ COMMITTED`` transaction.

Write path (no table-wide lock anywhere; write-behind, see :mod:`.writebehind`)
    * Reads are answered from what the transaction already read or wrote; writes are
      checked at once, cached and queued. At commit each table's queued rows go out as
      one statement over arrays (``unnest``), all of them and ``COMMIT`` in one pipeline;
      ``BEGIN`` rides with the first read. Master data (``master_kinds``) is cached
      between transactions while its generation (``doc_generations``, moved on by a
      trigger with every write of the kind) is unchanged.
    * ``get_order(for_update=True)`` is ``SELECT ... FOR UPDATE`` (the chain head is read
      in the same round trip); ``update_order`` is checked against it, and written as
      ``UPDATE ... WHERE id = v.id AND version = v.expected`` whose row count is checked.
    * ``append_audit`` inserts into ``audit_log`` whose ``UNIQUE (chain, seq)`` turns two
      writers extending the same chain into a ``ConcurrencyConflict`` for the second.
    * ``get_doc``/``get_docs(for_update=True)`` is ``SELECT ... FOR UPDATE`` (keys in
      order); when a document does not exist yet, a transaction-scoped advisory lock on
      its key serialises the writers that want to create it. ``put_doc`` is an
      ``INSERT ... ON CONFLICT DO UPDATE``.
    * Serialization failures, deadlocks, lock timeouts and unique violations become
      ``ConcurrencyConflict`` (retry the whole transaction:
      :func:`orderflow.retry_on_conflict`); every other driver error becomes
      :class:`~orderflow.exceptions.StoreError` with the psycopg error as ``__cause__``.
      A statement the server refuses ends the whole transaction, even in a savepoint.
    * A nested :meth:`PostgresStore.transaction` in the same thread is a savepoint.

Row-level security (R10)
    ``orders`` has a policy keyed by ``factory_id``: a role registered with
    :meth:`PostgresStore.register_plant_role` sees and writes only its plant's orders;
    the schema's owner (the admin) is not subject to it. ``factory=`` opens a store that
    must log in as that plant's role.

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

Connections: a ``psycopg_pool`` pool per process (``pool_size`` connections at most,
opened on first use); a transaction holds one connection from ``BEGIN`` to ``COMMIT``.
Reads outside a transaction borrow a connection for one statement. A forked child
process opens its own pool and leaves the parent's sessions alone. The schema is versioned
(``schema_migrations``), forward-only, and migrated under an advisory lock, so several
processes may open the same schema at once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from orderflow._extras import require
from orderflow.adapters.rows import (
    COLUMNS,
    order_from_row,
    order_to_row,
    orders_from_rows,
    to_micros,
)
from orderflow.adapters.writebehind import (
    STATE_COLUMNS,
    Scope,
    Slice,
    TxCache,
    WriteBehindTx,
    state_row,
)
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import ConcurrencyConflict, InputError, StoreError, UnreadableRow

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["MASTER_KINDS", "MIGRATIONS", "PostgresStore"]

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
    (
        2,
        "plant roles; row-level security on orders by factory (R10)",
        (
            """CREATE TABLE plant_roles (
                role_name TEXT PRIMARY KEY, factory_id TEXT NOT NULL)""",
            "ALTER TABLE orders ENABLE ROW LEVEL SECURITY",
            # the owner (the role that migrates) is not subject to it: the group's admin
            """CREATE POLICY plant_orders ON orders
                USING (factory_id = (SELECT p.factory_id FROM plant_roles p
                                     WHERE p.role_name = current_user))""",
        ),
    ),
    (
        3,
        "document generations: processes may cache master data between transactions",
        (
            """CREATE TABLE doc_generations (
                kind TEXT PRIMARY KEY, gen BIGINT NOT NULL DEFAULT 0)""",
            # every write of a tracked kind moves its generation on, in the same
            # transaction (search_path fixed: raw SQL from any session keeps it right)
            """CREATE FUNCTION bump_doc_generations() RETURNS trigger LANGUAGE plpgsql
                SET search_path FROM CURRENT AS $$
                BEGIN
                    UPDATE doc_generations g SET gen = g.gen + 1
                    WHERE g.kind IN (SELECT DISTINCT c.kind FROM changed c);
                    RETURN NULL;
                END $$""",
            """CREATE TRIGGER docs_generation_insert AFTER INSERT ON docs
                REFERENCING NEW TABLE AS changed
                FOR EACH STATEMENT EXECUTE FUNCTION bump_doc_generations()""",
            """CREATE TRIGGER docs_generation_update AFTER UPDATE ON docs
                REFERENCING NEW TABLE AS changed
                FOR EACH STATEMENT EXECUTE FUNCTION bump_doc_generations()""",
            """CREATE TRIGGER docs_generation_delete AFTER DELETE ON docs
                REFERENCING OLD TABLE AS changed
                FOR EACH STATEMENT EXECUTE FUNCTION bump_doc_generations()""",
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
_IDLE = 0  # libpq PQtransactionStatus value (psycopg.pq.TransactionStatus)
_BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"

_COLS = ", ".join(COLUMNS)
_SELECT_ORDER = f"SELECT {_COLS} FROM orders WHERE id = %s"
_SELECT_ORDER_LOCKED = _SELECT_ORDER + " FOR UPDATE"
_SELECT_DOC = "SELECT body FROM docs WHERE kind = %s AND key = %s"
_SELECT_HEAD = "SELECT seq, leaf FROM audit_log WHERE chain = %s ORDER BY seq DESC LIMIT 1"
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


# The queued writes go out as one statement per table over arrays (unnest): one message
# however many rows, where executemany sends one per row.
_BIGINT_COLUMNS = {"version", "created_at", "stage_entered_at", "deadline"}
_ORDER_TYPES = {c: "bigint" if c in _BIGINT_COLUMNS else "text" for c in COLUMNS}


def _unnest(columns: Sequence[str], types: dict[str, str]) -> str:
    arrays = ", ".join(f"%b::{types[c]}[]" for c in columns)  # binary: no escaping
    return f"unnest({arrays}) AS v({', '.join(columns)})"


_INSERT_ORDERS = f"INSERT INTO orders ({_COLS}) SELECT * FROM {_unnest(COLUMNS, _ORDER_TYPES)}"
_UPDATE_ORDERS = (
    "UPDATE orders o SET "
    + ", ".join(f"{c} = v.{c}" for c in COLUMNS[1:])
    + f" FROM {_unnest((*COLUMNS, 'expected'), {**_ORDER_TYPES, 'expected': 'bigint'})}"
    + " WHERE o.id = v.id AND o.version = v.expected"
)
_STATE_COLS = (*STATE_COLUMNS, "id", "expected")
_UPDATE_STATES = (
    "UPDATE orders o SET "
    + ", ".join(f"{c} = v.{c}" for c in STATE_COLUMNS)
    + f" FROM {_unnest(_STATE_COLS, {**_ORDER_TYPES, 'expected': 'bigint'})}"
    + " WHERE o.id = v.id AND o.version = v.expected"
)
_TEXT3 = {"kind": "text", "key": "text", "body": "text"}
_UPSERT_DOCS = (
    "INSERT INTO docs (kind, key, body) SELECT * FROM "
    + _unnest(("kind", "key", "body"), _TEXT3)
    + " ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)
_DELETE_DOCS = (
    "DELETE FROM docs d USING " + _unnest(("kind", "key"), _TEXT3) + " "
    "WHERE d.kind = v.kind AND d.key = v.key"
)
_INSERT_AUDITS = "INSERT INTO audit_log (chain, seq, leaf, data) SELECT * FROM " + _unnest(
    ("chain", "seq", "leaf", "data"),
    {"chain": "text", "seq": "bigint", "leaf": "bytea", "data": "bytea"},
)
_INSERT_IDEMS = "INSERT INTO idempotency (key, fingerprint, result) SELECT * FROM " + _unnest(
    ("key", "fingerprint", "result"), {"key": "text", "fingerprint": "text", "result": "text"}
)


def _columns(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows as one list per column (the arrays of an unnest)."""
    return [list(col) for col in zip(*rows, strict=True)]


_SELECT_DOCS = "SELECT key, body FROM docs WHERE kind = %s AND key = ANY(%s)"
_LOCK_DOCS = _SELECT_DOCS + " ORDER BY key FOR UPDATE"
_LOCK_KEYS = (  # in key order, as the rows are locked: two creators cannot deadlock
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys"
)


_SELECT_GENERATIONS = "SELECT kind, gen FROM doc_generations"
MASTER_KINDS = ("component", "customer", "po", "product")
"""Document kinds a :class:`PostgresStore` caches between transactions by default: the
service's master data (components, customers, inbound purchase orders, products), read by
every order and rarely written."""


class _KindCache:
    """One process's copy of the documents of one kind, valid at one generation."""

    __slots__ = ("docs", "gen", "lists")

    def __init__(self, gen: int) -> None:
        self.gen = gen
        self.docs: dict[str, str | None] = {}
        self.lists: dict[str, list[tuple[str, str]]] = {}


class _PgTx(WriteBehindTx):
    """One ``READ COMMITTED`` transaction on one pooled connection, with write-behind.

    ``BEGIN`` goes out with the first statement, the queued writes and ``COMMIT`` with
    one pipeline (one round trip); reads for update are ``SELECT ... FOR UPDATE``.
    """

    _locking = True

    def __init__(self, conn: psycopg.Connection[Any], store: PostgresStore) -> None:
        super().__init__(TxCache())
        self._c = conn
        self._store = store
        self._error = store._driver.Error
        self._lock_prefix = store.schema + "\x1f"
        self._begun = False
        self._broken = False  # a statement failed: only a rollback is left
        self._checks: list[tuple[psycopg.Cursor[Any], int]] = []
        self._piped = False  # inside the commit's pipeline
        self._gens: dict[str, int] | None = None  # tracked kinds' generations at BEGIN
        self._dirty: set[str] = set()  # kinds this transaction wrote

    # --- statements ---------------------------------------------------------------------
    def _run(
        self, sql: str, params: Sequence[Any] = (), what: str = "reading", key: str = "?"
    ) -> psycopg.Cursor[Any]:
        if self._broken:
            raise StoreError("this transaction already failed; it can only roll back")
        if not self._begun:  # BEGIN rides with the first statement
            return self._pipelined(((sql, params),), what, key)[0]
        try:
            return self._c.execute(sql, params)
        except self._error as exc:
            self._broken = True
            raise _error(exc, what, key) from exc

    def _pipelined(
        self, statements: Sequence[tuple[str, Sequence[Any]]], what: str, key: str = "?"
    ) -> list[psycopg.Cursor[Any]]:
        """Send ``statements`` (after ``BEGIN`` if not yet sent) in one round trip."""
        if self._broken:
            raise StoreError("this transaction already failed; it can only roll back")
        gens = None
        try:
            with self._c.pipeline():
                if not self._begun:
                    self._c.execute(_BEGIN)
                    if self._store.master_kinds:
                        gens = self._c.execute(_SELECT_GENERATIONS)
                cursors = [self._c.execute(sql, params) for sql, params in statements]
            self._begun = True
        except self._error as exc:
            self._broken = True
            raise _error(exc, what, key) from exc
        if gens is not None:
            self._gens = {str(k): int(g) for k, g in gens.fetchall()}
        return cursors

    # --- master data cached between transactions ----------------------------------------
    def _shared(self, kind: str) -> _KindCache | None:
        """The process-wide cache of ``kind`` if this transaction may use it: the kind is
        tracked, unchanged since the cache was filled (same generation as this
        transaction saw when it began), and not written by this transaction."""
        gens = self._gens
        if gens is None or kind not in gens or kind in self._dirty:
            return None
        shared = self._store._shared
        cache = shared.get(kind)
        if cache is None or cache.gen != gens[kind]:
            cache = shared[kind] = _KindCache(gens[kind])
        return cache

    def put_doc(self, kind: str, key: str, body: str) -> None:
        self._dirty.add(kind)
        super().put_doc(kind, key, body)

    def delete_doc(self, kind: str, key: str) -> None:
        self._dirty.add(kind)
        super().delete_doc(kind, key)

    def _exec(self, sql: str) -> None:
        if not self._broken:  # after a failure the whole transaction rolls back anyway
            self._run(sql, (), "handling a savepoint")

    def commit(self) -> None:
        """Write the queue and commit, in one round trip when every updated row is locked."""
        if self._broken:
            raise StoreError(
                "the transaction was aborted by an error the caller caught; "
                "nothing was committed (catch errors inside tx.savepoint() instead)"
            )
        if not self._begun and not self.pending():
            return  # nothing was read or written: nothing to commit
        conn = self._c
        early = self._unlocked_updates()  # their version checks must be counted first
        try:
            with conn.pipeline():
                self._piped = True
                if not self._begun:
                    conn.execute(_BEGIN)
                    self._begun = True
                self.flush()
                if not early:
                    conn.execute("COMMIT")
            self._piped = False
            self._check_counts()
            if early:
                conn.execute("COMMIT")
        except self._error as exc:
            self._broken = True
            raise _error(exc, "committing") from exc

    def flush(self) -> None:
        if not self.pending():
            return
        if self._piped:  # already in the commit's pipeline
            super().flush()
            return
        try:
            with self._c.pipeline():
                if not self._begun:
                    self._c.execute(_BEGIN)
                    self._begun = True
                super().flush()
        except self._error as exc:
            self._broken = True
            raise _error(exc, "writing") from exc
        self._check_counts()

    def _check_counts(self) -> None:
        checks, self._checks = self._checks, []
        for cur, expected in checks:
            if cur.rowcount != expected:
                self._broken = True
                raise ConcurrencyConflict("?", -1, "an order row changed since it was read")

    def _write(self, part: Slice) -> None:
        conn = self._c
        if part.upserts:
            conn.execute(_UPSERT_DOCS, _columns(part.upserts))
        if part.deletes:
            conn.execute(_DELETE_DOCS, _columns(part.deletes))
        if part.inserts:
            conn.execute(_INSERT_ORDERS, _columns([order_to_row(o) for o in part.inserts]))
        if part.full:
            rows = [(*order_to_row(o), v) for o, v in part.full]
            self._checks.append((conn.execute(_UPDATE_ORDERS, _columns(rows)), len(rows)))
        if part.state:
            rows = [state_row(o, v) for o, v in part.state]
            self._checks.append((conn.execute(_UPDATE_STATES, _columns(rows)), len(rows)))
        if part.audit:
            conn.execute(_INSERT_AUDITS, _columns(part.audit))
        if part.idem:
            conn.execute(_INSERT_IDEMS, _columns(part.idem))

    def _exists(self, order: Order) -> bool:
        """Whether the id or number is taken, with one statement (the ``UNIQUE`` keys
        still catch an order another writer commits meanwhile, at commit)."""
        if self._orders.get(order.id) is not None:
            return True
        found = self._found.get(("number", order.number), False)
        if isinstance(found, str):
            return True
        if found is None:  # a queued change moved the number away: ask the database
            self.flush()
        row = self._run(
            "SELECT 1 FROM orders WHERE id = %s OR number = %s LIMIT 1",
            (order.id, order.number),
            "checking an order is new",
            order.id,
        ).fetchone()
        return row is not None

    def insert_order(self, order: Order) -> None:
        super().insert_order(order)
        # a new order's audit chain is empty (UNIQUE (chain, seq) checks it at commit)
        self._heads.setdefault(order.id, None)

    # --- reads --------------------------------------------------------------------------
    def _fetch_order(self, order_id: str, for_update: bool) -> Order | None:
        if not for_update or order_id in self._heads:
            sql = _SELECT_ORDER_LOCKED if for_update else _SELECT_ORDER
            row = self._run(sql, (order_id,), "reading an order", order_id).fetchone()
            return None if row is None else order_from_row(row)
        # an order is locked to be changed, and a change appends to its audit chain:
        # read the chain's head in the same round trip, after the lock is held (a
        # separate statement, so it sees what the previous lock holder committed)
        order_cur, head_cur = self._pipelined(
            ((_SELECT_ORDER_LOCKED, (order_id,)), (_SELECT_HEAD, (order_id,))),
            "locking an order",
            order_id,
        )
        row = order_cur.fetchone()
        head = head_cur.fetchone()
        if row is None:
            return None
        self._heads[order_id] = None if head is None else ChainHead(int(head[0]), bytes(head[1]))
        return order_from_row(row)

    def _fetch_order_id(self, field: str, value: str) -> str | None:
        row = self._run(
            # "<> ''" lets the planner use the partial erp_id index
            f"SELECT id FROM orders WHERE {field} = %s AND {field} <> '' LIMIT 1",
            (value,),
            "finding an order",
        ).fetchone()
        return None if row is None else str(row[0])

    def _fetch_head(self, chain: str) -> ChainHead | None:
        row = self._run(
            _SELECT_HEAD,
            (chain,),
            "reading a chain head",
            chain,
        ).fetchone()
        return None if row is None else ChainHead(int(row[0]), bytes(row[1]))

    def _fetch_idem(self, key: str) -> tuple[str, str] | None:
        row = self._run(
            "SELECT fingerprint, result FROM idempotency WHERE key = %s",
            (key,),
            "reading an idempotency key",
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def _fetch_docs(self, kind: str, keys: Sequence[str], for_update: bool) -> dict[str, str]:
        what = "locking documents" if for_update else "reading documents"
        shared = None if for_update else self._shared(kind)
        if shared is not None:
            known = shared.docs
            missing = [k for k in keys if k not in known]
            if missing:
                fetched = self._fetch_docs_from_db(kind, missing, False, what)
                for k in missing:
                    known[k] = fetched.get(k)
            return {k: b for k in keys if (b := known[k]) is not None}
        return self._fetch_docs_from_db(kind, keys, for_update, what)

    def _fetch_docs_from_db(
        self, kind: str, keys: Sequence[str], for_update: bool, what: str
    ) -> dict[str, str]:
        if len(keys) == 1 and not for_update:
            row = self._run(_SELECT_DOC, (kind, keys[0]), what).fetchone()
            return {} if row is None else {keys[0]: str(row[0])}
        sql = _LOCK_DOCS if for_update else _SELECT_DOCS
        key_list = list(keys)
        found = {str(k): str(b) for k, b in self._run(sql, (kind, key_list), what).fetchall()}
        if for_update and len(found) < len(key_list):
            # nothing to lock yet: serialise the writers that will create them by key
            absent = [k for k in key_list if k not in found]
            names = [f"{self._lock_prefix}{kind}\x1f{k}" for k in absent]
            _, cur = self._pipelined(  # lock the keys, then read again: one round trip
                ((_LOCK_KEYS, (names,)), (sql, (kind, absent))),
                "locking document keys",
                f"{kind}/{absent[0]}",
            )
            found.update((str(k), str(b)) for k, b in cur.fetchall())
        return found

    def _fetch_listing(self, kind: str, prefix: str, limit: int | None) -> list[tuple[str, str]]:
        shared = None if limit is not None else self._shared(kind)
        if shared is None:
            return self._list_from_db(kind, prefix, limit)
        found = shared.lists.get(prefix)
        if found is None:
            found = shared.lists[prefix] = self._list_from_db(kind, prefix, None)
        return list(found)

    def _list_from_db(self, kind: str, prefix: str, limit: int | None) -> list[tuple[str, str]]:
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
        factory: str | None = None,
        master_kinds: Sequence[str] = MASTER_KINDS,
    ) -> None:
        if not _SCHEMA_RE.fullmatch(schema):
            raise InputError(
                f"schema must be 1-63 lower-case letters, digits or _ "
                f"(not starting with a digit), got {schema!r}"
            )
        if pool_size < 1 or batch_size < 1:
            raise InputError("pool_size and batch_size must be at least 1")
        self._driver: Any = require("psycopg", "postgres")
        require("psycopg_pool", "postgres")
        self.url = url
        self.origin = origin
        self.schema = schema
        self.batch_size = batch_size
        self._lock_timeout_ms = max(int(lock_timeout * 1000), 1)
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._pool_timeout = pool_timeout
        self.factory = factory
        self.master_kinds = tuple(master_kinds)
        self._shared: dict[str, _KindCache] = {}
        self._pool: ConnectionPool[Any] | None = None
        self._pool_pid = 0
        self._forked_pools: list[Any] = []  # a parent's pools, kept open in a fork child
        self._closed = False
        self._pool_lock = threading.Lock()
        self._local = threading.local()
        try:
            self._migrate()
            if factory is not None:
                self._check_factory(factory)
            if self.master_kinds:
                with self._connect() as conn:
                    conn.execute(
                        "INSERT INTO doc_generations (kind) SELECT unnest(%s::text[]) "
                        "ON CONFLICT (kind) DO NOTHING",
                        (list(self.master_kinds),),
                    )
        except BaseException:
            self.close()
            raise

    # --- connections --------------------------------------------------------------------
    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Run once on every new pooled connection: the schema, the lock timeout."""
        conn.execute(
            "SELECT set_config('search_path', %s, false), "
            "set_config('lock_timeout', %s, false), "
            "set_config('orderflow.factory', %s, false)",
            (f'"{self.schema}"', f"{self._lock_timeout_ms}ms", self.factory or ""),
        )

    def _connect(self) -> psycopg.Connection[Any]:
        """A new configured connection outside the pool."""
        try:
            conn: psycopg.Connection[Any] = self._driver.connect(
                self.url,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                application_name="orderflow",
            )
            self._configure(conn)
        except self._driver.Error as exc:
            raise _error(exc, f"connecting to {self._safe_url()}") from exc
        return conn

    def _get_pool(self) -> ConnectionPool[Any]:
        """This process's pool, opened on first use (a fork child opens its own and
        leaves the parent's sessions alone: closing them would end the parent's)."""
        pool = self._pool
        if pool is not None and self._pool_pid == os.getpid():
            return pool
        with self._pool_lock:
            if self._closed:
                raise StoreError("this PostgresStore is closed")
            if self._pool is not None and self._pool_pid != os.getpid():
                self._forked_pools.append(self._pool)
                self._pool = None
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self._pool_size,
                    timeout=self._pool_timeout,
                    open=False,
                    configure=self._configure,
                    name=f"orderflow-{self.schema}",
                    kwargs={
                        "autocommit": True,
                        "connect_timeout": self._connect_timeout,
                        "application_name": "orderflow",
                    },
                )
                self._pool.open(wait=False)
                self._pool_pid = os.getpid()
            return self._pool

    def _getconn(self) -> psycopg.Connection[Any]:
        from psycopg_pool import PoolTimeout

        try:
            conn: psycopg.Connection[Any] = self._get_pool().getconn()
            return conn
        except PoolTimeout as exc:
            raise StoreError(
                f"no PostgreSQL connection free within {self._pool_timeout:g} s "
                f"(pool_size={self._pool_size}); raise pool_size or shorten transactions, "
                f"or check that {self._safe_url()} is reachable"
            ) from exc

    def _putconn(self, conn: psycopg.Connection[Any]) -> None:
        pool = self._pool
        if pool is not None and self._pool_pid == os.getpid() and not pool.closed:
            pool.putconn(conn)
        else:
            conn.close()

    @contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._getconn()
        try:
            yield conn
        finally:
            self._putconn(conn)

    def _check_factory(self, factory: str) -> None:
        """A plant-scoped store must log in as a role registered for that plant."""
        rows = self._read(
            "SELECT current_user, (SELECT factory_id FROM plant_roles "
            "WHERE role_name = current_user)",
            (),
        )
        role, mapped = rows[0]
        if mapped != factory:
            raise StoreError(
                f"PostgreSQL role {role!r} is not the role of plant {factory!r} "
                f"(it is registered for {mapped!r}); connect as the plant's role "
                "(see PostgresStore.register_plant_role)"
            )

    def _safe_url(self) -> str:
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", self.url)

    def _migrate(self) -> None:
        latest = MIGRATIONS[-1][0]
        conn = self._connect()  # not pooled: an unreachable server fails at once
        with conn, self._raw_tx(conn, "migrating the schema"):
            table = f'"{self.schema}".schema_migrations'
            found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
            if found and found[0]:
                # up to date: nothing to create (a plant role may not create anything)
                current = conn.execute(f"SELECT MAX(version) FROM {table}").fetchone()
                if current and current[0] == latest:
                    return
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

    def register_plant_role(self, role: str, factory_id: str) -> None:
        """Let the existing PostgreSQL ``role`` work as plant ``factory_id`` (R10).

        Run by the schema's owner (the group's admin role). The role may then use every
        table of the schema, but row-level security shows and lets it write only the
        orders whose ``factory_id`` is its plant's, whatever SQL it sends; it cannot
        change the role-to-plant map. Create the role itself first (``CREATE ROLE
        orderflow_plant_b LOGIN PASSWORD ...``) and open its stores with
        ``factory=factory_id``.
        """
        from psycopg import sql

        if not role or not factory_id:
            raise InputError("role and factory_id must not be empty")
        schema, who = sql.Identifier(self.schema), sql.Identifier(role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, who),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema, who
            ),
            sql.SQL(
                "REVOKE INSERT, UPDATE, DELETE ON plant_roles, schema_migrations FROM {}"
            ).format(who),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, who),
        ]
        with self._borrow() as conn, self._raw_tx(conn, "registering a plant role"):
            conn.execute(
                "INSERT INTO plant_roles (role_name, factory_id) VALUES (%s, %s) "
                "ON CONFLICT (role_name) DO UPDATE SET factory_id = excluded.factory_id",
                (role, factory_id),
            )
            for statement in statements:
                conn.execute(statement)

    def schema_version(self) -> int:
        """The version of the schema's tables (see :data:`MIGRATIONS`)."""
        return int(self._read("SELECT MAX(version) FROM schema_migrations", ())[0][0])

    # --- transactions -------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[_PgTx]:
        """A ``READ COMMITTED`` transaction; nested calls in one thread are savepoints."""
        current: _PgTx | None = getattr(self._local, "tx", None)
        if current is not None:
            return Scope(current)
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[_PgTx]:
        conn = self._getconn()
        tx = _PgTx(conn, self)
        self._local.tx = tx
        try:
            yield tx
            self._local.tx = None
            tx.commit()
        except BaseException as exc:
            self._local.tx = None
            if tx._broken:
                # a failed pipeline can leave psycopg's prepared-statement cache out of
                # step with the server: let the pool replace the connection
                conn.close()
            else:
                self._rollback(conn)
            if isinstance(exc, self._driver.Error):
                raise _error(exc, "writing") from exc
            raise
        finally:
            self._putconn(conn)

    # --- the integrator -----------------------------------------------------------------
    def integrate(self) -> int:
        """Give every committed, not yet numbered audit entry its global log index.

        Runs under a transaction-scoped advisory lock for this schema (one integrator at
        a time across processes), in batches of ``batch_size``; returns how many entries
        were numbered. Entries committed before the call are numbered when it returns.
        """
        total = 0
        key = _lock_key(self.schema, _INTEGRATE)
        with self._borrow() as conn:
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
        with self._borrow() as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except self._driver.Error as exc:
                raise _error(exc, "reading") from exc

    def execute_raw(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run raw SQL in this store's schema, autocommitted, outside orderflow's checks
        (tests use it to tamper with rows)."""
        with self._borrow() as conn:
            try:
                conn.execute(sql, params)
            except self._driver.Error as exc:
                raise _error(exc, "running raw SQL") from exc

    def close(self) -> None:
        """Close every connection this process opened; the store cannot be used after."""
        with self._pool_lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None and self._pool_pid == os.getpid():
            pool.close()
        self._local = threading.local()
