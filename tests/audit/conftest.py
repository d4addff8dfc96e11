"""Shared fixtures of the audit tests: a small deterministic log."""

from __future__ import annotations

import random

import pytest

from orderflow.audit import AuditLog, EntryType

ORIGIN = "plant1.example/audit"
STAGES = ("pending_review", "kitting_locked", "production_dispatched", "qc_released", "delivered")


def make_log(orders: int = 8, seed: int = 1) -> AuditLog:
    """A log with ``orders`` orders moving through the stages, interleaved at random."""
    rng = random.Random(seed)
    log = AuditLog(ORIGIN)
    progress = dict.fromkeys(range(orders), -1)
    at = 1_767_225_600_000_000
    while progress:
        n = rng.choice(sorted(progress))
        order_id = f"HY20260122-{n:03d}"
        step = progress[n]
        at += rng.randrange(1, 10**7)
        nonce = rng.randbytes(16)
        if step == -1:
            log.record(
                order_id,
                EntryType.CREATED,
                actor="sales.zhang",
                at=at,
                nonce=nonce,
                to_state=STAGES[0],
                changes={"qty": (None, 100)},
            )
        else:
            log.record(
                order_id,
                "state_change",
                actor="王丽",
                at=at,
                nonce=nonce,
                from_state=STAGES[step],
                to_state=STAGES[step + 1],
                context={"device": "pda-7", "batch": f"B{step}"},
            )
        progress[n] = step + 1
        if step + 1 >= rng.randrange(1, len(STAGES)):
            del progress[n]
    return log


@pytest.fixture(scope="module")
def small_log() -> AuditLog:
    """A deterministic log of about 20 entries over 8 orders."""
    return make_log()
