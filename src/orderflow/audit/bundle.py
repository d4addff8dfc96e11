"""Evidence bundles: one order's entries, their inclusion proofs and a checkpoint (stdlib only).

A bundle lets a customer check, without access to the log, that the entries
of their order are in the log the checkpoint commits to, form an unbroken chain
from the order's first entry, and (with the log's public key) that the log
signed that checkpoint. An optional consistency proof shows the checkpoint
extends an older one the customer kept. A bundle cannot show that no later
entry exists; a bundle against a later checkpoint would include it.

JSON layout (``format`` ``orderflow-audit-bundle/1``)::

    {"format": "orderflow-audit-bundle/1", "order_id": "HY20260122-887",
     "checkpoint": "<checkpoint note, signed or not>",
     "entries": [{"index": 17, "entry": "<stored entry text>", "proof": ["<b64>", ...]}],
     "consistency": {"checkpoint": "<older checkpoint note>", "proof": ["<b64>", ...]}}
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from orderflow.audit.checkpoint import Checkpoint
from orderflow.audit.entry import FIRST_SEQ, GENESIS_HASH, AuditEntry
from orderflow.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from orderflow.audit.note import Ed25519Verifier, SignatureStatus, open_note
from orderflow.audit.reading import decode
from orderflow.audit.signing import split_checkpoint
from orderflow.exceptions import InputError, ProofError, TamperDetected

__all__ = [
    "BUNDLE_FORMAT",
    "BundleEntry",
    "BundleReport",
    "ConsistencyEvidence",
    "EvidenceBundle",
    "ProofSource",
    "build_bundle",
    "verify_bundle",
]

BUNDLE_FORMAT = "orderflow-audit-bundle/1"
"""The ``format`` value of bundles this version writes and reads."""


class ProofSource(Protocol):
    """What :func:`build_bundle` needs from a log (an :class:`AuditLog` or a store)."""

    def indices(self, order_id: str) -> list[int]:
        """Global indices of the order's entries, ascending."""
        ...

    def data(self, index: int) -> bytes:
        """Stored bytes of the entry at ``index``."""
        ...

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of ``index`` in the tree of ``size`` entries."""
        ...

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof between two sizes."""
        ...


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One entry in a bundle: its global index, stored bytes and inclusion proof."""

    index: int
    data: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyEvidence:
    """An older checkpoint note and the proof that the bundle's checkpoint extends it."""

    checkpoint: str
    proof: tuple[bytes, ...]


def _b64list(proof: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in proof]


