"""Standalone bundle verifier: ``python -m orderflow.audit.verify bundle.json --key KEY``.

Needs only the standard library (plus ``cryptography`` to check signatures).

Exit codes:

* ``0`` -- entries, chain, proofs and the checkpoint signature all verified;
* ``1`` -- verification failed (tampering, bad proof or bad signature);
* ``2`` -- unusable input (unreadable or malformed bundle, key or file, bad options);
* ``3`` -- entries, chain and proofs verified, but the signature is unchecked
  (no ``--key`` given, or ``cryptography`` is not installed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from orderflow.audit.bundle import BundleReport, verify_bundle
from orderflow.audit.signing import split_checkpoint
from orderflow.exceptions import AuditError, InputError

__all__ = ["EXIT_FAILED", "EXIT_INPUT", "EXIT_OK", "EXIT_UNCHECKED", "main"]

EXIT_OK = 0
"""Everything verified, signature included."""
EXIT_FAILED = 1
"""Verification failed."""
EXIT_INPUT = 2
"""The input could not be used."""
EXIT_UNCHECKED = 3
"""Proofs verified, signature unchecked."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _when(at: int) -> str:
    return (_EPOCH + timedelta(microseconds=at)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _describe(report: BundleReport) -> list[str]:
    cp = report.checkpoint
    lines = [
        f"order {report.order_id}: {len(report.entries)} entries verified "
        f"in log {cp.origin} (checkpoint size {cp.size})"
    ]
    for index, entry in zip(report.indices, report.entries, strict=True):
        what = str(entry.type)
        if entry.from_state or entry.to_state:
            what += f" {entry.from_state or '-'} -> {entry.to_state or '-'}"
        if entry.changes:
            what += " " + ", ".join(f"{c.field}: {c.old!r} -> {c.new!r}" for c in entry.changes)
        lines.append(f"  #{index} seq {entry.seq} {_when(entry.at)} {what} by {entry.actor}")
    if report.consistent_from is not None:
        lines.append(f"consistency: extends the checkpoint of size {report.consistent_from.size}")
    if report.fully_verified:
        lines.append(f"signature: verified ({', '.join(report.signed_by)})")
    else:
        lines.append(f"signature unchecked: {report.reason}")
    return lines


def _read_key(value: str) -> str:
    """A verifier key given as text, or as the path of a ``.vkey`` file holding it."""
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as fh:
            return fh.read().strip()
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; return the exit code (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m orderflow.audit.verify",
        description="Verify an orderflow audit evidence bundle offline.",
    )
    parser.add_argument("bundle", help="path of the bundle JSON file ('-' for stdin)")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="VKEY",
        help="trusted verifier key name+hexid+base64key, or a .vkey file (repeatable)",
    )
    parser.add_argument(
        "--previous",
        metavar="FILE",
        help="an older checkpoint you kept; the bundle must prove it extends it",
    )
    args = parser.parse_args(argv)
    try:
        if args.bundle == "-":
            text = sys.stdin.read()
        else:
            with open(args.bundle, encoding="utf-8") as fh:
                text = fh.read()
        previous = None
        if args.previous:
            with open(args.previous, encoding="utf-8") as fh:
                previous, _ = split_checkpoint(fh.read())
        keys = [_read_key(k) for k in args.key]
        report = verify_bundle(text, keys, previous=previous)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read input: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except AuditError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print("\n".join(_describe(report)))
    return EXIT_OK if report.fully_verified else EXIT_UNCHECKED


if __name__ == "__main__":
    sys.exit(main())
