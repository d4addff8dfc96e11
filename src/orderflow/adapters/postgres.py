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

Global log order
    One gap-free sequence in commit order, numbered by an integrator: see
    :mod:`orderflow.adapters.postgres_log`.

Connections: a ``psycopg_pool`` pool per process (``pool_size`` connections at most,
opened on first use); a transaction holds one connection from ``BEGIN`` to ``COMMIT``.
Reads outside a transaction borrow a connection for one statement; inside one, the
thread's transaction reads them, so they see its own writes. A forked child
process opens its own pool and leaves the parent's sessions alone. The schema is versioned
(``schema_migrations``), forward-only, and migrated under an advisory lock, so several
processes may open the same schema at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from orderflow._extras import require
from orderflow.adapters.postgres_docs import _KindCache
from orderflow.adapters.postgres_log import PgAuditLog
from orderflow.adapters.postgres_pool import Connections
from orderflow.adapters.postgres_sql import (
    _COLS,
    _IDLE,
    _MIGRATE,
    _SCHEMA_RE,
    MASTER_KINDS,
    MIGRATIONS,
    _error,
    _lock_key,
)
from orderflow.adapters.postgres_tx import _PgTx
from orderflow.adapters.postgres_wire import command, forget_prepared
from orderflow.adapters.rows import (
    orders_from_rows,
    to_micros,
)
from orderflow.adapters.writebehind import (
    Scope,
)
from orderflow.domain.order import Order
from orderflow.exceptions import InputError, StoreError, UnreadableRow

if TYPE_CHECKING:
    import psycopg

__all__ = ["MASTER_KINDS", "MIGRATIONS", "PostgresStore"]


class PostgresStore(PgAuditLog):
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
        self.factory = factory
        self.master_kinds = tuple(master_kinds)
        self._shared: dict[str, _KindCache] = {}
        self._conns = Connections(
            self._driver,
            url,
            name=f"orderflow-{schema}",
            configure=self._configure,
            pool_size=pool_size,
            pool_timeout=pool_timeout,
            connect_timeout=connect_timeout,
        )
        self._local = threading.local()
        try:
            self._migrate()
            if factory is not None:
                self._check_factory(factory)
            if self.master_kinds:
                with self._conns.connect() as conn:
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

    def _migrate(self) -> None:
        latest = MIGRATIONS[-1][0]
        conn = self._conns.connect()  # not pooled: an unreachable server fails at once
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
        if not command(conn, self._driver, b"ROLLBACK"):
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
        with self._conns.borrow() as conn, self._raw_tx(conn, "registering a plant role"):
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
        conn = self._conns.get()
        tx = _PgTx(conn, self)
        self._local.tx = tx
        try:
            yield tx
            self._local.tx = None
            tx.commit()
        except BaseException as exc:
            self._local.tx = None
            tx.drain()
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
            self._conns.put(conn)

    def in_transaction(self) -> bool:
        """Whether the calling thread has a transaction open."""
        return getattr(self._local, "tx", None) is not None

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
        current: _PgTx | None = getattr(self._local, "tx", None)
        if current is not None:
            # this thread's open transaction (a batch sweeping for overdue orders) must
            # see its own writes, which another connection would not
            current.flush()
            return current._run(sql, params).fetchall()
        with self._conns.borrow() as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except self._driver.Error as exc:
                raise _error(exc, "reading") from exc

    def execute_raw(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run raw SQL in this store's schema, autocommitted, outside orderflow's checks
        (tests use it to tamper with rows)."""
        with self._conns.borrow() as conn:
            forget_prepared(conn)  # psycopg may answer it with DEALLOCATE ALL
            try:
                conn.execute(sql, params)
            except self._driver.Error as exc:
                raise _error(exc, "running raw SQL") from exc

    def close(self) -> None:
        """Close every connection this process opened; the store cannot be used after."""
        self._conns.close()
        self._local = threading.local()
