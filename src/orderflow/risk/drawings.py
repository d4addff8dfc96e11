"""Drawing changes per customer, read from the audit log (R13 rule 1).

A drawing change is an ``exception`` entry opening an incident of a drawing category
(``drawing_change``, ``drawing_version_conflict``) or a ``field_update`` of a drawing
field (``drawing_version``, ``drawing``). :class:`AuditLogDrawingChanges` indexes them
incrementally: each refresh reads only the entries appended since the last one (cheap
bytes test first; only entries with a text starting ``drawing`` are decoded) and keeps, per
customer, the instants of their changes (when they happened on the floor).

On the submission path the index refreshes at most once per ``refresh_seconds`` of
the service clock (900 by default: a refresh reads the log, and on SQLite flushes the
transaction's buffered writes first, which costs about as much as the rest of the rules
when done per order), so a change recorded in the last 15 minutes may be missing from
a flag; an on-demand evaluation refreshes first. A new process reads the log once on
its first refresh.
"""

from __future__ import annotations

import bisect
import threading
from typing import Protocol, runtime_checkable

from orderflow.audit import EntryType, decode
from orderflow.ports import Store, StoreTx

__all__ = ["DRAWING_CATEGORIES", "DRAWING_FIELDS", "AuditLogDrawingChanges", "DrawingChanges"]

DRAWING_CATEGORIES = frozenset({"drawing_change", "drawing_version_conflict"})
"""Incident categories that count as a drawing change."""
DRAWING_FIELDS = frozenset({"drawing_version", "drawing"})
"""Order fields whose edit counts as a drawing change."""


@runtime_checkable
class DrawingChanges(Protocol):
    """Port: how many drawing changes a customer made in ``[since_us, until_us]``."""

    def count(
        self, tx: StoreTx, customer_id: str, since_us: int, until_us: int, *, fresh: bool = False
    ) -> int:
        """The number of changes (``fresh``: catch up with the log first)."""
        ...


class AuditLogDrawingChanges:
    """Drawing changes indexed from a store's audit log, incrementally."""

    def __init__(self, store: Store, *, refresh_seconds: int = 900) -> None:
        self.store = store
        self.refresh_us = refresh_seconds * 1_000_000
        self._seen = 0
        self._last_refresh: int | None = None
        self._by_customer: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def count(
        self, tx: StoreTx, customer_id: str, since_us: int, until_us: int, *, fresh: bool = False
    ) -> int:
        """Changes by ``customer_id`` in the window (refreshing the index when due)."""
        last = self._last_refresh
        if fresh or last is None or until_us - last >= self.refresh_us or until_us < last:
            self.refresh(tx, until_us)
        times = self._by_customer.get(customer_id)
        if not times:
            return 0
        return bisect.bisect_right(times, until_us) - bisect.bisect_left(times, since_us)

    def refresh(self, tx: StoreTx, now_us: int) -> None:
        """Index the entries appended since the last refresh."""
        with self._lock:
            new = self.store.audit_entries(self._seen)
            self._seen += len(new)
            self._last_refresh = now_us
            for data in new:
                if b'"drawing' not in data:  # a category value or a field name starts so
                    continue
                entry = decode(data)
                ctx = entry.context_map
                if entry.type is EntryType.EXCEPTION:
                    hit = (
                        ctx.get("action") == "opened" and ctx.get("category") in DRAWING_CATEGORIES
                    )
                else:
                    hit = entry.type is EntryType.FIELD_UPDATE and any(
                        c.field in DRAWING_FIELDS for c in entry.changes
                    )
                if not hit:
                    continue
                order = tx.get_order(entry.order_id)
                if order is None:
                    continue
                at = int(ctx["occurred"]) if "occurred" in ctx else entry.at
                bisect.insort(self._by_customer.setdefault(order.customer_id, []), at)
