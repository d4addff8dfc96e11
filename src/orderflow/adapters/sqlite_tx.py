"""The SQLite store's transaction: ``BEGIN IMMEDIATE`` with write-behind, and its statements."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from orderflow.adapters.rows import COLUMNS, order_from_row, order_to_row, state_row
from orderflow.adapters.writebehind import Slice, TxCache, WriteBehindTx
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import StoreError

__all__ = ["_SqliteTx", "_store_error"]


def _store_error(exc: sqlite3.Error, what: str) -> StoreError:
    err = StoreError(f"SQLite failed while {what}: {exc}")
    err.__cause__ = exc
    return err


_SELECT_ORDER = f"SELECT {', '.join(COLUMNS)} FROM orders WHERE id = ?"
_INSERT_ORDER = (
    f"INSERT INTO orders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_UPDATE_ORDER = (
    "UPDATE orders SET "
    + ", ".join(f"{c} = ?" for c in COLUMNS[1:])
    + " WHERE id = ? AND version = ?"
)
_UPDATE_STATE = (
    "UPDATE orders SET stage = ?, version = ?, stage_entered_at = ?, held_from = ?, "
    "deadline = ? WHERE id = ? AND version = ?"
)


_UPSERT_DOC = (
    "INSERT INTO docs (kind, key, body) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)
_DELETE_DOC = "DELETE FROM docs WHERE kind = ? AND key = ?"
_INSERT_AUDIT = "INSERT INTO audit_log (chain, seq, leaf, data) VALUES (?, ?, ?, ?)"
_INSERT_IDEM = "INSERT INTO idempotency (key, fingerprint, result) VALUES (?, ?, ?)"


# What a connection keeps between transactions is bounded, so a year-long batch job's
# memory does not grow with the orders it has written: past a bound a table is
# dropped whole when the next transaction begins (the hot rows, stock and master
# data, are read back once). Write-mostly documents (outbox rows, query events) would
# otherwise make up most of it.
_MAX_CACHED_ORDERS = 20_000
_MAX_CACHED_DOCS = 50_000
_MAX_CACHED_HEADS = 50_000


class _SqliteTx(WriteBehindTx):
    """One ``BEGIN IMMEDIATE`` transaction with write-behind (:mod:`.writebehind`).

    It holds SQLite's only write lock, so nothing else can change the database while it
    runs: the connection's cache (kept across its transactions while ``PRAGMA
    data_version`` says no other connection committed) is always right, and a read for
    update needs no lock of its own.
    """

    def __init__(self, conn: sqlite3.Connection, cache: TxCache) -> None:
        if len(cache.orders) > _MAX_CACHED_ORDERS:
            cache.orders.clear()
        if len(cache.docs) > _MAX_CACHED_DOCS:
            cache.docs.clear()
        if len(cache.heads) > _MAX_CACHED_HEADS:
            cache.heads.clear()
        super().__init__(cache)
        self._c = conn

    def _exec(self, sql: str) -> None:
        self._c.execute(sql)

    def _write(self, part: Slice) -> None:
        c = self._c
        if part.upserts:
            c.executemany(_UPSERT_DOC, part.upserts)
        if part.deletes:
            c.executemany(_DELETE_DOC, part.deletes)
        if part.inserts:
            c.executemany(_INSERT_ORDER, [order_to_row(o) for o in part.inserts])
        full = [(*order_to_row(o)[1:], o.id, v) for o, v in part.full]
        state = [state_row(o, v) for o, v in part.state]
        for sql, rows in ((_UPDATE_ORDER, full), (_UPDATE_STATE, state)):
            if rows and c.executemany(sql, rows).rowcount != len(rows):
                raise StoreError("an order row changed outside this transaction")
        if part.audit:
            c.executemany(_INSERT_AUDIT, part.audit)
        if part.idem:
            c.executemany(_INSERT_IDEM, part.idem)

    def _fetch_order(self, order_id: str, for_update: bool) -> Order | None:
        row = self._c.execute(_SELECT_ORDER, (order_id,)).fetchone()
        return None if row is None else order_from_row(row)

    def _fetch_order_id(self, field: str, value: str) -> str | None:
        # "<> ''" lets SQLite use the partial erp_id index
        row = self._c.execute(
            f"SELECT id FROM orders WHERE {field} = ? AND {field} <> ''", (value,)
        ).fetchone()
        return None if row is None else str(row[0])

    def _fetch_head(self, chain: str) -> ChainHead | None:
        row = self._c.execute(
            "SELECT seq, leaf FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1", (chain,)
        ).fetchone()
        return None if row is None else ChainHead(row[0], bytes(row[1]))

    def _fetch_idem(self, key: str) -> tuple[str, str] | None:
        row = self._c.execute(
            "SELECT fingerprint, result FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def _fetch_docs(self, kind: str, keys: Sequence[str], for_update: bool) -> dict[str, str]:
        if len(keys) == 1:
            row = self._c.execute(
                "SELECT body FROM docs WHERE kind = ? AND key = ?", (kind, keys[0])
            ).fetchone()
            return {} if row is None else {keys[0]: str(row[0])}
        rows = self._c.execute(
            "SELECT key, body FROM docs WHERE kind = ? AND key IN (SELECT value FROM json_each(?))",
            (kind, json.dumps(list(keys))),
        ).fetchall()
        return {str(k): str(b) for k, b in rows}

    def _fetch_listing(self, kind: str, prefix: str, limit: int | None) -> list[tuple[str, str]]:
        sql = "SELECT key, body FROM docs WHERE kind = ? AND key >= ? AND key < ? ORDER BY key"
        params: tuple[object, ...] = (kind, prefix, prefix + "\U0010ffff")
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [(str(k), str(b)) for k, b in self._c.execute(sql, params).fetchall()]
