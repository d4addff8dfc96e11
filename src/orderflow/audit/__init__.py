"""Tamper-evident audit log (R5): canonical entries, per-order chains, an RFC 6962 Merkle log.

Every module here imports only the standard library; Ed25519 signing and
signature checks load ``cryptography`` (the ``signing`` extra) lazily. The
command-line verifier is ``python -m orderflow.audit.verify``.
"""

from __future__ import annotations

from orderflow.audit.bundle import (
    BUNDLE_FORMAT,
    BundleEntry,
    BundleReport,
    ConsistencyEvidence,
    EvidenceBundle,
    ProofSource,
    build_bundle,
    verify_bundle,
)
from orderflow.audit.checkpoint import Checkpoint
from orderflow.audit.entry import (
    FIRST_SEQ,
    GENESIS_HASH,
    SCHEMA_VERSION,
    AuditEntry,
    ChainHead,
    EntryType,
    FieldChange,
    encode,
    next_entry,
)
from orderflow.audit.log import AuditLog
from orderflow.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from orderflow.audit.note import (
    Ed25519Signer,
    Ed25519Verifier,
    NoteCheck,
    SignatureStatus,
    SignedNote,
    open_note,
    sign_note,
)
from orderflow.audit.reading import decode, entry_link
from orderflow.audit.signing import CheckpointSigner, open_checkpoint, split_checkpoint
from orderflow.audit.verification import verify_log

__all__ = [
    "BUNDLE_FORMAT",
    "EMPTY_ROOT",
    "FIRST_SEQ",
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "AuditEntry",
    "AuditLog",
    "BundleEntry",
    "BundleReport",
    "ChainHead",
    "Checkpoint",
    "CheckpointSigner",
    "CompactRange",
    "ConsistencyEvidence",
    "Ed25519Signer",
    "Ed25519Verifier",
    "EntryType",
    "EvidenceBundle",
    "FieldChange",
    "MerkleTree",
    "NoteCheck",
    "ProofSource",
    "SignatureStatus",
    "SignedNote",
    "build_bundle",
    "decode",
    "encode",
    "entry_link",
    "leaf_hash",
    "merkle_root",
    "next_entry",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "root_from_inclusion_proof",
    "sign_note",
    "split_checkpoint",
    "verify_bundle",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
