"""Checkpoints in the C2SP ``tlog-checkpoint`` text format (stdlib only).

A checkpoint is the note text::

    <origin>
    <tree size, decimal, no leading zeros>
    <base64 root hash>
    [extension lines]

It commits to every entry of the log up to ``size``; see
https://c2sp.org/tlog-checkpoint. Signing is in :mod:`orderflow.audit.note`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from orderflow.audit.merkle import HASH_SIZE
from orderflow.exceptions import InputError

__all__ = ["Checkpoint"]

_MAX_TEXT = 64 * 1024


def _bad_line(line: str) -> bool:
    return not line or any(ord(c) < 0x20 for c in line)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, size and RFC 6962 root hash (plus optional extensions)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or _bad_line(self.origin):
            raise InputError(f"checkpoint origin must be one non-empty line, got {self.origin!r}")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise InputError(f"checkpoint size must be a non-negative integer, got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise InputError(f"checkpoint root must be {HASH_SIZE} bytes")
        for line in self.extensions:
            if not isinstance(line, str) or _bad_line(line):
                raise InputError(f"checkpoint extension lines must be non-empty: {line!r}")

    def to_text(self) -> str:
        """The note text: the lines above, each ending in a newline."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text (without signature lines).

        Raises :class:`~orderflow.exceptions.InputError` with a one-line reason.
        """
        if not isinstance(text, str) or len(text) > _MAX_TEXT:
            raise InputError("checkpoint must be text of at most 64 KiB")
        if not text.endswith("\n"):
            raise InputError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InputError("checkpoint needs at least three lines: origin, size, root hash")
        origin, size_text, root_text, *extensions = lines
        if (
            not size_text.isascii()
            or not size_text.isdigit()
            or (size_text != "0" and size_text.startswith("0"))
        ):
            raise InputError(
                f"checkpoint size {size_text!r} is not a decimal without leading zeros"
            )
        try:
            root = base64.b64decode(root_text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise InputError(f"checkpoint root hash {root_text!r:.60} is not base64") from None
        if base64.b64encode(root).decode() != root_text:
            raise InputError("checkpoint root hash is not canonical base64")
        return cls(origin, int(size_text), root, tuple(extensions))
