"""Evidence from the command line, for auditors and customers who do not write Python (R5).

``orderflow order show NUMBER``, ``orderflow audit verify``, ``orderflow audit keygen``,
``orderflow audit checkpoint`` and ``orderflow audit bundle``. The bundle verifies
offline with ``python -m orderflow.audit.verify BUNDLE --key VKEY``.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from orderflow.exceptions import InputError, NotFound

if TYPE_CHECKING:
    from orderflow.audit import Ed25519Signer, Ed25519Verifier
    from orderflow.service import OrderService

__all__ = ["add_evidence_commands"]


def _service(db: str) -> OrderService:
    from orderflow.cli import open_service

    return open_service(db)


def _order_id(svc: OrderService, number: str) -> str:
    order = svc.find(number=number)
    if order is None:
        raise NotFound("order", number, f"no order numbered {number} in this database")
    return order.id


def _signer(path: str) -> Ed25519Signer:
    from orderflow.audit import Ed25519Signer

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--key {path}: cannot read the signing key ({exc.strerror})") from None
    return Ed25519Signer.from_skey(text)


def _verifiers(texts: list[str]) -> list[Ed25519Verifier]:
    from orderflow.audit import Ed25519Verifier

    out = []
    for text in texts:
        path = Path(text)
        vkey = path.read_text(encoding="utf-8") if path.is_file() else text
        out.append(Ed25519Verifier.from_vkey(vkey.strip()))
    return out


def verify(db: str, *, deep: bool, keys: list[str] | None = None) -> tuple[int, float]:
    """Verify a database's audit log and print one line; return (entries, seconds)."""
    svc = _service(db)
    try:
        started = time.perf_counter()
        checkpoint = svc.audit.verify(deep=deep, keys=_verifiers(keys or []))
        elapsed = time.perf_counter() - started
        anchors = svc.audit.checkpoints()
    finally:
        svc.store.close()
    anchored = (
        f"; anchored by {len(anchors)} stored checkpoint(s), the newest at size "
        f"{anchors[-1].size:,}"
        if anchors
        else "; no stored checkpoint anchors it yet"
    )
    print(
        f"audit log verified: {checkpoint.size:,} entries, root "
        f"{checkpoint.root.hex()[:16]}… in {elapsed:.2f} s"
        + (" (every order replayed and matched)" if deep else "")
        + anchored
    )
    return checkpoint.size, elapsed


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify the audit log (and with --deep, replay every order)."""
    verify(args.db, deep=args.deep, keys=args.key)
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    """Write a new Ed25519 key pair for signing checkpoints of one log."""
    from orderflow.audit import Ed25519Signer

    out = Path(args.out)
    if not out.is_dir():
        raise InputError(f"--out {out}: not a folder; create it first")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", args.name)
    skey, vkey = out / f"{stem}.skey", out / f"{stem}.vkey"
    for path in (skey, vkey):
        if path.exists():
            raise InputError(f"{path} exists; keys are never overwritten")
    signer = Ed25519Signer.generate(args.name)
    fd = os.open(skey, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private from birth
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(signer.skey() + "\n")
    vkey.write_text(signer.verifier.vkey() + "\n", encoding="utf-8")
    print(f"private key (keep it secret): {skey}\npublic key (publish it): {vkey}")
    print(signer.verifier.vkey())
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    """Sign and store the current checkpoint; print the signed note."""
    signer = _signer(args.key)
    svc = _service(args.db)
    try:
        if signer.name != svc.store.origin:
            raise InputError(
                f"the key is named {signer.name!r} but the log's origin is "
                f"{svc.store.origin!r}; make a key with 'orderflow audit keygen --name "
                f"{svc.store.origin}'"
            )
        stored = svc.audit.sign_checkpoint(signer)
    finally:
        svc.store.close()
    print(stored.note, end="")
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    """Write one order's customer-verifiable evidence bundle."""
    out = Path(args.out)
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: folder {out.parent} does not exist")
    svc = _service(args.db)
    try:
        order_id = _order_id(svc, args.number)
        if args.key:
            svc.audit.sign_checkpoint(_signer(args.key))
        bundle = svc.audit.bundle(order_id)
    finally:
        svc.store.close()
    from orderflow.audit import split_checkpoint

    out.write_text(bundle.to_json(), encoding="utf-8")
    checkpoint, note = split_checkpoint(bundle.checkpoint)
    print(
        f"bundle of {args.number}: {len(bundle.entries)} entries, against the "
        f"{'signed' if note is not None else 'UNSIGNED'} checkpoint at size "
        f"{checkpoint.size:,}, written to {out}\ncheck it offline with: "
        f"python -m orderflow.audit.verify {out} --key <the log's .vkey>"
    )
    return 0


