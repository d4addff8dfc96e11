"""Flags at submission and on demand, through the real service (R13 beside R2)."""

from __future__ import annotations

import datetime as dt

import pytest

from orderflow import AccessDenied, Order, OrderDraft, OrderLine, PolicyStore
from orderflow.geo import Actor
from orderflow.policy import RiskThresholds
from orderflow.service import OrderService
from orderflow.service.results import Submission, decode_result, encode_result
from tests.risk.conftest import HANGZHOU, NOW, ZHANJIANG, make_service, set_clock


def _draft(address: str = ZHANJIANG, customer: str = "C1") -> OrderDraft:
    return OrderDraft(customer, (OrderLine("HV-1", 10, 100),), dt.date(2026, 9, 1), "NB1",
                      delivery_address=address)  # fmt: skip


def _drawing_changes(svc: OrderService, n: int) -> None:
    for _ in range(n):
        order = svc.submit(_draft(HANGZHOU), actor="sales").order
        svc.open_incident(order.id, "drawing_change", actor="eng", note="rev C")


def test_submit_returns_and_records_the_flags() -> None:
    svc = make_service()
    sub = svc.submit(_draft(), actor="sales")
    assert [f.code for f in sub.flags] == ["imported_rate", "typhoon_route"]
    created = svc.history(sub.order.id)[0].context
    assert created["risk.flags"] == "imported_rate,typhoon_route"
    assert created["risk.rate_move_pct"] == "2.8571"  # 7.0 -> 7.2
    assert created["risk.zone"] == "湛江市 (Zhanjiang)"
    assert created["risk.backup_route"] == "no"
    assert created["risk.flag.typhoon_route"].startswith("delivery address in typhoon-prone")
    # flags are notices: the order is where any order starts, the R2 checks are recorded
    assert sub.order.stage == "pending_review"
    assert created["check.bom_kitting"] == "pass"


def test_no_flags_when_nothing_is_risky() -> None:
    svc = make_service(imported=2, backup=True, rate_now="7.1")
    sub = svc.submit(_draft(), actor="sales")
    assert sub.flags == ()
    assert svc.history(sub.order.id)[0].context["risk.flags"] == ""


def test_drawing_changes_counted_from_the_audit_log() -> None:
    svc = make_service(imported=0)
    _drawing_changes(svc, 2)
    assert svc.submit(_draft(HANGZHOU), actor="sales").flags == ()  # 2 is not more than 2
    _drawing_changes(svc, 1)
    # the index commits with the change: the very next submission counts it
    sub = svc.submit(_draft(HANGZHOU), actor="sales")
    assert [f.message for f in sub.flags] == ["drawing changes in 90 days: 3 > 2 (customer C1)"]
    # another customer's history is its own
    assert svc.submit(_draft(HANGZHOU, "C2"), actor="sales").flags == ()


def test_changes_older_than_the_window_do_not_count() -> None:
    svc = make_service(imported=0)
    _drawing_changes(svc, 3)
    set_clock(svc, NOW + dt.timedelta(days=91))
    assert svc.submit(_draft(HANGZHOU), actor="sales").flags == ()


def test_thresholds_are_hot_swapped() -> None:
    svc = make_service()
    svc.policies.update(risk=RiskThresholds(imported_min=4))
    assert [f.code for f in svc.submit(_draft(), actor="sales").flags] == ["typhoon_route"]


def test_named_carrier_with_backup_route() -> None:
    from orderflow.risk import Carrier

    svc = make_service()
    svc.put_carrier(Carrier("ZTO", "ZTO Express", backup_route=True))
    sub = svc.submit(_draft(), actor="sales", context={"carrier": "ZTO"})
    assert "typhoon_route" not in [f.code for f in sub.flags]
    # an unknown carrier has no backup route on record
    sub = svc.submit(_draft(), actor="sales", context={"carrier": "nobody"})
    assert "carrier nobody has no backup route" in sub.flags[-1].message


def test_a_retried_submission_returns_the_same_flags() -> None:
    svc = make_service()
    first = svc.submit(_draft(), actor="sales", idempotency_key="k1")
    again = svc.submit(_draft(), actor="sales", idempotency_key="k1")
    assert again == first
    assert again.flags == first.flags != ()

    def order_at(order_id: str, version: int) -> Order:
        assert (order_id, version) == (first.order.id, first.order.version)
        return first.order

    stored = decode_result(encode_result(first), Submission, order_at)
    assert stored.flags == first.flags
    # a result stored before R13 (no flags key) still reads
    old = encode_result(first).replace(',"flags":', ',"ignored":')
    legacy = decode_result(old.split(',"ignored":')[0] + "}", Submission, order_at)
    assert legacy.flags == ()


def test_entries_without_flags_still_read() -> None:
    svc = make_service()
    svc.policies.update(risk=RiskThresholds(enabled=False))
    sub = svc.submit(_draft(), actor="sales")
    assert sub.flags == ()
    context = svc.history(sub.order.id)[0].context
    assert not any(key.startswith("risk.") for key in context)
    assert svc.get(sub.order.id) == sub.order


def test_flags_on_demand_follow_the_rate() -> None:
    svc = make_service(rate_now="7.1")
    sub = svc.submit(_draft(), actor="sales")
    assert [f.code for f in sub.flags] == ["typhoon_route"]
    from orderflow.risk import RiskSources
    from tests.risk.conftest import rates

    svc.risk_sources = RiskSources(svc.store, rates=rates("7.0", "7.3"))
    codes = [f.code for f in svc.risk_flags(sub.order.id, actor="planner")]
    assert codes == ["imported_rate", "typhoon_route"]
    assert svc.get(sub.order.id).stage == "pending_review"


def test_flags_on_demand_are_scope_checked() -> None:
    svc = make_service()
    sub = svc.submit(_draft(), actor="sales")
    outsider = Actor("li", {"NB2": "viewer"})
    with pytest.raises(AccessDenied):
        svc.risk_flags(sub.order.id, actor=outsider)
    insider = Actor("wang", {"NB1": "viewer"})
    assert svc.risk_flags(sub.order.id, actor=insider) == sub.flags


def test_policy_store_default_has_rules_on() -> None:
    assert PolicyStore().current.risk.enabled
