"""A transaction of the PostgreSQL store: write-behind over one pooled connection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from orderflow.adapters.postgres_docs import PgDocs
from orderflow.adapters.postgres_sql import (
    _BEGIN,
    _DELETE_DOC,
    _DELETE_DOCS,
    _INSERT_AUDIT,
    _INSERT_AUDITS,
    _INSERT_IDEM,
    _INSERT_IDEMS,
    _INSERT_ORDER,
    _INSERT_ORDERS,
    _SELECT_GENERATIONS,
    _SELECT_HEAD,
    _SELECT_IDEM,
    _SELECT_IDEM_AHEAD,
    _SELECT_ORDER,
    _SELECT_ORDER_LOCKED,
    _SELECT_TAKEN,
    _SELECT_TAKEN_AHEAD,
    _UPDATE_ORDER,
    _UPDATE_ORDERS,
    _UPDATE_STATE,
    _UPDATE_STATES,
    _UPSERT_DOC,
    _UPSERT_DOCS,
    _columns,
    _error,
)
from orderflow.adapters.postgres_wire import AheadLookup, command, text_row
from orderflow.adapters.rows import order_from_row, order_to_row, state_row
from orderflow.adapters.writebehind import Slice, TxCache
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import ConcurrencyConflict, StoreError

if TYPE_CHECKING:
    import psycopg

    from orderflow.adapters.postgres import PostgresStore


__all__ = ["_PgTx"]


class _PgTx(PgDocs):
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
        self._ahead = AheadLookup(conn, store._driver, self._break)

    # --- statements ---------------------------------------------------------------------
    def _break(self) -> None:
        self._broken = True

    def _run(
        self, sql: str, params: Sequence[Any] = (), what: str = "reading", key: str = "?"
    ) -> psycopg.Cursor[Any]:
        if self._broken:
            raise StoreError("this transaction already failed; it can only roll back")
        if self._ahead.waiting:
            self._ahead.settle()
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
        if self._ahead.waiting:
            self._ahead.settle()
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

    def _exec(self, sql: str) -> None:
        if not self._broken:  # after a failure the whole transaction rolls back anyway
            self._run(sql, (), "handling a savepoint")

    def _undo_savepoint(self, name: str) -> None:
        if self._broken:
            return
        if self._ahead.waiting:
            self._ahead.settle()
        # on libpq, both in one round trip: psycopg would answer a ROLLBACK with
        # DEALLOCATE ALL (postgres_wire)
        sql = f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
        if not command(self._c, self._store._driver, sql.encode()):
            self._broken = True
            raise StoreError("PostgreSQL failed while rolling back to a savepoint")

    def commit(self) -> None:
        """Write the queue and commit, in one round trip when every updated row is locked."""
        if self._broken:
            raise StoreError(
                "the transaction was aborted by an error the caller caught; "
                "nothing was committed (catch errors inside tx.savepoint() instead)"
            )
        if self._ahead.waiting:
            self._ahead.settle()
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
        if self._ahead.waiting:
            self._ahead.settle()
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
        send = self._send
        if part.upserts:
            send(_UPSERT_DOCS, _UPSERT_DOC, part.upserts)
        if part.deletes:
            send(_DELETE_DOCS, _DELETE_DOC, part.deletes)
        if part.inserts:
            send(_INSERT_ORDERS, _INSERT_ORDER, [order_to_row(o) for o in part.inserts])
        if part.full:
            rows = [(*order_to_row(o), v) for o, v in part.full]
            self._checks.append((send(_UPDATE_ORDERS, _UPDATE_ORDER, rows), len(rows)))
        if part.state:
            rows = [state_row(o, v) for o, v in part.state]
            self._checks.append((send(_UPDATE_STATES, _UPDATE_STATE, rows), len(rows)))
        if part.audit:
            send(_INSERT_AUDITS, _INSERT_AUDIT, part.audit)
        if part.idem:
            send(_INSERT_IDEMS, _INSERT_IDEM, part.idem)

    def _send(self, many: str, one: str, rows: Sequence[Sequence[Any]]) -> psycopg.Cursor[Any]:
        """Write ``rows`` with one statement: ``one`` takes a row's values, ``many`` the
        rows' columns as arrays (the same columns in the same order)."""
        if len(rows) == 1:
            return self._c.execute(one, rows[0])
        return self._c.execute(many, _columns(rows))

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
        if self._levels and self._can_send_ahead():
            # inside a savepoint (a call in a caller's batch), answered before it ends: a
            # taken id or number is the same ConcurrencyConflict, and the savepoint rolls
            # the insert back; outside one, a caller may catch the error and go on
            def take(res: Any) -> None:
                if res.ntuples:
                    raise ConcurrencyConflict(order.id, -1, f"order {order.number} already exists")

            self._ahead.send(_SELECT_TAKEN_AHEAD, [order.id.encode(), order.number.encode()],
                             "checking an order is new", order.id, take)  # fmt: skip
            return False
        row = self._run(
            _SELECT_TAKEN,
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
        return self._lock_order(order_id)[1]

    def _lock_order(
        self, order_id: str, before: Sequence[tuple[str, Sequence[Any]]] = ()
    ) -> tuple[list[psycopg.Cursor[Any]], Order | None]:
        """Lock ``order_id`` after the ``before`` statements, all in one round trip; their
        cursors, and the order (``None`` if absent).

        An order is locked to be changed, and a change appends to its audit chain: the
        chain's head is read in the same round trip unless known, after the lock is held
        (a separate statement, so it sees what the previous lock holder committed)."""
        with_head = order_id not in self._heads
        statements = [*before, (_SELECT_ORDER_LOCKED, (order_id,))]
        if with_head:
            statements.append((_SELECT_HEAD, (order_id,)))
        cursors = self._pipelined(statements, "locking an order", order_id)
        n = len(before)
        row = cursors[n].fetchone()
        if row is None:
            return cursors[:n], None
        if with_head:
            head = cursors[n + 1].fetchone()
            self._heads[order_id] = (
                None if head is None else ChainHead(int(head[0]), bytes(head[1]))
            )
        return cursors[:n], order_from_row(row)

    def _fetch_idem_locking(
        self, key: str, order_id: str
    ) -> tuple[tuple[str, str] | None, Order | None]:
        # a change's retry check and its order lock in one round trip
        (idem_cur,), order = self._lock_order(order_id, ((_SELECT_IDEM, (key,)),))
        idem = idem_cur.fetchone()
        return (None if idem is None else (str(idem[0]), str(idem[1]))), order

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

    # --- lookups sent ahead of their answer (postgres_wire) -----------------------------
    def _can_send_ahead(self) -> bool:
        return self._begun and not self._broken and not self._piped

    def drain(self) -> None:
        """Read any answer still on the wire, so the connection can roll back."""
        self._ahead.drain()

    def _open_level(self) -> None:
        self._ahead.settle()  # an answer belongs to the savepoint it was sent in
        super()._open_level()

    def _check_ahead(self) -> None:
        self._ahead.settle()

    def ask_idempotent(
        self, key: str, *, lock_order: str | None = None
    ) -> Callable[[], tuple[str, str] | None] | None:
        """Send the lookup of ``key`` ahead; only inside a transaction that has begun,
        and not when ``lock_order`` still has to be locked (:meth:`get_idempotent` locks
        it in the same round trip)."""
        if (
            key in self._idem
            or not self._can_send_ahead()
            or (
                lock_order is not None
                and self._locking
                and lock_order not in self._locked
                and lock_order not in self._written
            )
        ):
            return None

        def take(res: Any) -> None:
            row = text_row(res)
            self._idem[key] = None if row is None else (row[0], row[1])  # a read: no undo

        self._ahead.send(
            _SELECT_IDEM_AHEAD, [key.encode()], "reading an idempotency key", key, take
        )

        def answer() -> tuple[str, str] | None:
            if key not in self._idem:  # still on the wire
                self._ahead.settle()
            return self._idem[key]

        return answer

    def _fetch_idem(self, key: str) -> tuple[str, str] | None:
        row = self._run(_SELECT_IDEM, (key,), "reading an idempotency key").fetchone()
        return None if row is None else (str(row[0]), str(row[1]))
