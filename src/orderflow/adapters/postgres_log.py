"""The global audit log of the PostgreSQL store: its integrator and its reads.

A writer cannot know the global index of its audit entry without serialising all writers
(a table lock or a counter row every transaction would have to update). So writers
insert their entry with ``idx`` NULL; the ``bigserial`` column ``id`` only records
insertion order. :meth:`~orderflow.adapters.postgres.PostgresStore.integrate` then runs
one transaction that takes ``pg_advisory_xact_lock`` for the schema (one integrator at a
time, in any process), reads the next free index from the one-row ``audit_integrator``
table, and numbers the rows that are *committed* and still have ``idx`` NULL
consecutively, by ``id``, in batches. Because the marker is "``idx`` is NULL" and not an
``id`` watermark, a row whose transaction commits after a row with a higher ``id`` was
already numbered is not skipped: it is simply numbered by the next integration (the
global order is commit order as observed by the integrator). The lock and the ``WHERE
idx IS NULL`` update mean no row is numbered twice, and the counter row means no index
is used twice or left out. Per-order chains stay valid whatever the interleaving: an
entry is only written after its predecessor committed, so the predecessor is always
numbered first.

:meth:`~orderflow.adapters.postgres.PostgresStore.audit_entries`,
:meth:`~orderflow.adapters.postgres.PostgresStore.audit_chain` and
:meth:`~orderflow.adapters.postgres.PostgresStore.audit_size` integrate first and then
return integrated entries only. ``chain_head`` (used under the order's row lock to build
the next entry) sees the latest committed entry of a chain, integrated or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from orderflow.adapters.postgres_sql import _INTEGRATE, _INTEGRATE_BATCH, _error, _lock_key
from orderflow.exceptions import StoreError

if TYPE_CHECKING:
    import psycopg

    from orderflow.adapters.postgres_pool import Connections

__all__ = ["PgAuditLog"]


class PgAuditLog:
    """The part of :class:`~orderflow.adapters.postgres.PostgresStore` that numbers and
    reads the global log; connections and raw transactions are the store's."""

    schema: str
    batch_size: int
    _conns: Connections
    _driver: Any

    def _raw_tx(self, conn: psycopg.Connection[Any], what: str) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    # --- the integrator -----------------------------------------------------------------
    def integrate(self) -> int:
        """Give every committed, not yet numbered audit entry its global log index.

        Runs under a transaction-scoped advisory lock for this schema (one integrator at
        a time across processes), in batches of ``batch_size``; returns how many entries
        were numbered. Entries committed before the call are numbered when it returns.
        """
        total = 0
        key = _lock_key(self.schema, _INTEGRATE)
        with self._conns.borrow() as conn:
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
