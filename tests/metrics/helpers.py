"""Small builders for hand-written metric cases (times are Shanghai wall-clock in Jan 2026)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum

from orderflow.domain.order import Order, OrderLine
from orderflow.workflow.machine import ChangeRecord

TZ = "Asia/Shanghai"
STAGE_OF = {
    "lock_kitting": "kitting_locked",
    "dispatch_production": "production_dispatched",
    "release_qc": "qc_released",
    "deliver": "delivered",
    "fail_qc": "production_dispatched",
    "cancel": "cancelled",
}


def sh(day: int, hour: int = 0, minute: int = 0, month: int = 1, year: int = 2026) -> dt.datetime:
    """A Shanghai wall-clock instant, as a plain UTC datetime."""
    local = pendulum.datetime(year, month, day, hour, minute, tz=TZ)
    u = local.in_timezone("UTC")
    return dt.datetime(u.year, u.month, u.day, u.hour, u.minute, tzinfo=dt.UTC)


def order(
    oid: str,
    created: dt.datetime,
    requested: dt.date = dt.date(2026, 1, 31),
    stage: str = "pending_review",
) -> Order:
    """A one-line order."""
    return Order(
        id=oid,
        number=f"HY20260101-{sum(map(ord, oid)) % 1000}",
        customer_id="c1",
        lines=(OrderLine("P", Decimal(1)),),
        requested_date=requested,
        factory_id="f1",
        stage=stage,
        created_at=created,
        stage_entered_at=created,
    )


def rec(
    oid: str,
    seq: int,
    from_stage: str,
    to_stage: str,
    occurred: dt.datetime,
    delay_minutes: float = 0,
    event: str | None = None,
    occurred_at_known: bool = True,
) -> ChangeRecord:
    """A change record that happened at ``occurred`` and was recorded ``delay_minutes`` later."""
    at = occurred + dt.timedelta(minutes=delay_minutes)
    return ChangeRecord(
        order_id=oid,
        seq=seq,
        event=event or next((e for e, s in STAGE_OF.items() if s == to_stage), "x"),
        from_stage=from_stage,
        to_stage=to_stage,
        actor="tester",
        at=at,
        reason=None,
        policy_version=1,
        occurred_at=occurred if occurred_at_known else None,
    )
