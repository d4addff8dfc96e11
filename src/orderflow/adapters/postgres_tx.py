"""A transaction of the PostgreSQL store: write-behind over one pooled connection."""

from __future__ import annotations

import contextlib
import select
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orderflow.adapters.postgres_sql import (
    _BEGIN,
    _DELETE_DOCS,
    _INSERT_AUDITS,
    _INSERT_IDEMS,
    _INSERT_ORDERS,
    _LOCK_DOCS,
    _LOCK_KEYS,
    _SELECT_DOC,
    _SELECT_DOCS,
    _SELECT_GENERATIONS,
    _SELECT_HEAD,
    _SELECT_IDEM,
    _SELECT_IDEM_AHEAD,
    _SELECT_ORDER,
    _SELECT_ORDER_LOCKED,
    _SELECT_TAKEN_AHEAD,
    _UPDATE_ORDERS,
    _UPDATE_STATES,
    _UPSERT_DOCS,
    _columns,
    _error,
    _prefix_end,
)
from orderflow.adapters.rows import order_from_row, order_to_row, state_row
from orderflow.adapters.writebehind import Slice, TxCache, WriteBehindTx
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import ConcurrencyConflict, StoreError

if TYPE_CHECKING:
    import psycopg

    from orderflow.adapters.postgres import PostgresStore


__all__ = ["_KindCache", "_PgTx"]


