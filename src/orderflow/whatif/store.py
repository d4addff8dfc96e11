"""The in-memory store a replay writes to: :class:`~orderflow.adapters.memory.MemoryStore`
with two lookups indexed.

``MemoryStore`` answers "which orders are overdue" and "which documents of this kind"
by looking at everything it holds. A replay sweeps for overdue orders every simulated
hour (~10,000 sweeps a year, over up to 147,000 orders) and reads inbound POs and
capacity (documents by kind) several times per order, while the documents grow with the
year: both would make a year's replay quadratic. This store keeps side tables as it is
written (inserts, updates and the undo of a rolled-back savepoint all pass through
them): the orders that have a stage deadline, and the documents of each kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orderflow.adapters.memory import MemoryStore, _MemoryTx
from orderflow.domain import Order

__all__ = ["ReplayStore"]


class _TrackedOrders(dict[str, Order]):
    """The store's order table, noting which orders carry a deadline on every write
    (inserts, updates and the undo of a rolled-back savepoint all pass through here)."""

    def __init__(self) -> None:
        super().__init__()
        self.with_deadline: dict[str, Order] = {}

    def __setitem__(self, key: str, value: Order) -> None:
        super().__setitem__(key, value)
        if value.deadline is None:
            self.with_deadline.pop(key, None)
        else:
            self.with_deadline[key] = value

    def pop(self, key: str, default: Any = None) -> Any:
        self.with_deadline.pop(key, None)
        return super().pop(key, default)


class _DocsByKind(dict[tuple[str, str], str]):
    """The store's documents, also filed by kind."""

    def __init__(self) -> None:
        super().__init__()
        self.by_kind: dict[str, dict[str, str]] = {}

    def __setitem__(self, key: tuple[str, str], value: str) -> None:
        super().__setitem__(key, value)
        self.by_kind.setdefault(key[0], {})[key[1]] = value

    def pop(self, key: tuple[str, str], default: Any = None) -> Any:
        self.by_kind.get(key[0], {}).pop(key[1], None)
        return super().pop(key, default)


class _ReplayTx(_MemoryTx):
    def docs(
        self, kind: str, prefix: str = "", *, limit: int | None = None
    ) -> list[tuple[str, str]]:
        store: Any = self._s
        filed: dict[str, str] = store._docs.by_kind.get(kind, {})
        found = sorted((k, body) for k, body in filed.items() if k.startswith(prefix))
        return found if limit is None else found[:limit]


class ReplayStore(MemoryStore):
    """A :class:`~orderflow.adapters.memory.MemoryStore` whose overdue sweep looks only at
    orders that have a stage deadline, and whose documents are found by kind."""

    def __init__(self, origin: str = "orderflow.local/whatif") -> None:
        super().__init__(origin)
        self._orders: _TrackedOrders = _TrackedOrders()
        self._docs: _DocsByKind = _DocsByKind()

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTx]:
        """Open a transaction; a nested call in the same thread is a savepoint."""
        # MemoryStore.transaction, with the transaction class that reads the side table
        current: _MemoryTx | None = getattr(self._local, "tx", None)
        if current is not None:
            with current.savepoint():
                yield current
            return
        with self._lock:
            tx = _ReplayTx(self)
            self._local.tx = tx
            try:
                yield tx
            except BaseException:
                tx.rollback_to(0)
                raise
            finally:
                self._local.tx = None

    def orders_due(self, before: dt.datetime) -> Iterator[Order]:
        """Orders whose stage deadline is earlier than ``before``."""
        due = self._orders.with_deadline.values()
        return iter([o for o in due if o.deadline is not None and o.deadline < before])
