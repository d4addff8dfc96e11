"""The undo log of a transaction's table writes, shared by the in-memory store and the
write-behind transactions: each write notes ``(table, key, old value or MISSING)``
(a tuple, not a closure: a write is on every operation's path), and rolling a
savepoint back restores them newest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MISSING", "UndoStep", "undo_to"]

MISSING = object()
"""The old value of a key the table did not have."""

UndoStep = tuple[dict[Any, Any], Any, Any] | Callable[[], None]
"""A table write to undo, or a function that undoes something else."""


def undo_to(undo: list[UndoStep], mark: int) -> None:
    """Undo the steps after the first ``mark``, newest first."""
    while len(undo) > mark:
        step = undo.pop()
        if type(step) is tuple:
            table, key, old = step
            if old is MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        else:
            step()  # type: ignore[operator]
