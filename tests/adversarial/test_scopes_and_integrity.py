"""Issue 13's attacks and careless calls, each kept as a test (R5, R6, R10, R11)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.domain import OrderLine
from orderflow.exceptions import (
    AccessDenied,
    IdempotencyConflict,
    InputError,
    NotFound,
    OrderflowError,
)
from orderflow.geo.access import Actor
from orderflow.service import OrderDraft, OrderService
from orderflow.testing.contracts import MAINLINE, START, draft, seeded_service

A = Actor("op.a", {"NB1": "operator"})
B = Actor("op.b", {"SZ1": "operator"})


@pytest.fixture
def svc() -> OrderService:
    return seeded_service(MemoryStore())


# --- scopes -----------------------------------------------------------------------------
def test_a_replayed_key_never_hands_one_factory_anothers_order(svc: OrderService) -> None:
    order = svc.submit(draft(), actor=A, idempotency_key="a-sub").order
    svc.fire(order.id, "hold", actor=A, reason="call", idempotency_key="a-hold")
    with pytest.raises((IdempotencyConflict, AccessDenied)):
        svc.fire(order.id, "hold", actor=B, reason="call", idempotency_key="a-hold")
    with pytest.raises((IdempotencyConflict, AccessDenied)):
        svc.submit(draft(), actor=B, idempotency_key="a-sub")


def test_every_read_path_checks_the_actor(svc: OrderService) -> None:
    order = svc.submit(draft(), actor=A).order
    svc.open_incident(order.id, "stock_shortage", actor=A)
    for read in (
        lambda: svc.get(order.id, actor=B),
        lambda: svc.find(number=order.number, actor=B),
        lambda: svc.explain(order.id, "lock_kitting", actor=B),
        lambda: svc.history(order.id, actor=B),
        lambda: svc.slip_code(order.id, actor=B),
    ):
        with pytest.raises(AccessDenied, match="您无权访问该区域订单"):
            read()
    assert svc.incidents(actor=B) == []
    assert len(svc.incidents(actor=A)) == 1


@pytest.mark.parametrize("key", ["check.credit", "risk.flags", "risk.flag.typhoon_route"])
def test_callers_cannot_forge_the_services_check_or_risk_keys(svc: OrderService, key: str) -> None:
    with pytest.raises(InputError, match="written by orderflow itself"):
        svc.submit(draft(), actor=A, context={key: "pass"})


def test_a_factory_cannot_drain_another_factorys_warehouse(svc: OrderService) -> None:
    for factory in ("NB1", "SZ1"):
        svc.put_warehouse(factory)
    svc.set_stock("Q23-7", 900, factory_id="NB1")
    svc.set_stock("Q23-7", 40, factory_id="SZ1")
    with pytest.raises(AccessDenied):  # B names A's factory: its scope says no
        svc.record_scan("Q23-7", 900, direction="out", actor=B, factory_id="NB1")
    with pytest.raises(AccessDenied):
        svc.transfer_stock("Q23-7", 900, from_factory="NB1", to_factory="SZ1", actor=B)
    with pytest.raises(InputError, match="needs factory_id"):
        svc.record_scan("Q23-7", 900, direction="out", actor=B)
    svc.record_scan("Q23-7", 40, direction="out", actor=B, factory_id="SZ1")  # its own
    assert svc.stock("Q23-7", "NB1").on_hand == 900
    assert svc.stock("Q23-7", "SZ1").on_hand == 0
    with pytest.raises(InputError, match="factory_id must be text"):
        svc.stock("Q23-7", 123)  # type: ignore[arg-type]
    group = Actor("planner", {"NB1": "operator", "SZ1": "operator"})
    svc.transfer_stock("Q23-7", 100, from_factory="NB1", to_factory="SZ1", actor=group)
    assert svc.stock("Q23-7", "NB1").on_hand == 800
    assert svc.stock("Q23-7", "SZ1").on_hand == 100


# --- data integrity ---------------------------------------------------------------------
def test_an_aware_datetime_as_requested_date_is_refused_and_nothing_breaks(
    svc: OrderService,
) -> None:
    order = svc.submit(draft(), actor="s").order
    with pytest.raises(InputError, match="requested_date must be a date"):
        svc.edit(order.id, {"requested_date": dt.datetime(2026, 7, 1, tzinfo=dt.UTC)}, actor="p")
    with pytest.raises(InputError, match="delivery_address must be text"):
        svc.edit(order.id, {"delivery_address": 12345}, actor="p")
    svc.audit.verify(deep=True)


@pytest.mark.parametrize("key", ["held_from", "deadline", "occurred", "policy", "event"])
def test_a_caller_cannot_collide_with_or_forge_service_context(svc: OrderService, key: str) -> None:
    order = svc.submit(draft(), actor="s").order
    with pytest.raises(InputError, match="written by orderflow itself"):
        svc.fire(order.id, "lock_kitting", actor="p", context={key: "0"})
    svc.fire(order.id, "lock_kitting", actor="p", context={"device": "pda-7"})
    svc.audit.verify(deep=True)


@pytest.mark.parametrize(
    "occurred",
    [
        dt.datetime(1990, 1, 1, tzinfo=dt.UTC),  # before the order existed
        START + dt.timedelta(days=365),  # a year ahead
        dt.datetime(2026, 5, 11, 1),  # naive
        "2026-05-11T01:00:00+00:00",  # text
    ],
)
def test_forged_floor_times_are_refused(svc: OrderService, occurred: object) -> None:
    order = svc.submit(draft(), actor="s").order
    with pytest.raises(InputError, match="occurred_at"):
        svc.fire(order.id, "lock_kitting", actor="p", occurred_at=occurred)  # type: ignore[arg-type]
    assert svc.get(order.id).version == 0


def test_a_delivered_order_is_read_only(svc: OrderService) -> None:
    order = svc.submit(draft(), actor="s").order
    for event in MAINLINE:
        order = svc.fire(order.id, event, actor="p")
    with pytest.raises(InputError, match="can no longer be edited"):
        svc.edit(order.id, {"requested_date": dt.date(2027, 1, 1)}, actor="p")


def test_stock_never_goes_negative_or_clamps(svc: OrderService) -> None:
    order = svc.submit(draft(100), actor="s").order
    svc.fire(order.id, "lock_kitting", actor="p")  # reserves 100 of 1000
    with pytest.raises(InputError, match="below the 100 reserved"):
        svc.set_stock("Q23-7", 30)
    svc.record_scan("Q23-7", 900, direction="out", actor="w")  # 100 left, all reserved
    with pytest.raises(InputError, match="would leave"):
        svc.record_scan("Q23-7", 1, direction="out", actor="w")
    svc.fire(order.id, "dispatch_production", actor="p")
    assert svc.stock("Q23-7").on_hand == 0


def test_stock_takes_are_audited(svc: OrderService) -> None:
    before = svc.store.audit_size()
    svc.set_stock("Q23-7", 700, actor="wh.li", reason="monthly count")
    (entry,) = svc.store.audit_chain("stock/Q23-7")[-1:]
    assert svc.store.audit_size() == before + 1
    assert b'"reason":"monthly count"' in entry[1] and b'"actor":"wh.li"' in entry[1]


def test_unknown_components_are_refused(svc: OrderService) -> None:
    with pytest.raises(InputError, match="unknown component"):
        svc.record_scan("NOPE-1", 5, direction="in", actor="w")
    with pytest.raises(InputError, match="unknown component"):
        svc.set_stock("NOPE-1", 5)


def test_a_duplicate_number_is_named_not_retried(svc: OrderService) -> None:
    first = svc.submit(draft(), actor="s").order
    again = OrderDraft("C001", (OrderLine("HV-100", 1),), dt.date(2026, 7, 1), "NB1",
                       number=first.number)  # fmt: skip
    with pytest.raises(InputError, match="already exists"):
        svc.submit(again, actor="s")


# --- bad input never ends in a traceback -------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda s: OrderDraft("C001", (), dt.date(2026, 7, 1), "NB1"),
        lambda s: OrderDraft("C001", None, dt.date(2026, 7, 1), "NB1"),
        lambda s: OrderDraft("C001", [{"product": "HV-100"}], dt.date(2026, 7, 1), "NB1"),
        lambda s: OrderDraft("C001", [OrderLine("P", 1)], "2026-07-01", "NB1"),  # type: ignore[arg-type]
        lambda s: OrderDraft("C001", [OrderLine("P", 1)], None, "NB1"),  # type: ignore[arg-type]
        lambda s: OrderDraft("", [OrderLine("P", 1)], dt.date(2026, 7, 1), "NB1"),
        lambda s: s.customer_status(None),
        lambda s: s.customer_status(123),
        lambda s: s.slip_status("HY20260511-1", None),
        lambda s: s.slip_status("HY20260511-1", 123456),
        lambda s: s.edit("x", "not a mapping", actor="p"),
        lambda s: s.fire("x", None, actor="p"),
        lambda s: s.record_scan("Q23-7", "lots", direction="in", actor="w"),
        lambda s: s.record_scan("Q23-7", Decimal("NaN"), direction="in", actor="w"),
        lambda s: s.open_incident("x", None, actor="q"),
        lambda s: s.get("no-such-order"),
    ],
)
def test_bad_input_is_an_orderflow_error(svc: OrderService, call: object) -> None:
    with pytest.raises(OrderflowError):
        call(svc)  # type: ignore[operator]


def test_unknown_and_wrong_slip_codes_get_one_answer(svc: OrderService) -> None:
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    answers = set()
    for number, guess in ((order.number, "000000" if code != "000000" else "1"), ("HY1-1", "1")):
        with pytest.raises(NotFound) as info:
            svc.slip_status(number, guess)
        answers.add(str(info.value))
    assert len(answers) == 1
