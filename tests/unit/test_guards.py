"""The guards of issue 2, on the seed's numbers (R2, R3, R4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orderflow import InvalidTransition, ProductKind, TransitionRefused, Workflow
from orderflow.domain import Customer
from orderflow.policy import Policy, SafetyFactors
from orderflow.workflow import (
    CapacitySchedule,
    CapacitySlot,
    bom_kitting,
    capacity_slot,
    credit_limit,
    inbound_po_overdue,
    kitting_requirements,
)
from tests.unit.helpers import AT, late_po, make_facts, make_order

WF = Workflow()


def test_104_seal_rings_refused_with_the_component_named() -> None:
    order = make_order(qty=100)
    with pytest.raises(TransitionRefused) as info:
        WF.fire(order, "lock_kitting", make_facts(104), actor="li", at=AT)
    err = info.value
    assert err.codes == ("bom_kitting",)
    assert "seal ring Q23-7" in str(err)
    assert "available 104 < required 105" in str(err)
    short = err.reasons[0].measured["short"]["Q23-7"]
    assert short == {"available": Decimal(104), "required": Decimal("105.00")}


def test_105_seal_rings_accepted() -> None:
    fired = WF.fire(make_order(qty=100), "lock_kitting", make_facts(105), actor="li", at=AT)
    assert fired.order.stage == "kitting_locked"


@pytest.mark.parametrize(("have", "ok"), [(129, False), (130, True)])
def test_custom_product_needs_130(have: int, ok: bool) -> None:
    facts = make_facts(have, kind=ProductKind.CUSTOM)
    result = bom_kitting(make_order(qty=100), facts, Policy())
    assert result.ok is ok
    assert kitting_requirements(make_order(qty=100), facts, Policy())["Q23-7"][1] == 130


@pytest.mark.parametrize(("days", "ok"), [(7, True), (8, False), (0, True), (30, False)])
def test_inbound_po_lateness_limit_is_seven_days(days: int, ok: bool) -> None:
    facts = make_facts(105, inbound={"Q23-7": (late_po(days),)})
    result = inbound_po_overdue(make_order(), facts, Policy())
    assert result.ok is ok
    assert result.measured["max_days_late"] == days
    if not ok:
        assert f"{days} days past due" in result.message


def test_received_po_is_never_late() -> None:
    from orderflow.domain import POStatus

    po = late_po(30)
    import attrs

    facts = make_facts(105, inbound={"Q23-7": (attrs.evolve(po, status=POStatus.RECEIVED),)})
    assert inbound_po_overdue(make_order(), facts, Policy()).ok


def test_every_failed_guard_is_reported_not_only_the_first() -> None:
    facts = make_facts(
        10,
        inbound={"Q23-7": (late_po(9),)},
        customer=Customer("C001", "x", "C", Decimal(500), Decimal(400)),
    )
    with pytest.raises(TransitionRefused) as info:
        WF.fire(make_order(qty=100, price="10"), "lock_kitting", facts, actor="li", at=AT)
    assert info.value.codes == ("credit_limit", "bom_kitting", "inbound_po_overdue")
    assert "400 + order 1000 = 1400 > credit limit 500" in str(info.value)


def test_credit_limit_boundary_is_inclusive() -> None:
    facts = make_facts(customer=Customer("C001", "x", "B", Decimal(1000), Decimal(0)))
    assert credit_limit(make_order(qty=100, price="10"), facts, Policy()).ok
    assert not credit_limit(make_order(qty=100, price="10.01"), facts, Policy()).ok


def test_unknown_customer_fails_credit_check() -> None:
    result = credit_limit(make_order(), make_facts(customer=None), Policy())
    assert not result.ok
    assert "unknown" in result.message


def test_new_product_factor_steps_down_after_three_on_time_deliveries() -> None:
    safety = SafetyFactors()
    assert [safety.factor(ProductKind.NEW, n) for n in (0, 2, 3, 5, 6, 100)] == [
        Decimal("1.8"),
        Decimal("1.8"),
        Decimal("1.3"),
        Decimal("1.3"),
        Decimal("1.05"),
        Decimal("1.05"),
    ]
    order = make_order(qty=100)
    first = make_facts(179, kind=ProductKind.NEW)
    assert not bom_kitting(order, first, Policy()).ok
    stepped = make_facts(179, kind=ProductKind.NEW, on_time_streak={"HV-100": 3})
    assert bom_kitting(order, stepped, Policy()).ok


def test_capacity_slot_must_end_before_requested_date() -> None:
    order = make_order(qty=100)
    late_slot = CapacitySchedule(
        (CapacitySlot("L2", dt.date(2026, 2, 1), dt.date(2026, 3, 2), Decimal(1000)),)
    )
    result = capacity_slot(order, make_facts(capacity=late_slot), Policy())
    assert not result.ok
    assert "requested date 2026-03-01" in result.message
    assert capacity_slot(order, make_facts(), Policy()).measured["line"] == "L1"
    small = CapacitySchedule(
        (CapacitySlot("L1", dt.date(2026, 1, 23), dt.date(2026, 2, 1), Decimal(99)),)
    )
    assert not capacity_slot(order, make_facts(capacity=small), Policy()).ok


def test_missing_bom_is_a_refusal_not_a_crash() -> None:
    result = bom_kitting(make_order(product="UNKNOWN"), make_facts(), Policy())
    assert not result.ok
    assert "UNKNOWN" in result.message


def test_invalid_transition_names_the_allowed_events() -> None:
    with pytest.raises(InvalidTransition) as info:
        WF.fire(make_order(), "deliver", make_facts(), actor="li", at=AT)
    assert "lock_kitting" in str(info.value)
    assert info.value.stage == "pending_review"
