"""Documents in a PostgreSQL transaction: reads (for update), listings, prefetch, and the
master data cached between transactions (the part of
:class:`~orderflow.adapters.postgres_tx._PgTx` that reads the ``docs`` table)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orderflow.adapters.postgres_sql import (
    _LOCK_DOCS,
    _LOCK_KEYS,
    _SELECT_DOC,
    _SELECT_DOCS,
    _prefix_end,
)
from orderflow.adapters.writebehind import WriteBehindTx

if TYPE_CHECKING:
    import psycopg

    from orderflow.adapters.postgres import PostgresStore

__all__ = ["PgDocs", "_KindCache"]


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


class PgDocs(WriteBehindTx):
    """The document reads of a PostgreSQL transaction; statements go through
    :meth:`_run` and :meth:`_pipelined`, which the transaction provides."""

    _store: PostgresStore
    _lock_prefix: str
    _gens: dict[str, int] | None  # tracked kinds' generations at BEGIN
    _dirty: set[str]  # kinds this transaction wrote

    def _run(
        self, sql: str, params: Sequence[Any] = (), what: str = "reading", key: str = "?"
    ) -> psycopg.Cursor[Any]:
        raise NotImplementedError

    def _pipelined(
        self, statements: Sequence[tuple[str, Sequence[Any]]], what: str, key: str = "?"
    ) -> list[psycopg.Cursor[Any]]:
        raise NotImplementedError

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
