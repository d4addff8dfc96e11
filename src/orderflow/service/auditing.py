"""The audit log as a reader sees it: verification, checkpoints, proofs, replay (R5).

:meth:`AuditReader.verify` recomputes every leaf from the stored bytes and compares it
with the leaf stored beside it, checks every chain link, rebuilds the RFC 6962 tree and
compares it with every stored checkpoint (signatures too, given the log's keys). What it
cannot see is said in the audit guide: entries after the newest stored checkpoint whose
bytes and leaf were both rewritten, and a rewrite of the whole database, checkpoints
included, when no signed checkpoint was published outside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from orderflow.audit import (
    AuditLog,
    Checkpoint,
    Ed25519Verifier,
    EvidenceBundle,
    MerkleTree,
    build_bundle,
    open_note,
    verify_log,
)
from orderflow.audit.note import Ed25519Signer, SignatureStatus
from orderflow.audit.signing import split_checkpoint
from orderflow.domain import Order
from orderflow.exceptions import NotFound, ProofError, StoreError, TamperDetected, UnreadableRow
from orderflow.logstream import in_chunks
from orderflow.ports import Store
from orderflow.service.checkpoints import (
    Checkpointer,
    StoredCheckpoint,
    StoreProofSource,
    sign_checkpoint,
    stored_checkpoints,
)
from orderflow.service.codec import decoded_chain, replay_entries, status_timeline

__all__ = ["AuditReader"]


class AuditReader:
    """Verification, checkpoints, bundles and replay over a store's audit log (R5)."""

    def __init__(self, store: Store, checkpointer: Checkpointer | None = None) -> None:
        self.store = store
        self.checkpointer = checkpointer or Checkpointer(store)
        self._tree = MerkleTree()

    def tree(self) -> MerkleTree:
        """The Merkle tree of the whole stored log (extended incrementally from leaves)."""
        size = self.store.audit_size()
        if size < self._tree.size:
            self._tree = MerkleTree()
        if size > self._tree.size:
            for leaf in self.store.audit_leaves(self._tree.size, size):
                self._tree.append(leaf)
        return self._tree

    def checkpoint(self) -> Checkpoint:
        """The current checkpoint (origin, size, root); not stored."""
        tree = self.tree()
        return Checkpoint(self.store.origin, tree.size, tree.root())

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, smallest first."""
        return stored_checkpoints(self.store)

    def store_checkpoint(self) -> StoredCheckpoint:
        """Store the checkpoint of the committed log now (the service also does it by policy)."""
        return self.checkpointer.store_now()

    def sign_checkpoint(self, signer: Ed25519Signer) -> StoredCheckpoint:
        """Sign and store the current checkpoint; refuses one that does not extend the last
        checkpoint this key signed (:class:`~orderflow.ProofError`)."""
        return sign_checkpoint(self.store, signer)

    def verify(
        self,
        expected: Checkpoint | None = None,
        *,
        deep: bool = False,
        keys: Sequence[Ed25519Verifier] = (),
    ) -> Checkpoint:
        """Verify every entry, leaf, chain and stored checkpoint; with ``deep``, replay
        every order too; with ``keys``, every signed checkpoint's signature.

        Raises :class:`~orderflow.TamperDetected` naming the first bad entry (or the
        stored checkpoint that no longer matches); a deep check also reports an order
        row that differs from its replayed history (kind ``diverged``).
        """
        stored = self.checkpoints()
        if keys:
            for cp in stored:
                if not cp.note:
                    continue
                _, note = split_checkpoint(cp.note)
                if note is None or open_note(note, keys).status is not SignatureStatus.VERIFIED:
                    raise TamperDetected(
                        cp.size, "root_mismatch",
                        f"the checkpoint stored at size {cp.size} is not signed by a given key",
                    )  # fmt: skip
        for cp in stored:
            if cp.origin != self.store.origin:
                raise TamperDetected(
                    0, "root_mismatch",
                    f"the checkpoint stored at size {cp.size} names origin {cp.origin!r}, "
                    f"not {self.store.origin!r}",
                )  # fmt: skip
        size = self.store.audit_size()
        checkpoint = verify_log(
            in_chunks(self.store.audit_entries, 0, size),
            expected,
            checkpoints=[cp.checkpoint for cp in stored],
            origin=self.store.origin,
            stored_leaves=in_chunks(self.store.audit_leaves, 0, size),
            reread=lambda: (self.store.audit_entries(0, size), self.store.audit_leaves(0, size)),
        )
        if deep:
            self._replay_all()
        return checkpoint

    def _replay_all(self) -> None:
        unreadable: list[UnreadableRow] = []
        for order in self.store.orders(on_unreadable=unreadable.append):
            replayed = self.replay(order.id)
            if replayed != order:
                last = self.store.audit_chain(order.id)[-1][0]
                fields = [
                    f for f in order.__dict__ if order.__dict__[f] != replayed.__dict__.get(f)
                ]
                raise TamperDetected(
                    last,
                    "diverged",
                    f"order {order.number} row differs from its audit history in {fields}",
                )
        for exc in unreadable:  # every readable order was checked first
            chain = self.store.audit_chain(exc.key)
            raise TamperDetected(chain[-1][0] if chain else 0, "diverged", str(exc))

    def replay(self, order_id: str) -> Order:
        """Rebuild an order from its audit entries alone."""
        return replay_entries(order_id, decoded_chain(self.store.audit_chain(order_id)))

    def status_as_of(self, order_id: str, instant: dt.datetime) -> str | None:
        """The order's stage at ``instant`` (when things happened on the floor), or
        ``None`` before the order existed."""
        timeline = status_timeline(decoded_chain(self.store.audit_chain(order_id)))
        if not timeline:
            raise NotFound("order", order_id)
        stage = None
        for at, entered in timeline:
            if at <= instant:
                stage = entered
        return stage

    def bundle(self, order_id: str, *, since: str | None = None) -> EvidenceBundle:
        """The evidence bundle of one order against the newest stored checkpoint.

        The checkpoint is the newest signed one if any was signed, else the newest
        stored; an entry after it is not in the bundle (store or sign a checkpoint
        first). Only leaf hashes are held in memory, never the whole log.
        """
        stored = self.checkpoints()
        if not stored:
            raise StoreError("no checkpoint is stored yet; run 'orderflow audit checkpoint' first")
        signed = [cp for cp in stored if cp.note]
        chosen = (signed or stored)[-1]
        note = chosen.note or chosen.checkpoint.to_text()
        try:
            return build_bundle(StoreProofSource(self.store), order_id, note, since=since)
        except ProofError as exc:
            raise StoreError(f"cannot prove order {order_id}'s entries: {exc}") from None

    def log(self) -> AuditLog:
        """The stored log loaded into memory (each entry re-checked)."""
        return AuditLog.load(self.store.origin, self.store.audit_entries())
