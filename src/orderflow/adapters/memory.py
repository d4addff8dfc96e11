"""An in-memory store: for tests, examples and simulations that need no file.

Transactions are serialised by one lock and undone from an undo log, so a failed
operation leaves nothing behind, exactly like the SQL stores.
"""

from __future__ import annotations

import datetime as dt
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from orderflow.adapters.undo import MISSING, UndoStep, undo_to
from orderflow.audit import ChainHead
from orderflow.domain.order import Order
from orderflow.exceptions import ConcurrencyConflict, InputError, UnreadableRow

__all__ = ["MemoryStore"]

_LEAF = 32  # bytes of a leaf hash (SHA-256)


class _PackedLog:
    """The audit entries' bytes end to end, in chunks of :data:`_CHUNK` entries, with
    each entry's end offset in its chunk: a year's ~800,000 entries as separate ``bytes``
    objects cost ~65 more bytes each (object header, allocator rounding, list slot),
    ~50 MB of a replayed year. A full chunk is kept as exact-size ``bytes``; only the
    last one grows (one growing buffer for all would keep up to an eighth spare)."""

    __slots__ = ("_ends", "_full", "_tail")

    def __init__(self) -> None:
        self._full: list[bytes] = []
        self._tail = bytearray()
        self._ends: array[int] = array("q")

    def __len__(self) -> int:
        return len(self._ends)

    def append(self, data: bytes) -> None:
        if len(self._ends) == (len(self._full) + 1) * _CHUNK:  # the tail is full
            self._full.append(bytes(self._tail))
            self._tail = bytearray()
        self._tail += data
        self._ends.append(len(self._tail))

    def pop(self) -> None:
        """Drop the last entry (a rolled-back append)."""
        self._ends.pop()
        if len(self._ends) == len(self._full) * _CHUNK and self._full:
            self._tail = bytearray(self._full.pop())  # the tail's one entry is gone
        else:
            del self._tail[self._ends[-1] if len(self._ends) % _CHUNK else 0 :]

    def _chunk(self, index: int) -> tuple[int, int, int]:
        """Which chunk holds entry ``index``, and where in it."""
        ends = self._ends
        return index // _CHUNK, (ends[index - 1] if index % _CHUNK else 0), ends[index]

    def __getitem__(self, index: int) -> bytes:
        k, begin, end = self._chunk(index)
        return bytes((self._full[k] if k < len(self._full) else self._tail)[begin:end])

    def between(self, start: int, stop: int | None) -> list[bytes]:
        """Entries ``[start:stop]`` (list slicing)."""
        first, last, _ = slice(start, stop).indices(len(self._ends))
        return [self[i] for i in range(first, last)]

    def replace(self, index: int, data: bytes) -> None:
        """Overwrite one entry (tamper tests): the entries after it in its chunk move."""
        k, begin, end = self._chunk(index)
        if k < len(self._full):
            chunk = self._full[k]
            self._full[k] = chunk[:begin] + data + chunk[end:]
        else:
            self._tail[begin:end] = data
        ends = self._ends
        for i in range(index, min(len(ends), (k + 1) * _CHUNK)):
            ends[i] += len(data) - (end - begin)


_CHUNK = 4096  # entries per chunk of the packed log (~2.4 MB)