def _listing(kind: str, prefix: str, limit: int | None) -> tuple[str, list[object]]:
    """The statement listing the documents of ``kind`` under ``prefix``, in key order."""
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
    return sql, params


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
        # a lookup sent ahead, not yet read: (what, key, what to do with its answer)
        self._ahead: tuple[str, str, Callable[[Any], None]] | None = None

    # --- statements ---------------------------------------------------------------------
    def _run(
        self, sql: str, params: Sequence[Any] = (), what: str = "reading", key: str = "?"
    ) -> psycopg.Cursor[Any]:
        if self._broken:
            raise StoreError("this transaction already failed; it can only roll back")
        if self._ahead is not None:
            self._settle()
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
        if self._ahead is not None:
            self._settle()
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
        if self._ahead is not None:
            self._settle()
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
        if self._ahead is not None:
            self._settle()
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
        if self._levels and self._can_send_ahead():
            # inside a savepoint (a call in a caller's batch), answered before it ends: a
            # taken id or number is the same ConcurrencyConflict, and the savepoint rolls
            # the insert back; outside one, a caller may catch the error and go on
            def take(res: Any) -> None:
                if res.ntuples:
                    raise ConcurrencyConflict(order.id, -1, f"order {order.number} already exists")

            self._send_ahead(_SELECT_TAKEN_AHEAD, [order.id.encode(), order.number.encode()],
                             "checking an order is new", order.id, take)  # fmt: skip
            return False
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

    # --- lookups sent ahead of their answer ---------------------------------------------
    # psycopg's execute() waits for its answer; a lookup sent by hand on libpq lets the
    # caller work meanwhile. One is on the wire at a time; any other use of the
    # connection reads it first, and so does the end of the savepoint it was sent in.
    def _can_send_ahead(self) -> bool:
        return self._begun and not self._broken and not self._piped

    def _send_ahead(
        self,
        sql: bytes,
        params: list[bytes],
        what: str,
        key: str,
        take: Callable[[Any], None],
    ) -> None:
        if self._ahead is not None:
            self._settle()
        pg = self._c.pgconn
        try:
            pg.send_query_params(sql, params)
            if pg.flush():
                self._wait(select.POLLOUT, pg.flush)
        except self._error as exc:
            self._broken = True
            raise _error(exc, what, key) from exc
        self._ahead = (what, key, take)

    def _wait(self, event: int, again: Callable[[], Any]) -> None:
        """Wait on the connection's socket for ``event`` until ``again()`` is falsy."""
        if not again():
            return  # the usual case: the answer is in before the call's work is done
        poll = select.poll()  # not a selector: an epoll object per call costs syscalls
        poll.register(self._c.pgconn.socket, event)
        while True:
            poll.poll()
            if not again():
                return

    def _settle(self) -> None:
        """Read the answer of the lookup sent ahead and act on it."""
        ahead, self._ahead = self._ahead, None
        assert ahead is not None
        what, key, take = ahead
        pg = self._c.pgconn
        driver = self._store._driver

        def busy() -> bool:
            pg.consume_input()
            return bool(pg.is_busy())

        try:
            self._wait(select.POLLIN, busy)
            results = []
            while (res := pg.get_result()) is not None:
                results.append(res)
        except self._error as exc:
            self._broken = True
            raise _error(exc, what, key) from exc
        (res,) = results
        if res.status != driver.pq.ExecStatus.TUPLES_OK:
            self._broken = True
            refused = driver.errors.error_from_result(res, encoding="utf-8")
            raise _error(refused, what, key) from refused
        take(res)

    def drain(self) -> None:
        """Read any answer still on the wire, so the connection can roll back."""
        if self._ahead is not None:
            # the transaction is rolled back (or its connection closed) anyway
            with contextlib.suppress(Exception):
                self._settle()

    def _open_level(self) -> None:
        if self._ahead is not None:  # an answer belongs to the savepoint it was sent in
            self._settle()
        super()._open_level()

    def _check_ahead(self) -> None:
        if self._ahead is not None:
            self._settle()

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
            found = None
            if res.ntuples:
                found = (bytes(res.get_value(0, 0) or b"").decode(),
                         bytes(res.get_value(0, 1) or b"").decode())  # fmt: skip
            self._idem[key] = found  # a read: no undo

        self._send_ahead(
            _SELECT_IDEM_AHEAD, [key.encode()], "reading an idempotency key", key, take
        )

        def answer() -> tuple[str, str] | None:
            if key not in self._idem:  # still on the wire
                self._settle()
            return self._idem[key]

        return answer

    def _fetch_idem(self, key: str) -> tuple[str, str] | None:
        row = self._run(_SELECT_IDEM, (key,), "reading an idempotency key").fetchone()
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
        cur = self._run(*_listing(kind, prefix, limit), "listing documents")
        return [(str(k), str(b)) for k, b in cur.fetchall()]

    # --- prefetch -----------------------------------------------------------------------
    def _cacheable(self, kind: str) -> bool:
        """Whether a read of ``kind`` would go to the database (not the master-data
        cache shared between transactions, nor a kind whose generation is not known yet)."""
        if kind in self._store.master_kinds:
            return self._gens is not None and self._shared(kind) is None
        return True

    def prefetch(
        self,
        docs: Mapping[str, Iterable[str]],
        listings: Iterable[tuple[str, str]] = (),
        locks: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Read every document and listing not cached yet, and lock ``locks``, with one
        pipeline (one round trip) into this transaction's cache. The locks go first, kind
        by kind in the order given, as the reads for update they stand for would take
        them; a key without a document is not locked (its read for update locks it). A
        listing is left alone while writes of its kind are queued (it must see them:
        :meth:`docs` flushes first)."""
        statements: list[tuple[str, Sequence[Any]]] = []
        plan: list[tuple[str, str, list[str] | None, bool]] = []
        locking: set[tuple[str, str]] = set()
        if locks and self._locking:
            for kind, keys in locks.items():
                to_lock = sorted(
                    {k for k in keys if (kind, k) not in self._locked}
                    - {k for k in keys if (kind, k) in self._written}
                )
                if to_lock:
                    statements.append((_LOCK_DOCS, (kind, to_lock)))
                    plan.append((kind, "", to_lock, True))
                    locking.update((kind, k) for k in to_lock)
        for kind, keys in docs.items():
            missing = sorted(
                {k for k in keys if (kind, k) not in self._docs and (kind, k) not in locking}
            )
            if missing and self._cacheable(kind):
                statements.append((_SELECT_DOCS, (kind, missing)))
                plan.append((kind, "", missing, False))
        for kind, prefix in listings:
            if (
                (kind, prefix) not in self._lists
                and not self.pending_kind(kind)
                and self._cacheable(kind)
            ):
                statements.append(_listing(kind, prefix, None))
                plan.append((kind, prefix, None, False))
        if len(statements) < 2:
            return  # one statement is what the read itself would send
        cursors = self._pipelined(statements, "reading documents")
        for cur, (kind, prefix, wanted, lock) in zip(cursors, plan, strict=True):
            rows = [(str(k), str(b)) for k, b in cur.fetchall()]
            if wanted is None:
                self._lists[(kind, prefix)] = rows
                self._cache.list_kinds.setdefault(kind, set()).add(prefix)
                continue
            found = dict(rows)
            for key in wanted:
                body = found.get(key)
                k = (kind, key)
                if lock and body is not None:  # as _load_docs records a lock
                    self._set(self._locked, k, True)
                    if k in self._docs and self._docs[k] != body:
                        self._update_lists(kind, key, body)
                self._docs[k] = body  # a read: nothing to undo