def cmd_order_show(args: argparse.Namespace) -> int:
    """Print an order: stage, lines, submission checks and its whole history."""
    svc = _service(args.db)
    try:
        order = svc.get(_order_id(svc, args.number))
        entries = svc.history(order.id)
        label = svc.workflow.definition.label(order.stage)
    finally:
        svc.store.close()
    print(f"order {order.number}  customer {order.customer_id}  factory {order.factory_id}")
    print(f"stage {order.stage} ({label}) since {order.stage_entered_at:%Y-%m-%d %H:%M} UTC")
    print(f"requested {order.requested_date}  deliver to {order.delivery_address or '-'}")
    for line in order.lines:
        print(f"  {line.product:16s} {line.qty:>10} x {line.unit_price}")
    checks = {k: v for k, v in entries[0].context.items() if k.startswith("check.")}
    if checks:
        print("checks at submission: " + ", ".join(f"{k[6:]} {v}" for k, v in checks.items()))
    print(f"history ({len(entries)} entries):")
    for e in entries:
        what = str(e.type)
        if e.from_stage or e.to_stage:
            what += f" {e.from_stage or '-'} -> {e.to_stage or '-'}"
        what += "".join(f" {c.field}: {c.old!r} -> {c.new!r}" for c in e.changes if c.old)
        extra = {k: v for k, v in e.context.items() if k in ("reason", "action", "event")}
        print(f"  #{e.index:<7} {e.at:%Y-%m-%d %H:%M:%S} {e.actor:12s} {what} {extra or ''}")
    return 0


def add_evidence_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``order show`` and the ``audit`` commands."""
    from orderflow.cli import DEMO_DB

    order = sub.add_parser("order", help="look at one order")
    order_sub = order.add_subparsers(dest="order_command", required=True)
    show = order_sub.add_parser("show", help="stage, lines, checks and history of an order")
    show.add_argument("number", help="the order number, e.g. HY20260122-887")
    show.add_argument("--db", default=DEMO_DB)
    show.set_defaults(func=cmd_order_show)

    audit = sub.add_parser("audit", help="audit log tools: verify, keys, checkpoints, bundles")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    ver = audit_sub.add_parser("verify", help="verify every entry, leaf, chain and checkpoint")
    ver.add_argument("--db", default=DEMO_DB)
    ver.add_argument("--deep", action="store_true", help="also replay every order")
    ver.add_argument(
        "--key", action="append", default=[], metavar="VKEY",
        help="the log's public key (file or text): stored signed checkpoints must verify",
    )  # fmt: skip
    ver.set_defaults(func=cmd_verify)

    keygen = audit_sub.add_parser("keygen", help="a new Ed25519 key pair (signing extra)")
    keygen.add_argument("--name", required=True, help="the log's origin, e.g. plant.example/nb")
    keygen.add_argument("--out", required=True, help="folder for NAME.skey and NAME.vkey")
    keygen.set_defaults(func=cmd_keygen)

    cp = audit_sub.add_parser("checkpoint", help="sign and store the current checkpoint")
    cp.add_argument("--key", required=True, help="the .skey file from 'audit keygen'")
    cp.add_argument("--db", default=DEMO_DB)
    cp.set_defaults(func=cmd_checkpoint)

    bundle = audit_sub.add_parser("bundle", help="one order's customer-verifiable evidence")
    bundle.add_argument("number", help="the order number")
    bundle.add_argument("--out", required=True, help="the bundle file to write (JSON)")
    bundle.add_argument("--key", help="sign a fresh checkpoint with this .skey first")
    bundle.add_argument("--db", default=DEMO_DB)
    bundle.set_defaults(func=cmd_bundle)
