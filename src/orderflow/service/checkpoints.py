"""Stored checkpoints: the anchor that makes every entry, the newest included, tamper-evident.

A hash chain protects an entry only through the entry after it, so the newest entry of
every chain would be free to change. A checkpoint (origin, size, RFC 6962 root) commits
to every entry before it; the service stores one automatically every
``checkpoint_every_entries`` entries or ``checkpoint_every_seconds`` seconds (policy,
R4), and ``orderflow audit checkpoint --key`` signs one. ``orderflow audit verify``
rebuilds the tree and compares it with every stored checkpoint.

Each stored checkpoint keeps the compact range (RFC 6962 subtree roots, at most 64
hashes) at its size, so the next one extends it by reading only the leaf hashes written
since, never the whole log. Documents of kind ``checkpoint``, keyed by the size (20
digits), hold them.
"""

from __future__ import annotations

import datetime as dt

import attrs

from orderflow.audit import Checkpoint, CompactRange, MerkleTree
from orderflow.audit.note import Ed25519Signer
from orderflow.audit.signing import CheckpointSigner, split_checkpoint
from orderflow.clock import to_micros
from orderflow.exceptions import InputError, StoreError
from orderflow.logstream import in_chunks
from orderflow.ports import Store
from orderflow.serialization import from_json, to_json

__all__ = [
    "CHECKPOINT",
    "Checkpointer",
    "StoreProofSource",
    "StoredCheckpoint",
    "latest_checkpoint",
    "sign_checkpoint",
    "stored_checkpoints",
]

CHECKPOINT = "checkpoint"
"""Document kind of stored checkpoints (key: the tree size, zero-padded to 20 digits)."""


@attrs.frozen
class StoredCheckpoint:
    """A checkpoint as stored: the tree head, its compact range and a signed note if any."""

    origin: str
    size: int
    root: str
    """The root hash, hex."""
    range: tuple[str, ...] = ()
    """The compact range at ``size`` (hex), to extend without re-reading the log."""
    note: str = ""
    """The signed checkpoint note, when a key signed this checkpoint."""

    @property
    def checkpoint(self) -> Checkpoint:
        """The tree head as a :class:`~orderflow.audit.Checkpoint`."""
        return Checkpoint(self.origin, self.size, bytes.fromhex(self.root))

    @property
    def signers(self) -> tuple[str, ...]:
        """Names of the keys that signed the note (none when unsigned)."""
        if not self.note:
            return ()
        _, note = split_checkpoint(self.note)
        return () if note is None else tuple(s.name for s in note.signatures)


def _key(size: int) -> str:
    return f"{size:020d}"


def stored_checkpoints(store: Store) -> list[StoredCheckpoint]:
    """Every stored checkpoint, smallest size first.

    A document that does not read as a checkpoint is :class:`~orderflow.TamperDetected`
    material: it raises :class:`~orderflow.StoreError` naming its key.
    """
    with store.transaction() as tx:
        docs = tx.docs(CHECKPOINT)
    out = []
    for key, body in docs:
        try:
            stored = from_json(body, StoredCheckpoint)
        except InputError as exc:
            raise StoreError(f"stored checkpoint {key} is unreadable: {exc}") from None
        if _key(stored.size) != key:
            raise StoreError(f"stored checkpoint {key} claims size {stored.size}")
        out.append(stored)
    return out


def latest_checkpoint(store: Store) -> StoredCheckpoint | None:
    """The stored checkpoint of the largest size, if any."""
    found = stored_checkpoints(store)
    return found[-1] if found else None


def _put(store: Store, stored: StoredCheckpoint) -> None:
    with store.transaction() as tx:
        tx.put_doc(CHECKPOINT, _key(stored.size), to_json(stored))


class Checkpointer:
    """Stores checkpoints of one store's log as it grows (one per service)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.appended = 0
        """Entries this process appended since the last look (a cheap trigger)."""
        self._range: CompactRange | None = None
        self._last_us: int | None = None

    def maybe(self, now: dt.datetime, *, every_entries: int, every_seconds: int) -> None:
        """Store a checkpoint if enough entries or time passed (never inside a transaction:
        an open batch may still roll back)."""
        if not self.appended:
            return
        now_us = to_micros(now)  # integer arithmetic: this runs after every operation
        if self._last_us is None:
            self._last_us = now_us
        due = self.appended >= every_entries or now_us - self._last_us >= every_seconds * 1_000_000
        if not due or self.store.in_transaction():
            return
        self.store_now()
        self._last_us = now_us

    def store_now(self) -> StoredCheckpoint:
        """Store (and return) the checkpoint of the whole committed log now."""
        self.appended = 0
        latest = latest_checkpoint(self.store)
        current = self._range
        if latest is not None and (current is None or current.size < latest.size):
            current = CompactRange.from_nodes(latest.size, [bytes.fromhex(h) for h in latest.range])
        if current is None:
            current = CompactRange()
        for leaf in in_chunks(self.store.audit_leaves, current.size, self.store.audit_size()):
            current.append(leaf)
        self._range = current
        if latest is not None and latest.size == current.size:
            return latest
        stored = StoredCheckpoint(
            self.store.origin,
            current.size,
            current.root().hex(),
            tuple(h.hex() for h in current.nodes),
        )
        _put(self.store, stored)
        return stored


class StoreProofSource:
    """Proofs over a store's log for :func:`~orderflow.audit.build_bundle`.

    Holds the leaf hashes (32 bytes an entry), never the entries; an entry is read
    when a bundle needs it.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.tree = MerkleTree(store.audit_leaves())

    def indices(self, order_id: str) -> list[int]:
        """Global indices of the order's entries, ascending."""
        return [index for index, _ in self.store.audit_chain(order_id)]

    def data(self, index: int) -> bytes:
        """Stored bytes of the entry at ``index``."""
        (data,) = self.store.audit_entries(index, index + 1)
        return data

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of ``index`` in the tree of ``size`` entries."""
        return self.tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof between two sizes."""
        return self.tree.consistency_proof(old_size, new_size)


def sign_checkpoint(store: Store, signer: Ed25519Signer) -> StoredCheckpoint:
    """Sign and store the checkpoint of the whole log now.

    The last checkpoint this key signed (stored) is the signer's state: a checkpoint
    that does not extend it (a shrunk or rewritten log, another origin) is refused with
    :class:`~orderflow.ProofError` and nothing is stored.
    """
    source = StoreProofSource(store)
    tree = source.tree
    head = Checkpoint(store.origin, tree.size, tree.root())
    previous = next(
        (c for c in reversed(stored_checkpoints(store)) if signer.name in c.signers), None
    )
    state = CheckpointSigner(signer, previous.checkpoint if previous else None)
    proof = (
        tree.consistency_proof(previous.size, tree.size)
        if previous is not None and 0 < previous.size < tree.size
        else []
    )
    note = state.sign(head, proof)
    compact = CompactRange()
    for i in range(tree.size):
        compact.append(tree.leaf(i))
    stored = StoredCheckpoint(
        head.origin, head.size, head.root.hex(), tuple(h.hex() for h in compact.nodes), note
    )
    _put(store, stored)
    return stored