@dataclass(frozen=True, slots=True)
class EvidenceBundle:
    """Everything a customer needs to check one order's audit trail offline."""

    order_id: str
    checkpoint: str
    entries: tuple[BundleEntry, ...]
    consistency: ConsistencyEvidence | None = None

    def to_dict(self) -> dict[str, Any]:
        """The bundle as JSON-ready data."""
        return {
            "format": BUNDLE_FORMAT,
            "order_id": self.order_id,
            "checkpoint": self.checkpoint,
            "entries": [
                {"index": e.index, "entry": e.data.decode("utf-8"), "proof": _b64list(e.proof)}
                for e in self.entries
            ],
            "consistency": None
            if self.consistency is None
            else {
                "checkpoint": self.consistency.checkpoint,
                "proof": _b64list(self.consistency.proof),
            },
        }

    def to_json(self) -> str:
        """The bundle as a JSON document (UTF-8 text, entries kept verbatim)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    @classmethod
    def from_dict(cls, obj: object) -> EvidenceBundle:
        """Read a bundle from parsed JSON; :class:`~orderflow.exceptions.InputError` if bad."""
        if not isinstance(obj, dict):
            raise InputError("bundle must be a JSON object")
        if obj.get("format") != BUNDLE_FORMAT:
            raise InputError(f"bundle format must be {BUNDLE_FORMAT!r}, got {obj.get('format')!r}")
        order_id, note, entries = obj.get("order_id"), obj.get("checkpoint"), obj.get("entries")
        if not isinstance(order_id, str) or not isinstance(note, str):
            raise InputError("bundle needs text fields 'order_id' and 'checkpoint'")
        if not isinstance(entries, list):
            raise InputError("bundle field 'entries' must be a list")
        parsed = []
        for n, item in enumerate(entries):
            if not isinstance(item, dict):
                raise InputError(f"bundle entry {n} must be an object")
            index, text = item.get("index"), item.get("entry")
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise InputError(f"bundle entry {n}: 'index' must be a non-negative integer")
            if not isinstance(text, str):
                raise InputError(f"bundle entry {n}: 'entry' must be text")
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(f"bundle entry {n}: 'entry' is not valid text") from None
            parsed.append(BundleEntry(index, data, _hashes(item.get("proof"), f"entry {n}")))
        cons = obj.get("consistency")
        evidence = None
        if cons is not None:
            if not isinstance(cons, dict) or not isinstance(cons.get("checkpoint"), str):
                raise InputError("bundle 'consistency' needs a 'checkpoint' text and a 'proof'")
            evidence = ConsistencyEvidence(
                cons["checkpoint"], _hashes(cons.get("proof"), "consistency")
            )
        return cls(order_id, note, tuple(parsed), evidence)

    @classmethod
    def from_json(cls, text: str | bytes) -> EvidenceBundle:
        """Parse a bundle JSON document."""
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise InputError(f"bundle is not valid JSON: {exc}") from None
        return cls.from_dict(obj)


def _hashes(value: object, where: str) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise InputError(f"bundle {where}: 'proof' must be a list of base64 hashes")
    out = []
    for h in value:
        if not isinstance(h, str):
            raise InputError(f"bundle {where}: proof hashes must be base64 text")
        try:
            raw = base64.b64decode(h.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise InputError(f"bundle {where}: proof hash {h!r:.50} is not base64") from None
        out.append(raw)
    return tuple(out)


def build_bundle(
    log: ProofSource,
    order_id: str,
    checkpoint_note: str,
    *,
    since: str | None = None,
) -> EvidenceBundle:
    """Make the evidence bundle of ``order_id`` against ``checkpoint_note``.

    ``checkpoint_note`` is a checkpoint text, normally signed
    (:class:`~orderflow.audit.signing.CheckpointSigner`). Entries beyond its
    size are left out. ``since`` is an older checkpoint note the customer holds;
    the bundle then carries the consistency proof from it.
    """
    checkpoint, _ = split_checkpoint(checkpoint_note)
    size = checkpoint.size
    entries = tuple(
        BundleEntry(i, log.data(i), tuple(log.inclusion_proof(i, size)))
        for i in log.indices(order_id)
        if i < size
    )
    if not entries:
        raise InputError(f"order {order_id} has no audit entry in the first {size} entries")
    evidence = None
    if since is not None:
        old, _ = split_checkpoint(since)
        if old.size > size or old.size == 0:
            raise InputError(f"cannot prove consistency from size {old.size} to {size}")
        evidence = ConsistencyEvidence(since, tuple(log.consistency_proof(old.size, size)))
    return EvidenceBundle(order_id, checkpoint_note, entries, evidence)


@dataclass(frozen=True, slots=True)
class BundleReport:
    """What :func:`verify_bundle` established.

    ``signature`` is ``"verified"`` only if a trusted key's signature on the
    checkpoint was checked; otherwise ``"signature unchecked"`` and ``reason``
    says why (no key given, or ``cryptography`` not installed).
    """

    order_id: str
    entries: tuple[AuditEntry, ...]
    indices: tuple[int, ...]
    checkpoint: Checkpoint
    signature: SignatureStatus
    signed_by: tuple[str, ...]
    reason: str
    consistent_from: Checkpoint | None

    @property
    def fully_verified(self) -> bool:
        """Whether the proofs and the checkpoint signature were all checked."""
        return self.signature is SignatureStatus.VERIFIED


def verify_bundle(
    bundle: EvidenceBundle | str | bytes,
    keys: Sequence[Ed25519Verifier | str] = (),
    *,
    previous: Checkpoint | None = None,
) -> BundleReport:
    """Check an evidence bundle; return what was verified.

    ``keys`` are trusted verifier keys (objects or ``name+id+key`` strings).
    ``previous`` is an older checkpoint the customer trusts; the bundle must then
    prove consistency from it. Raises :class:`~orderflow.exceptions.TamperDetected`
    (entries or chain do not verify), :class:`~orderflow.exceptions.ProofError`
    (a proof or signature fails) or :class:`~orderflow.exceptions.InputError`
    (malformed bundle or key).
    """
    if not isinstance(bundle, EvidenceBundle):
        bundle = EvidenceBundle.from_json(bundle)
    verifiers = [Ed25519Verifier.from_vkey(k) if isinstance(k, str) else k for k in keys]
    checkpoint, note = split_checkpoint(bundle.checkpoint)
    if not bundle.entries:
        raise InputError("bundle has no entries")
    entries = []
    prev_hash, prev_index, seq = GENESIS_HASH, -1, FIRST_SEQ
    for item in bundle.entries:
        i = item.index
        if i <= prev_index:
            raise TamperDetected(i, "reordered", "bundle entries are not in ascending log order")
        if i >= checkpoint.size:
            raise TamperDetected(
                i, "truncated", f"entry index is beyond checkpoint size {checkpoint.size}"
            )
        try:
            entry = decode(item.data)
        except InputError as exc:
            raise TamperDetected(i, "edited", str(exc)) from None
        if entry.order_id != bundle.order_id:
            raise TamperDetected(
                i, "edited", f"entry is for order {entry.order_id!r}, not {bundle.order_id!r}"
            )
        if entry.origin != checkpoint.origin:
            raise TamperDetected(
                i, "edited", f"entry is from log {entry.origin!r}, not {checkpoint.origin!r}"
            )
        if entry.seq != seq:
            kind = "missing" if entry.seq > seq else "duplicated"
            raise TamperDetected(i, kind, f"order seq {entry.seq} where {seq} is due")
        if entry.prev_hash != prev_hash:
            raise TamperDetected(i, "edited", f"seq {seq} does not link to the previous entry")
        leaf = leaf_hash(item.data)
        try:
            verify_inclusion(i, checkpoint.size, leaf, item.proof, checkpoint.root)
        except ProofError as exc:
            raise TamperDetected(i, "edited", f"not in the checkpointed log: {exc}") from None
        entries.append(entry)
        prev_hash, prev_index, seq = leaf, i, seq + 1
    consistent_from = _check_consistency(bundle, checkpoint, previous)
    if not verifiers:
        status, reason = SignatureStatus.UNCHECKED, "no trusted key was given"
        signed_by: tuple[str, ...] = ()
    elif note is None:
        raise ProofError("the checkpoint is not signed")
    else:
        check = open_note(note, verifiers)
        status, signed_by, reason = check.status, check.signed_by, check.reason
    return BundleReport(
        bundle.order_id,
        tuple(entries),
        tuple(e.index for e in bundle.entries),
        checkpoint,
        status,
        signed_by,
        reason,
        consistent_from,
    )


def _check_consistency(
    bundle: EvidenceBundle, checkpoint: Checkpoint, previous: Checkpoint | None
) -> Checkpoint | None:
    if bundle.consistency is None:
        if previous is None:
            return None
        if previous.size == checkpoint.size and previous.root == checkpoint.root:
            return previous
        raise ProofError(f"the bundle has no consistency proof from the kept size {previous.size}")
    old, _ = split_checkpoint(bundle.consistency.checkpoint)
    if old.origin != checkpoint.origin:
        raise ProofError(
            f"the older checkpoint is from log {old.origin!r}, not {checkpoint.origin!r}"
        )
    if previous is not None and (previous.size, previous.root) != (old.size, old.root):
        raise ProofError(
            f"the bundle proves consistency from size {old.size}, "
            f"not from the kept size {previous.size}"
        )
    verify_consistency(
        old.size, checkpoint.size, old.root, checkpoint.root, bundle.consistency.proof
    )
    return old
