"""Drawing changes per customer (R13 rule 1).

A drawing change is an ``exception`` entry opening an incident of a drawing category
(``drawing_change``, ``drawing_version_conflict``) or a ``field_update`` of a drawing
field (``drawing_version``, ``drawing``).

:class:`IndexedDrawingChanges` (the default) counts them from an index the service keeps
in the same transaction as the entry (:func:`index_drawing_change`, called for every
audit entry it appends): one document per customer listing when each change happened on
the floor. So a flag always sees every change committed before it, and the submission
path reads one cached document instead of the log. A store written before the index
existed is indexed from its log once, on first use (the ``drawing_index`` marker
document records that).

:class:`AuditLogDrawingChanges` reads the log itself, incrementally (for a log that other
software appends to); on the submission path it catches up at most once per
``refresh_seconds`` of the service clock.
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from orderflow.audit import AuditEntry, EntryType, decode
from orderflow.logstream import entries
from orderflow.ports import Store, StoreTx

__all__ = [
    "DRAWING_CATEGORIES",
    "DRAWING_FIELDS",
    "AuditLogDrawingChanges",
    "DrawingChanges",
    "IndexedDrawingChanges",
    "drawing_change_at",
    "index_drawing_change",
]

DRAWING_CATEGORIES = frozenset({"drawing_change", "drawing_version_conflict"})
"""Incident categories that count as a drawing change."""
DRAWING_FIELDS = frozenset({"drawing_version", "drawing"})
"""Order fields whose edit counts as a drawing change."""


INDEX = "drawing_changes"
"""Document kind: per customer, the changes as lines ``<occurred µs> <chain> <seq>``."""
MARKER = ("drawing_index", "v1")
"""The document whose presence says the log written before the index was indexed."""


def drawing_change_at(entry: AuditEntry) -> int | None:
    """When ``entry``'s drawing change happened on the floor (UTC µs), or ``None`` if it
    records none."""
    if entry.type is EntryType.EXCEPTION:
        ctx = entry.context_map
        if ctx.get("action") != "opened" or ctx.get("category") not in DRAWING_CATEGORIES:
            return None
    elif entry.type is EntryType.FIELD_UPDATE and any(
        c.field in DRAWING_FIELDS for c in entry.changes
    ):
        ctx = entry.context_map
    else:
        return None
    occurred = ctx.get("occurred")
    return int(occurred) if occurred else entry.at


def _changes(tx: StoreTx, stream: Iterable[bytes]) -> Iterator[tuple[str, int, AuditEntry]]:
    """``(customer, occurred µs, entry)`` of each drawing change among ``stream``'s
    stored entries (orders that no longer exist are skipped)."""
    customers: dict[str, str | None] = {}
    for data in stream:
        if b'"drawing' not in data:  # a category value or a field name starts so
            continue
        entry = decode(data)
        at = drawing_change_at(entry)
        if at is None:
            continue
        chain = entry.order_id
        if chain not in customers:
            order = tx.get_order(chain)
            customers[chain] = None if order is None else order.customer_id
        customer = customers[chain]
        if customer is not None:
            yield customer, at, entry


def _in_window(times: Sequence[int], since_us: int, until_us: int) -> int:
    return bisect.bisect_right(times, until_us) - bisect.bisect_left(times, since_us)


def index_drawing_change(tx: StoreTx, entry: AuditEntry) -> None:
    """Add ``entry`` to its order's customer's drawing changes if it records one (a
    no-op, reading nothing, for every other entry; adding the same entry twice keeps
    one)."""
    at = drawing_change_at(entry)
    if at is None:
        return
    order = tx.get_order(entry.order_id)
    if order is not None:
        _add(tx, order.customer_id, {_line(at, entry)})


def _line(at: int, entry: AuditEntry) -> str:
    return f"{at} {entry.order_id} {entry.seq}"


def _add(tx: StoreTx, customer_id: str, lines: set[str]) -> None:
    body = tx.get_doc(INDEX, customer_id, for_update=True)
    known = set(body.split("\n")) if body else set()
    if not lines <= known:
        merged = sorted(known | lines, key=lambda line: int(line.split(" ", 1)[0]))
        tx.put_doc(INDEX, customer_id, "\n".join(merged))


@functools.lru_cache(maxsize=1024)
def _instants(body: str) -> tuple[int, ...]:
    return tuple(int(line.split(" ", 1)[0]) for line in body.split("\n"))


class IndexedDrawingChanges:
    """Drawing changes counted from the index the service keeps (see the module doc)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def count(
        self, tx: StoreTx, customer_id: str, since_us: int, until_us: int, *, fresh: bool = False
    ) -> int:
        """Changes by ``customer_id`` in ``[since_us, until_us]`` (always current: the
        index commits with the entries; ``fresh`` is accepted for the port's sake)."""
        if tx.get_doc(*MARKER) is None:
            self.backfill(tx)
        body = tx.get_doc(INDEX, customer_id)
        if not body:
            return 0
        return _in_window(_instants(body), since_us, until_us)

    def backfill(self, tx: StoreTx) -> None:
        """Index every drawing change of the log (once per store: a store written before
        the index existed), then set the marker."""
        found: dict[str, set[str]] = {}
        for customer, at, entry in _changes(tx, entries(self.store)):
            found.setdefault(customer, set()).add(_line(at, entry))
        for customer, lines in sorted(found.items()):
            _add(tx, customer, lines)
        tx.put_doc(*MARKER, "indexed")


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
        return _in_window(times, since_us, until_us)

    def refresh(self, tx: StoreTx, now_us: int) -> None:
        """Index the entries appended since the last refresh."""
        with self._lock:
            new = self.store.audit_entries(self._seen)
            self._seen += len(new)
            self._last_refresh = now_us
            for customer, at, _ in _changes(tx, new):
                bisect.insort(self._by_customer.setdefault(customer, []), at)
