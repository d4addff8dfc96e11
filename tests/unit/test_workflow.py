"""The engine: fire, explain, enabled events, reasons, hold/resume, replay, policy swaps."""

from __future__ import annotations

import datetime as dt
import threading

import attrs
import pytest

from orderflow import DefinitionError, InputError, PolicyStore, TransitionRefused, Workflow
from orderflow.domain import Order
from orderflow.policy import Policy, SafetyFactors
from orderflow.workflow import DEFAULT_DEFINITION, Facts, GuardRegistry, GuardResult, to_mermaid
from tests.unit.helpers import AT, make_facts, make_order

WF = Workflow()
MAINLINE = ("lock_kitting", "dispatch_production", "release_qc", "deliver")


def walk(events: tuple[str, ...] = MAINLINE) -> list[str]:
    order, stages = make_order(), []
    for event in events:
        order = WF.fire(order, event, make_facts(), actor="li", at=AT).order
        stages.append(order.stage)
    return stages


def test_full_lifecycle_and_versions() -> None:
    order = make_order()
    records = []
    for event in MAINLINE:
        fired = WF.fire(order, event, make_facts(), actor="li", at=AT)
        assert fired.order.version == order.version + 1
        records.append(fired.record)
        order = fired.order
    assert order.stage == "delivered"
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert [r.to_stage for r in records] == [
        "kitting_locked",
        "production_dispatched",
        "qc_released",
        "delivered",
    ]
    assert records[0].guards == ("credit_limit", "bom_kitting", "inbound_po_overdue")
    assert all(r.policy_version == 1 and r.occurred_at == AT for r in records)


def test_fast_copy_equals_evolve_and_leaves_original() -> None:
    order = make_order()
    new = WF.fire(order, "lock_kitting", make_facts(), actor="li", at=AT).order
    assert order.stage == "pending_review" and order.version == 0
    # January is a peak month: the 4 h kitting limit is 30 % shorter
    deadline = AT + dt.timedelta(hours=2, minutes=48)
    assert new == attrs.evolve(order, stage="kitting_locked", version=1, deadline=deadline)
    assert hash(new.lines) == hash(order.lines)


def test_deadlines_follow_the_season_and_vanish_without_a_limit() -> None:
    may = AT.add(months=4)  # May: neither peak nor off season
    order = attrs.evolve(make_order(), stage_entered_at=may)
    locked = WF.fire(order, "lock_kitting", make_facts(), actor="li", at=may).order
    assert locked.deadline == may + dt.timedelta(hours=4)
    dispatched = WF.fire(locked, "dispatch_production", make_facts(), actor="li", at=may).order
    assert dispatched.deadline is None


def test_rework_and_cancel_need_a_reason() -> None:
    order = make_order()
    for e in MAINLINE[:3]:
        order = WF.fire(order, e, make_facts(), actor="li", at=AT).order
    with pytest.raises(TransitionRefused) as info:
        WF.fire(order, "fail_qc", make_facts(), actor="qc", at=AT, reason="  ")
    assert info.value.codes == ("reason_required",)
    back = WF.fire(order, "fail_qc", make_facts(), actor="qc", at=AT, reason="burr on seat")
    assert back.order.stage == "production_dispatched"
    assert back.record.reason == "burr on seat"
    cancelled = WF.fire(make_order(), "cancel", make_facts(), actor="s", at=AT, reason="dup")
    assert cancelled.order.stage == "cancelled"


def test_cannot_cancel_after_production_started() -> None:
    order = make_order()
    for e in MAINLINE[:2]:
        order = WF.fire(order, e, make_facts(), actor="li", at=AT).order
    from orderflow import InvalidTransition

    with pytest.raises(InvalidTransition):
        WF.fire(order, "cancel", make_facts(), actor="s", at=AT, reason="late")


def test_hold_resume_returns_to_the_held_stage() -> None:
    order = WF.fire(make_order(), "lock_kitting", make_facts(), actor="li", at=AT).order
    held = WF.fire(order, "hold", make_facts(), actor="li", at=AT, reason="customer call").order
    assert (held.stage, held.held_from) == ("on_hold", "kitting_locked")
    resumed = WF.fire(held, "resume", make_facts(), actor="li", at=AT).order
    assert (resumed.stage, resumed.held_from) == ("kitting_locked", None)


