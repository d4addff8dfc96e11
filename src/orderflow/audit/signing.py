"""Signed checkpoints: sign only heads consistent with the last one, and open them.

Creating signatures needs the ``signing`` extra; opening works without it and
then reports :attr:`~orderflow.audit.note.SignatureStatus.UNCHECKED`.
"""

from __future__ import annotations

from collections.abc import Sequence

from orderflow.audit.checkpoint import Checkpoint
from orderflow.audit.merkle import verify_consistency
from orderflow.audit.note import Ed25519Signer, Ed25519Verifier, NoteCheck, SignedNote, open_note
from orderflow.exceptions import InputError, ProofError

__all__ = ["CheckpointSigner", "open_checkpoint", "split_checkpoint"]


class CheckpointSigner:
    """Signs checkpoints of one log and refuses any that is inconsistent with the last.

    ``previous`` is the last checkpoint signed (restore it after a restart).
    :meth:`sign` needs a consistency proof from ``previous.size`` to the new size
    whenever the log grew (:meth:`orderflow.audit.log.AuditLog.consistency_proof`).
    """

    __slots__ = ("previous", "signer")

    def __init__(self, signer: Ed25519Signer, previous: Checkpoint | None = None) -> None:
        self.signer = signer
        self.previous = previous

    def sign(self, checkpoint: Checkpoint, proof: Sequence[bytes] = ()) -> str:
        """Return the signed note of ``checkpoint``.

        Raises :class:`~orderflow.exceptions.ProofError` (and signs nothing) if the
        checkpoint shrinks the log, changes its origin, or ``proof`` does not show
        it extends the previously signed one.
        """
        prev = self.previous
        if prev is not None:
            if checkpoint.origin != prev.origin:
                raise ProofError(
                    f"refusing to sign: origin {checkpoint.origin!r} differs from {prev.origin!r}"
                )
            if checkpoint.size < prev.size:
                raise ProofError(
                    f"refusing to sign: size {checkpoint.size} is smaller than the signed "
                    f"size {prev.size}"
                )
            if prev.size == 0:
                pass  # every tree extends the empty tree
            else:
                try:
                    verify_consistency(
                        prev.size, checkpoint.size, prev.root, checkpoint.root, proof
                    )
                except ProofError as exc:
                    raise ProofError(
                        f"refusing to sign a checkpoint inconsistent with the one signed at "
                        f"size {prev.size}: {exc}"
                    ) from None
        text = checkpoint.to_text()
        note = SignedNote(text, (self.signer.sign(text),)).to_text()
        self.previous = checkpoint
        return note


def split_checkpoint(text: str) -> tuple[Checkpoint, SignedNote | None]:
    """Parse a checkpoint that may or may not carry signature lines."""
    if "\n\n" in text:
        note = SignedNote.parse(text)
        return Checkpoint.parse(note.text), note
    return Checkpoint.parse(text), None


def open_checkpoint(
    note: str, verifiers: Sequence[Ed25519Verifier]
) -> tuple[Checkpoint, NoteCheck]:
    """Check a signed checkpoint against trusted keys and parse it.

    Raises :class:`~orderflow.exceptions.ProofError` on a bad or missing
    signature, :class:`~orderflow.exceptions.InputError` on a malformed note.
    The key name should match the origin, but only the trusted keys count.
    """
    checkpoint, parsed = split_checkpoint(note)
    if parsed is None:
        raise InputError("the checkpoint carries no signature")
    return checkpoint, open_note(parsed, verifiers)
