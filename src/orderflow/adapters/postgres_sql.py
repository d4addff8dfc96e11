"""SQL of the PostgreSQL store: its migrations, statements and error mapping.

Kept apart from :mod:`orderflow.adapters.postgres` (the store) and
:mod:`orderflow.adapters.postgres_tx` (its transactions), which both use them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

from orderflow.adapters.rows import COLUMNS, STATE_COLUMNS
from orderflow.exceptions import ConcurrencyConflict, StoreError

__all__ = ["MASTER_KINDS", "MIGRATIONS"]

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
_SELECT_IDEM = "SELECT fingerprint, result FROM idempotency WHERE key = %s"
# two index lookups, not "id = %s OR number = %s": a prepared statement's generic plan
# for the OR, made while the table is small, is a sequential scan, kept as it grows
_SELECT_TAKEN = (
    "SELECT 1 FROM orders WHERE id = %s UNION ALL SELECT 1 FROM orders WHERE number = %s LIMIT 1"
)


def _numbered(sql: str) -> bytes:
    """``sql`` with libpq's own placeholders (``$1``, ``$2``, ...) for psycopg's ``%s``:
    the form a statement sent by hand on libpq takes."""
    parts = sql.split("%s")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1)).encode()


# the same lookups, sent by hand ahead of their answer (postgres_wire): named, so that
# each connection parses and plans them once (an unnamed statement is parsed and planned
# again every time, which cost the server more than running it)
_SELECT_IDEM_AHEAD = (b"orderflow_ahead_idem", _numbered(_SELECT_IDEM))
_SELECT_TAKEN_AHEAD = (b"orderflow_ahead_taken", _numbered(_SELECT_TAKEN))
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


# One row (every write of a call in its own transaction) goes out as a plain statement
# of the same parameters: psycopg dumps arrays in Python, about ten of them per call, and
# the server plans an unnest again at every bind.
def _values(columns: Sequence[str]) -> str:
    return ", ".join(["%s"] * len(columns))


_INSERT_ORDER = f"INSERT INTO orders ({_COLS}) VALUES ({_values(COLUMNS)})"
_UPDATE_ORDER = (  # parameters in unnest order: id, the other columns, expected version
    "WITH v AS (SELECT "
    + ", ".join(f"%s::{_ORDER_TYPES[c]} AS {c}" for c in COLUMNS)
    + ", %s::bigint AS expected) UPDATE orders o SET "
    + ", ".join(f"{c} = v.{c}" for c in COLUMNS[1:])
    + " FROM v WHERE o.id = v.id AND o.version = v.expected"
)
_UPDATE_STATE = (
    "UPDATE orders SET "
    + ", ".join(f"{c} = %s" for c in STATE_COLUMNS)
    + " WHERE id = %s AND version = %s"
)
_UPSERT_DOC = (
    "INSERT INTO docs (kind, key, body) VALUES (%s, %s, %s) "
    "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)
_DELETE_DOC = "DELETE FROM docs WHERE kind = %s AND key = %s"
_INSERT_AUDIT = "INSERT INTO audit_log (chain, seq, leaf, data) VALUES (%s, %s, %s, %s)"
_INSERT_IDEM = "INSERT INTO idempotency (key, fingerprint, result) VALUES (%s, %s, %s)"


_SELECT_DOCS = "SELECT key, body FROM docs WHERE kind = %s AND key = ANY(%s)"
_LOCK_DOCS = _SELECT_DOCS + " ORDER BY key FOR UPDATE"
_LOCK_KEYS = (  # in key order, as the rows are locked: two creators cannot deadlock
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys"
)


_SELECT_GENERATIONS = "SELECT kind, gen FROM doc_generations"
MASTER_KINDS = (
    "component",
    "customer",
    "drawing_changes",
    "drawing_index",
    "po",
    "product",
    "warehouse",
)
"""Document kinds a :class:`PostgresStore` caches between transactions by default: the
service's master data (components, customers, inbound purchase orders, products), the
factories that keep warehouses of their own and the customers' drawing changes (R13):
read by every order and rarely written."""