class _TrackedOrders(dict[str, Order]):
    """The order table, noting which orders carry a stage deadline on every write
    (inserts, updates and the undo of a rolled-back savepoint all pass through here), so
    the overdue sweep looks only at those."""

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
    """The documents, also filed by kind: a listing reads its kind, not every document
    (the outbox alone adds one an audit entry). Each kind's keys are kept sorted until
    a key is added or removed: the capacity schedule is listed at every kitting and
    dispatch, and is rewritten far less often."""

    def __init__(self) -> None:
        super().__init__()
        self.by_kind: dict[str, dict[str, str]] = {}
        self._sorted: dict[str, list[str]] = {}
        # listings as last answered, per kind and prefix, until the kind is written
        self._listed: dict[str, dict[str, list[tuple[str, str]]]] = {}

    def __setitem__(self, key: tuple[str, str], value: str) -> None:
        super().__setitem__(key, value)
        filed = self.by_kind.setdefault(key[0], {})
        if key[1] not in filed:
            self._sorted.pop(key[0], None)
        filed[key[1]] = value
        self._listed.pop(key[0], None)

    def pop(self, key: tuple[str, str], default: Any = None) -> Any:
        filed = self.by_kind.get(key[0], {})
        if key[1] in filed:
            del filed[key[1]]
            self._sorted.pop(key[0], None)
            self._listed.pop(key[0], None)
        return super().pop(key, default)

    def listing(self, kind: str, prefix: str) -> list[tuple[str, str]]:
        """``(key, body)`` of the documents of ``kind`` whose key starts with ``prefix``,
        in key order (a new list: the caller may keep or change it)."""
        listed = self._listed.get(kind)
        if listed is not None and prefix in listed:
            return list(listed[prefix])
        found = self._list(kind, prefix)
        self._listed.setdefault(kind, {})[prefix] = found
        return list(found)

    def _list(self, kind: str, prefix: str) -> list[tuple[str, str]]:
        filed = self.by_kind.get(kind)
        if not filed:
            return []
        keys = self._sorted.get(kind)
        if keys is None:
            keys = self._sorted[kind] = sorted(filed)
        if not prefix:
            return [(k, filed[k]) for k in keys]
        found = []
        # the keys that start with prefix are the run of sorted keys from the first one
        # not less than prefix: any key in between would start with it too
        for i in range(bisect_left(keys, prefix), len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            found.append((key, filed[key]))
        return found


class _MemoryTx:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store
        self._undo: list[UndoStep] = []  # orderflow.adapters.undo

    # --- undo helpers -----------------------------------------------------------------
    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        self._undo.append((table, key, table.get(key, MISSING)))
        table[key] = value

    def rollback_to(self, mark: int) -> None:
        undo_to(self._undo, mark)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        mark = len(self._undo)
        try:
            yield
        except BaseException:
            self.rollback_to(mark)
            raise

    # --- orders -------------------------------------------------------------------------
    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        return self._s._orders.get(order_id)

    def find_order_id(self, field: str, value: str) -> str | None:
        return self._s._index[field].get(value)

    def insert_order(self, order: Order) -> None:
        s = self._s
        if order.id in s._orders or order.number in s._index["number"]:
            raise ConcurrencyConflict(order.id, -1, f"order {order.number} already exists")
        self._set(s._orders, order.id, order)
        self._index(order)

    def _index(self, order: Order) -> None:
        for field in ("number", "query_token_hash", "erp_id"):
            value = getattr(order, field)
            if value:
                self._set(self._s._index[field], value, order.id)

    def update_order(self, order: Order, expected_version: int) -> None:
        current = self._s._orders.get(order.id)
        if current is None or current.version != expected_version:
            raise ConcurrencyConflict(order.id, expected_version)
        self._set(self._s._orders, order.id, order)
        if (order.number, order.query_token_hash, order.erp_id) != (
            current.number, current.query_token_hash, current.erp_id,
        ):  # fmt: skip
            self._index(order)  # most updates move the stage only

    # --- audit --------------------------------------------------------------------------
    def chain_head(self, chain: str) -> ChainHead | None:
        return self._s._heads.get(chain)

    def append_audit(self, chain: str, seq: int, data: bytes, leaf: bytes) -> None:
        s = self._s
        head = s._heads.get(chain)
        if (head.seq + 1 if head else 0) != seq:
            raise ConcurrencyConflict(chain, seq - 1, "audit chain moved on")
        if len(leaf) != _LEAF:  # they are packed end to end
            raise InputError(f"a leaf hash is {_LEAF} bytes (SHA-256), got {len(leaf)}")
        s._log.append(data)
        s._leaves += leaf
        self._set(s._heads, chain, ChainHead(seq, leaf))
        positions = s._chains.get(chain)
        if positions is None:
            positions = s._chains[chain] = array("q")
        positions.append(len(s._log) - 1)

        def undo() -> None:
            s._log.pop()
            del s._leaves[-_LEAF:]
            positions.pop()

        self._undo.append(undo)

    # --- idempotency and documents ------------------------------------------------------
    def get_idempotent(self, key: str, *, lock_order: str | None = None) -> tuple[str, str] | None:
        return self._s._idem.get(key)  # one writer at a time: nothing to lock

    def ask_idempotent(
        self, key: str, *, lock_order: str | None = None
    ) -> Callable[[], tuple[str, str] | None] | None:
        return None  # a dict lookup: nothing to send ahead

    def put_idempotent(self, key: str, fingerprint: str, result: str) -> None:
        if key in self._s._idem:
            raise ConcurrencyConflict(key, -1, "idempotency key already recorded")
        self._set(self._s._idem, key, (fingerprint, result))

    def get_doc(self, kind: str, key: str, *, for_update: bool = False) -> str | None:
        return self._s._docs.get((kind, key))

    def prefetch(
        self,
        docs: Mapping[str, Iterable[str]],
        listings: Iterable[tuple[str, str]] = (),
        locks: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Nothing to do: every read is a dict lookup."""

    def get_docs(
        self, kind: str, keys: Iterable[str], *, for_update: bool = False
    ) -> dict[str, str]:
        filed = self._s._docs.by_kind.get(kind)  # no (kind, key) tuple per key
        if not filed:
            return {}
        return {k: filed[k] for k in sorted(set(keys)) if k in filed}

    def put_doc(self, kind: str, key: str, body: str) -> None:
        self._set(self._s._docs, (kind, key), body)

    def delete_doc(self, kind: str, key: str) -> None:
        docs = self._s._docs
        if (kind, key) in docs:
            old = docs.pop((kind, key))
            self._undo.append(lambda: docs.__setitem__((kind, key), old))

    def docs(
        self, kind: str, prefix: str = "", *, limit: int | None = None
    ) -> list[tuple[str, str]]:
        found = self._s._docs.listing(kind, prefix)
        return found if limit is None else found[:limit]


class MemoryStore:
    """A :class:`~orderflow.ports.Store` held in process memory (lost when the process ends)."""

    def __init__(self, origin: str = "orderflow.local/memory") -> None:
        self.origin = origin
        self._lock = threading.RLock()
        self._orders = _TrackedOrders()
        self._index: dict[str, dict[str, str]] = {
            "number": {},
            "query_token_hash": {},
            "erp_id": {},
        }
        # a year's log is ~800,000 entries: the bytes packed end to end (the chain is in
        # _chains), the 32-byte leaf hashes too, each chain's indices as machine ints
        self._log = _PackedLog()
        self._leaves = bytearray()
        self._heads: dict[str, ChainHead] = {}
        self._chains: dict[str, array[int]] = {}
        self._idem: dict[str, tuple[str, str]] = {}
        self._docs = _DocsByKind()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTx]:
        """Open a transaction; a nested call in the same thread is a savepoint."""
        current: _MemoryTx | None = getattr(self._local, "tx", None)
        if current is not None:
            with current.savepoint():
                yield current
            return
        with self._lock:
            tx = _MemoryTx(self)
            self._local.tx = tx
            try:
                yield tx
            except BaseException:
                tx.rollback_to(0)
                raise
            finally:
                self._local.tx = None

    def audit_entries(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Stored audit bytes in global order."""
        with self._lock:
            return self._log.between(start, stop)

    def audit_leaves(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Leaf hashes stored beside the entries, in global order."""
        with self._lock:
            first, last, _ = slice(start, stop).indices(len(self._log))
            leaves = self._leaves
            return [bytes(leaves[i * _LEAF : (i + 1) * _LEAF]) for i in range(first, last)]

    def in_transaction(self) -> bool:
        """Whether the calling thread has a transaction open."""
        return getattr(self._local, "tx", None) is not None

    def audit_chain(self, chain: str) -> list[tuple[int, bytes]]:
        """One chain's ``(index, bytes)`` in sequence order."""
        with self._lock:
            return [(i, self._log[i]) for i in self._chains.get(chain, ())]

    def audit_size(self) -> int:
        """Number of audit entries."""
        return len(self._log)

    def orders(
        self, *, on_unreadable: Callable[[UnreadableRow], None] | None = None
    ) -> Iterator[Order]:
        """Every stored order."""
        with self._lock:
            snapshot = list(self._orders.values())
        return iter(snapshot)

    def orders_due(
        self,
        before: dt.datetime,
        *,
        on_unreadable: Callable[[UnreadableRow], None] | None = None,
    ) -> Iterator[Order]:
        """Orders whose stage deadline is earlier than ``before`` (from the orders that
        have one: the sweep runs often and most orders have none)."""
        with self._lock:
            due = [o for o in self._orders.with_deadline.values() if o.deadline < before]  # type: ignore[operator]
        return iter(due)

    def close(self) -> None:
        """Nothing to release."""

    def tamper(self, index: int, data: bytes) -> None:
        """Overwrite stored audit bytes (for tests that prove tampering is detected)."""
        with self._lock:
            self._log.replace(index, data)
