"""Build a small audit log, hand one order's evidence bundle to a customer, verify, tamper.

Run: ``python examples/verify_audit.py`` (signing needs ``pip install "orderflow[signing]"``).
"""

from __future__ import annotations

import json

from orderflow.audit import (
    AuditLog,
    CheckpointSigner,
    Ed25519Signer,
    EntryType,
    build_bundle,
    verify_bundle,
    verify_log,
)
from orderflow.exceptions import TamperDetected

STAGES = ("pending_review", "kitting_locked", "production_dispatched", "qc_released", "delivered")
T0 = 1_768_982_400_000_000  # 2026-01-21T08:00:00Z in microseconds since the epoch


def main() -> None:
    """Run the walk-through."""
    log = AuditLog("plant1.example/audit")
    at = T0
    for n in range(3):
        order_id = f"HY20260122-88{n}"
        at += 60_000_000
        log.record(
            order_id,
            EntryType.CREATED,
            actor="sales.zhang",
            at=at,
            to_state=STAGES[0],
            changes={"qty": (None, 100)},
        )
    for step in range(3):
        for n in range(3):
            at += 600_000_000
            log.record(
                f"HY20260122-88{n}",
                EntryType.STATE_CHANGE,
                actor="王丽",
                at=at,
                from_state=STAGES[step],
                to_state=STAGES[step + 1],
                context={"device": "pda-7", "batch": "20260118-B03"},
            )

    # The plant signs checkpoints; each must extend the previous one.
    key = Ed25519Signer.generate("plant1.example/audit")
    signer = CheckpointSigner(key)
    yesterday = signer.sign(log.checkpoint(6))
    today = signer.sign(log.checkpoint(), log.consistency_proof(6))
    print(today)

    # The whole log verifies against the signed checkpoint.
    verified = verify_log(log.entries, log.checkpoint())
    print(f"log verifies: {verified.size} entries, root {verified.root.hex()}")

    # A customer gets the bundle for one order and the plant's public key.
    bundle = build_bundle(log, "HY20260122-881", today, since=yesterday)
    report = verify_bundle(bundle.to_json(), [key.verifier.vkey()])
    print(f"customer check: {len(report.entries)} entries, signature {report.signature}")
    print(
        "the same from a shell: python -m orderflow.audit.verify bundle.json "
        f"--key {key.verifier.vkey()}"
    )

    # Someone edits one stored entry: the log check and the bundle check both notice.
    stored = list(log.entries)
    stored[4] = stored[4].replace(b"pda-7", b"pda-9")
    try:
        verify_log(stored, log.checkpoint())
    except TamperDetected as exc:
        print("log tampering detected:", exc)
    tampered = json.loads(bundle.to_json())
    tampered["entries"][1]["entry"] = tampered["entries"][1]["entry"].replace("王丽", "李强")
    try:
        verify_bundle(json.dumps(tampered), [key.verifier.vkey()])
    except TamperDetected as exc:
        print("bundle tampering detected:", exc)


if __name__ == "__main__":
    main()
