"""Property: risk flags never change an order's stage, its R2 checks or its next step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from orderflow import Customer, InvalidTransition, OrderDraft, OrderLine, TransitionRefused
from orderflow.policy import RiskThresholds
from orderflow.service import OrderService
from tests.risk.conftest import HANGZHOU, ZHANJIANG, make_service

thresholds = st.builds(
    RiskThresholds,
    drawing_changes_max=st.integers(0, 3),
    imported_min=st.integers(1, 4),
    rate_move_pct=st.decimals("0.1", "5", places=1),
)


def _outcome(svc: OrderService, draft: OrderDraft, drawing: bool) -> tuple[object, ...]:
    if drawing:
        first = svc.submit(draft, actor="sales").order
        svc.open_incident(first.id, "drawing_change", actor="eng")
    sub = svc.submit(draft, actor="sales")
    checks = tuple((c.ok, c.code, c.message) for c in sub.checks)
    try:
        after = svc.fire(sub.order.id, "lock_kitting", actor="planner").stage
    except (TransitionRefused, InvalidTransition) as exc:
        after = type(exc).__name__
    return sub.order.stage, checks, sub.passed, after, len(sub.flags)


@given(
    limits=thresholds,
    imported=st.integers(0, 4),
    backup=st.sampled_from([True, False, None]),
    rate_now=st.sampled_from(["6.5", "7.0", "7.14", "7.147", "7.5"]),
    address=st.sampled_from([ZHANJIANG, HANGZHOU, ""]),
    qty=st.integers(1, 20_000),
    credit=st.integers(0, 10**7),
    days=st.integers(1, 60),
    drawing=st.booleans(),
)
def test_flags_never_change_stage_or_r2_outcome(
    limits: RiskThresholds, imported: int, backup: bool | None, rate_now: str, address: str,
    qty: int, credit: int, days: int, drawing: bool,
) -> None:  # fmt: skip
    outcomes = []
    for enabled in (True, False):
        svc = make_service(imported=imported, backup=backup, rate_now=rate_now)
        svc.put_customer(Customer("C1", "Zhanjiang Pumps", credit_limit=Decimal(credit)))
        svc.policies.update(risk=attrs.evolve(limits, enabled=enabled))
        draft = OrderDraft("C1", (OrderLine("HV-1", qty, 10),),
                           dt.date(2026, 8, 3) + dt.timedelta(days=days), "NB1",
                           delivery_address=address)  # fmt: skip
        outcomes.append(_outcome(svc, draft, drawing))
    with_rules, without = outcomes
    assert with_rules[:4] == without[:4]
    assert without[4] == 0
