"""Signed notes (C2SP ``signed-note``, as in ``golang.org/x/mod/sumdb/note``) with Ed25519.

Parsing, key ids and verifier keys are stdlib only; creating or checking an
Ed25519 signature needs the ``signing`` extra (``cryptography``), imported
lazily. Without it, :func:`open_note` reports
:attr:`SignatureStatus.UNCHECKED` instead of passing silently.

A signed note is the text (ending in a newline), a blank line, and signature
lines ``— <key name> base64(key id || signature)``. The key id is the first
four bytes of ``SHA-256(name || 0x0A || 0x01 || public key)``; a verifier key
is ``<name>+<hex key id>+base64(0x01 || public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orderflow._extras import require
from orderflow.exceptions import InputError, MissingExtra, ProofError

__all__ = [
    "ALG_ED25519",
    "Ed25519Signer",
    "Ed25519Verifier",
    "NoteCheck",
    "NoteSignature",
    "SignatureStatus",
    "SignedNote",
    "key_id",
    "open_note",
    "sign_note",
]

ALG_ED25519 = 0x01
"""Signature type byte of Ed25519 note signatures."""

_SIG_PREFIX = "\u2014 "
_MAX_SIGNATURES = 100
_ED25519_MODULE = "cryptography.hazmat.primitives.asymmetric.ed25519"


def _ed25519() -> Any:
    return require(_ED25519_MODULE, "signing")


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InputError(f"{what} is not base64") from None
    return raw


def key_id(name: str, key: bytes) -> int:
    """The note key id: first 4 bytes (big-endian) of ``SHA-256(name || 0x0A || key)``.

    ``key`` is the signature type byte followed by the public key.
    """
    return int.from_bytes(hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()[:4], "big")


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, key id and the raw signature bytes."""

    name: str
    key_id: int
    signature: bytes

    def to_line(self) -> str:
        """The signature line, ending in a newline."""
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note text and its signature lines (parsing checks only the format)."""

    text: str
    signatures: tuple[NoteSignature, ...] = field(default=())

    def to_text(self) -> str:
        """The whole signed note: text, blank line, signature lines."""
        return self.text + "\n" + "".join(s.to_line() for s in self.signatures)

    @classmethod
    def parse(cls, note: str) -> SignedNote:
        """Split a signed note into text and signatures.

        Raises :class:`~orderflow.exceptions.InputError` if it is not a
        well-formed signed note.
        """
        if not isinstance(note, str):
            raise InputError("a signed note must be text")
        if any(ord(c) < 0x20 and c != "\n" for c in note):
            raise InputError("a signed note must not contain control characters other than newline")
        split = note.rfind("\n\n")
        if split < 0:
            raise InputError("a signed note needs a blank line before its signatures")
        text, block = note[: split + 1], note[split + 2 :]
        if not block or not block.endswith("\n"):
            raise InputError("a signed note needs signature lines ending in a newline")
        sigs = []
        for line in block[:-1].split("\n"):
            if not line.startswith(_SIG_PREFIX):
                raise InputError(f"malformed signature line {line!r:.80}")
            name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
            raw = _b64(b64, "signature") if b64 else b""
            if not _valid_name(name) or len(raw) < 5:
                raise InputError(f"malformed signature line {line!r:.80}")
            sigs.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
        if len(sigs) > _MAX_SIGNATURES:
            raise InputError(f"a signed note may carry at most {_MAX_SIGNATURES} signatures")
        return cls(text, tuple(sigs))


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    """A trusted Ed25519 note key: ``name``, ``key_id`` and 32-byte ``public_key``."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _valid_name(self.name):
            raise InputError(f"key name {self.name!r} must be non-empty, without spaces or '+'")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise InputError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> int:
        """The key id that prefixes this key's signatures."""
        return key_id(self.name, bytes([ALG_ED25519]) + self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Ed25519Verifier:
        """Parse a verifier key ``name+hexid+base64(0x01 || public key)`` (stdlib only)."""
        parts = vkey.strip().split("+", 2) if isinstance(vkey, str) else []
        if len(parts) != 3 or len(parts[1]) != 8:
            raise InputError("verifier key must look like name+8-hex-digit-id+base64key")
        name, hex_id, b64 = parts
        try:
            wanted = int(hex_id, 16)
        except ValueError:
            raise InputError(f"verifier key id {hex_id!r} is not hex") from None
        raw = _b64(b64, "verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise InputError("verifier key is not an Ed25519 key (type 0x01 + 32 bytes)")
        verifier = cls(name, raw[1:])
        if verifier.key_id != wanted:
            raise InputError(f"verifier key id {hex_id} does not match its name and key")
        return verifier

    def vkey(self) -> str:
        """This key as a verifier key string."""
        blob = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{blob}"

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` signs ``text``; needs the ``signing`` extra."""
        ed = _ed25519()
        key = ed.Ed25519PublicKey.from_public_bytes(self.public_key)
        try:
            key.verify(signature, text.encode("utf-8"))
        except Exception:  # cryptography raises InvalidSignature
            return False
        return True


class Ed25519Signer:
    """An Ed25519 note signing key (needs the ``signing`` extra to sign)."""

    __slots__ = ("_seed", "name", "verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InputError("an Ed25519 private key seed is 32 bytes")
        ed = _ed25519()
        public = ed.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        self.name = name
        self._seed = seed
        self.verifier = Ed25519Verifier(name, public)

    def __repr__(self) -> str:
        return f"Ed25519Signer({self.name!r}, key id {self.verifier.key_id:08x})"

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        """A new random key named ``name``."""
        import os

        return cls(name, os.urandom(32))

    @classmethod
    def from_skey(cls, skey: str) -> Ed25519Signer:
        """Parse a private key ``PRIVATE+KEY+name+hexid+base64(0x01 || seed)``."""
        parts = skey.strip().split("+", 4) if isinstance(skey, str) else []
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InputError("signer key must look like PRIVATE+KEY+name+hexid+base64key")
        raw = _b64(parts[4], "signer key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise InputError("signer key is not an Ed25519 key (type 0x01 + 32-byte seed)")
        signer = cls(parts[2], raw[1:])
        if f"{signer.verifier.key_id:08x}" != parts[3].lower():
            raise InputError("signer key id does not match its name and key")
        return signer

    def skey(self) -> str:
        """This key as a private key string (keep it secret)."""
        blob = base64.b64encode(bytes([ALG_ED25519]) + self._seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{blob}"

    def sign(self, text: str) -> NoteSignature:
        """Sign note ``text`` (it must end with a newline)."""
        if not text.endswith("\n"):
            raise InputError("note text must end with a newline")
        ed = _ed25519()
        sig = ed.Ed25519PrivateKey.from_private_bytes(self._seed).sign(text.encode("utf-8"))
        return NoteSignature(self.name, self.verifier.key_id, sig)


def sign_note(text: str, *signers: Ed25519Signer) -> str:
    """Sign ``text`` with every signer and return the signed note."""
    if not signers:
        raise InputError("sign_note needs at least one signer")
    return SignedNote(text, tuple(s.sign(text) for s in signers)).to_text()


class SignatureStatus(StrEnum):
    """Outcome of checking a note's signatures."""

    VERIFIED = "verified"
    UNCHECKED = "signature unchecked"


@dataclass(frozen=True, slots=True)
class NoteCheck:
    """Result of :func:`open_note`: the text, the status and which keys signed."""

    text: str
    status: SignatureStatus
    signed_by: tuple[str, ...]
    reason: str = ""


def open_note(note: str | SignedNote, verifiers: Sequence[Ed25519Verifier]) -> NoteCheck:
    """Check a signed note against trusted keys.

    Signatures by unknown keys are ignored. A failing signature by a known key
    raises :class:`~orderflow.exceptions.ProofError`, as does a note with no
    signature by any known key. Without ``cryptography`` the result has status
    :attr:`SignatureStatus.UNCHECKED` and ``reason`` says why.
    """
    parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
    if not verifiers:
        raise InputError("open_note needs at least one trusted verifier key")
    known = {(v.name, v.key_id): v for v in verifiers}
    matching = [
        (s, known[(s.name, s.key_id)]) for s in parsed.signatures if (s.name, s.key_id) in known
    ]
    if not matching:
        names = ", ".join(sorted({v.name for v in verifiers}))
        raise ProofError(f"the note carries no signature by the trusted key(s) {names}")
    try:
        _ed25519()
    except MissingExtra as exc:
        return NoteCheck(
            parsed.text, SignatureStatus.UNCHECKED, (), f"cryptography is not installed: {exc}"
        )
    signed = []
    for sig, verifier in matching:
        if not verifier.verify(parsed.text, sig.signature):
            raise ProofError(f"the signature by {sig.name} ({sig.key_id:08x}) does not verify")
        signed.append(sig.name)
    return NoteCheck(parsed.text, SignatureStatus.VERIFIED, tuple(dict.fromkeys(signed)))
