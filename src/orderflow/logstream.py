"""Reading a store's whole audit log a chunk at a time.

Verification, checkpoints, history, exports, the what-if and the risk model's training
rows all walk the log from one end to the other. A 147,000-order year holds about
790,000 entries, so none of them may hold it at once: they read ``CHUNK`` entries (or
leaf hashes) per query through the functions here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from orderflow.audit import AuditEntry, decode
from orderflow.exceptions import TamperDetected
from orderflow.ports import Store

__all__ = ["CHUNK", "decoded", "entries", "in_chunks"]

CHUNK = 20_000
"""Entries (or leaf hashes) read per query."""


def in_chunks(
    read: Callable[[int, int], list[bytes]], start: int, stop: int, chunk: int = CHUNK
) -> Iterator[bytes]:
    """``read(a, b)``'s values for ``[start, stop)``, ``chunk`` per call (``read`` is a
    store's ``audit_entries`` or ``audit_leaves``)."""
    for first in range(start, stop, chunk):
        yield from read(first, min(first + chunk, stop))


def entries(store: Store, *, chunk: int = CHUNK) -> Iterator[bytes]:
    """The stored bytes of every entry the log holds now, oldest first."""
    return in_chunks(store.audit_entries, 0, store.audit_size(), chunk)


def decoded(store: Store, *, chunk: int = CHUNK) -> Iterator[tuple[int, AuditEntry]]:
    """Every entry with its global index, decoded, oldest first.

    An entry that does not decode is :class:`~orderflow.TamperDetected`: a reader of a
    damaged log must not silently drop evidence.
    """
    for index, data in enumerate(entries(store, chunk=chunk)):
        try:
            yield index, decode(data)
        except ValueError as exc:
            raise TamperDetected(index, "edited", str(exc)) from None
