"""The audit log in memory: append with per-order chains, proofs and checkpoints.

Verifying a stored log is :func:`orderflow.audit.verification.verify_log`
(re-exported here and from :mod:`orderflow.audit`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from orderflow.audit.checkpoint import Checkpoint
from orderflow.audit.entry import (
    FIRST_SEQ,
    GENESIS_HASH,
    AuditEntry,
    ChainHead,
    EntryType,
    FieldChange,
    encode,
    next_entry,
)
from orderflow.audit.merkle import MerkleTree
from orderflow.audit.reading import decode
from orderflow.audit.verification import verify_log  # 0.2's import path
from orderflow.exceptions import InputError

__all__ = ["AuditLog", "verify_log"]


_sha256 = hashlib.sha256


class AuditLog:
    """An append-only audit log held in memory: entry bytes, Merkle tree and chain heads.

    A persistent store does the same work inside its transaction: build the
    entry with :func:`~orderflow.audit.entry.next_entry` from the order's
    :class:`~orderflow.audit.entry.ChainHead`, store :func:`encode` bytes and
    append their leaf hash to the tree.
    """

    __slots__ = ("_by_order", "_data", "_heads", "origin", "tree")

    def __init__(self, origin: str) -> None:
        if not isinstance(origin, str) or not origin or "\n" in origin:
            raise InputError(f"log origin must be one non-empty line, got {origin!r}")
        self.origin = origin
        self.tree = MerkleTree()
        self._data: list[bytes] = []
        self._heads: dict[str, ChainHead] = {}
        self._by_order: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._data)

    @property
    def size(self) -> int:
        """Number of entries."""
        return len(self._data)

    @property
    def entries(self) -> Sequence[bytes]:
        """The stored bytes of every entry, in global order (read-only view)."""
        return tuple(self._data)

    def data(self, index: int) -> bytes:
        """The stored bytes of the entry at ``index``."""
        return self._data[index]

    def head(self, order_id: str) -> ChainHead | None:
        """The last ``seq`` and leaf hash of an order, or ``None`` if it has no entry."""
        return self._heads.get(order_id)

    def indices(self, order_id: str) -> list[int]:
        """Global indices of an order's entries, in order."""
        return list(self._by_order.get(order_id, ()))

    def record(
        self,
        order_id: str,
        type: EntryType | str,
        *,
        actor: str,
        at: int,
        from_state: str | None = None,
        to_state: str | None = None,
        changes: Mapping[str, tuple[object, object]] | Iterable[FieldChange] = (),
        context: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        nonce: bytes | None = None,
    ) -> tuple[int, AuditEntry]:
        """Build the order's next entry, append it, and return ``(index, entry)``."""
        entry = next_entry(
            self._heads.get(order_id),
            origin=self.origin,
            order_id=order_id,
            type=type,
            actor=actor,
            at=at,
            from_state=from_state,
            to_state=to_state,
            changes=changes,
            context=context,
            idempotency_key=idempotency_key,
            nonce=nonce,
        )
        return self._append(entry, encode(entry), checked=True), entry

    def append(self, data: bytes) -> int:
        """Append already-encoded entry bytes after checking them; return the index.

        Raises :class:`~orderflow.exceptions.InputError` if the bytes are not a
        canonical entry of this log that continues its order's chain.
        """
        return self._append(decode(data), data)

    def _append(self, entry: AuditEntry, data: bytes, checked: bool = False) -> int:
        order_id = entry.order_id
        if not checked:
            if entry.origin != self.origin:
                raise InputError(f"entry belongs to log {entry.origin!r}, not {self.origin!r}")
            head = self._heads.get(order_id)
            want = (FIRST_SEQ, GENESIS_HASH) if head is None else (head.seq + 1, head.leaf_hash)
            if (entry.seq, entry.prev_hash) != want:
                raise InputError(
                    f"entry for order {order_id} does not continue its chain "
                    f"(seq {entry.seq}, expected {want[0]})"
                )
        leaf = _sha256(b"\x00" + data).digest()
        index = self.tree.append(leaf)
        self._data.append(data)
        self._heads[order_id] = ChainHead(entry.seq, leaf)
        indices = self._by_order.get(order_id)
        if indices is None:
            self._by_order[order_id] = [index]
        else:
            indices.append(index)
        return index

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """The checkpoint (origin, size, root) of the first ``size`` entries (default all)."""
        size = self.size if size is None else size
        return Checkpoint(self.origin, size, self.tree.root(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        return self.tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof from ``old_size`` to ``new_size`` entries."""
        return self.tree.consistency_proof(old_size, new_size)

    @classmethod
    def load(cls, origin: str, stored: Iterable[bytes]) -> AuditLog:
        """Rebuild a log from stored bytes in global order, checking every entry."""
        log = cls(origin)
        for data in stored:
            log.append(data)
        return log