def test_explain_and_enabled_events_change_nothing() -> None:
    order = make_order()
    exp = WF.explain(order, "lock_kitting", make_facts(104))
    assert not exp.allowed
    assert [r.code for r in exp.results] == ["credit_limit", "bom_kitting", "inbound_po_overdue"]
    assert [r.code for r in exp.failures] == ["bom_kitting"]
    assert exp.results[1].measured["kitting_rate"] == 0
    assert WF.enabled_events(order, make_facts(104)) == ("cancel", "hold")
    assert WF.enabled_events(order, make_facts(105)) == ("lock_kitting", "cancel", "hold")
    assert order.stage == "pending_review"


def test_policy_swap_applies_to_next_fire_and_is_recorded() -> None:
    store = PolicyStore()
    wf = Workflow(policy=store)
    order = make_order(qty=100)
    assert (
        wf.fire(order, "lock_kitting", make_facts(105), actor="a", at=AT).record.policy_version == 1
    )
    store.update(safety=SafetyFactors(regular=__import__("decimal").Decimal("1.1")))
    with pytest.raises(TransitionRefused):
        wf.fire(order, "lock_kitting", make_facts(105), actor="a", at=AT)
    assert (
        wf.fire(order, "lock_kitting", make_facts(110), actor="a", at=AT).record.policy_version == 2
    )


def test_policy_store_swaps_atomically_under_concurrent_readers() -> None:
    store = PolicyStore()
    seen: set[tuple[int, int]] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            p = store.current
            seen.add((p.version, p.po_overdue_days))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for v in range(2, 200):
        store.swap(Policy(version=v, po_overdue_days=v))
    stop.set()
    for t in threads:
        t.join()
    # every observed policy is a whole version: its two fields always agree
    assert all(version in (days, 1) for version, days in seen)


def test_naive_time_refused() -> None:
    with pytest.raises(InputError):
        WF.fire(make_order(), "lock_kitting", make_facts(), actor="li", at=dt.datetime(2026, 1, 1))


def test_custom_guard_registered_by_name() -> None:
    registry = GuardRegistry()

    @registry.guard("drawing_signed")
    def drawing_signed(order: Order, facts: Facts, policy: Policy) -> GuardResult:
        return GuardResult(False, "drawing_signed", "drawing rev C not signed by customer")

    definition = attrs.evolve(
        DEFAULT_DEFINITION,
        transitions=tuple(
            attrs.evolve(t, guards=(*t.guards, "drawing_signed")) if t.event == "release_qc" else t
            for t in DEFAULT_DEFINITION.transitions
        ),
    )
    wf = Workflow(definition, guards=registry)
    order = make_order()
    for e in MAINLINE[:2]:
        order = wf.fire(order, e, make_facts(), actor="li", at=AT).order
    with pytest.raises(TransitionRefused, match="rev C not signed"):
        wf.fire(order, "release_qc", make_facts(), actor="li", at=AT)


def test_unknown_guard_in_definition_is_refused_when_built() -> None:
    definition = attrs.evolve(
        DEFAULT_DEFINITION,
        transitions=(
            *DEFAULT_DEFINITION.transitions[:-1],
            attrs.evolve(DEFAULT_DEFINITION.transitions[-1], guards=("nope",)),
        ),
    )
    with pytest.raises(DefinitionError, match="unknown guard 'nope'"):
        Workflow(definition)


def test_order_in_unknown_stage_is_a_clear_error() -> None:
    order = attrs.evolve(make_order(), stage="lost")
    with pytest.raises(DefinitionError, match="unknown to workflow"):
        WF.fire(order, "lock_kitting", make_facts(), actor="li", at=AT)


def test_replay_rebuilds_the_order() -> None:
    order = make_order()
    records = []
    current = order
    for e in (*MAINLINE[:3], "fail_qc", "release_qc", "deliver"):
        fired = WF.fire(current, e, make_facts(), actor="li", at=AT, reason="r")
        records.append(fired.record)
        current = fired.order
    assert WF.replay(order, records) == current
    with pytest.raises(InputError, match="does not follow"):
        WF.replay(order, records[1:])


def test_mermaid_lists_every_edge() -> None:
    text = to_mermaid(DEFAULT_DEFINITION)
    assert text.startswith("stateDiagram-v2")
    assert "pending_review --> kitting_locked: lock_kitting [credit_limit, bom_kitting" in text
    assert "qc_released --> production_dispatched: fail_qc (reason)" in text
    assert text.count("-->") == 1 + 12 + 2
