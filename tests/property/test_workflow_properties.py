"""Invariants of the engine, for any order, facts, policy and event sequence (R3)."""

from __future__ import annotations

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from orderflow import InvalidTransition, TransitionRefused, Workflow
from orderflow.domain import Order
from orderflow.policy import Policy
from orderflow.testing.strategies import policies, scenarios
from orderflow.workflow import DEFAULT_DEFINITION, Facts

WF = Workflow()
MAINLINE = DEFAULT_DEFINITION.mainline
EVENTS = DEFAULT_DEFINITION.events()
AT = pendulum.datetime(2026, 6, 1, tz="UTC")


def _rank(stage: str) -> int | None:
    return MAINLINE.index(stage) if stage in MAINLINE else None


@given(
    scenarios(),
    st.lists(st.tuples(st.sampled_from(EVENTS), st.booleans()), max_size=25),
    policies(),
)
def test_an_order_never_skips_a_stage(
    scenario: tuple[Order, Facts], events: list[tuple[str, bool]], policy: Policy
) -> None:
    order, facts = scenario
    furthest = 0
    for event, with_reason in events:
        try:
            order = WF.fire(
                order,
                event,
                facts,
                actor="p",
                at=AT,
                reason="because" if with_reason else None,
                policy=policy,
            ).order
        except (InvalidTransition, TransitionRefused):
            continue
        rank = _rank(order.stage)
        if rank is not None:
            assert rank <= furthest + 1, f"{order.stage} entered with furthest {furthest}"
            furthest = max(furthest, rank)


@given(scenarios(), st.sampled_from(EVENTS), st.sampled_from((*MAINLINE, "on_hold")))
def test_a_refusal_leaves_the_order_unchanged(
    scenario: tuple[Order, Facts], event: str, stage: str
) -> None:
    import attrs

    order, facts = scenario
    order = attrs.evolve(
        order, stage=stage, held_from="pending_review" if stage == "on_hold" else None
    )
    before = attrs.asdict(order, recurse=False)
    try:
        fired = WF.fire(order, event, facts, actor="p", at=AT)
    except (InvalidTransition, TransitionRefused) as exc:
        assert attrs.asdict(order, recurse=False) == before
        if isinstance(exc, TransitionRefused):
            assert exc.reasons and all(not r.ok for r in exc.reasons)
            explanation = WF.explain(order, event, facts)
            assert {r.code for r in explanation.failures} <= set(exc.codes)
        return
    assert attrs.asdict(order, recurse=False) == before
    assert fired.order.version == order.version + 1
    assert fired.record.from_stage == order.stage == before["stage"]


@given(scenarios())
def test_explain_agrees_with_fire(scenario: tuple[Order, Facts]) -> None:
    order, facts = scenario
    allowed = WF.explain(order, "lock_kitting", facts).allowed
    try:
        WF.fire(order, "lock_kitting", facts, actor="p", at=AT)
    except TransitionRefused:
        assert not allowed
    else:
        assert allowed
