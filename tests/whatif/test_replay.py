"""Replaying the record: the recorded policy reproduces it; other policies move what they
decide (kitting, waits for stock, overdue warnings) and nothing the world decided."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from orderflow.clock import to_micros
from orderflow.exceptions import InputError
from orderflow.policy import Policy
from orderflow.service import OrderService
from orderflow.whatif import (
    Comparison,
    Scenario,
    compare,
    months,
    render_table,
    replay,
    report_section,
    survey,
)

D = Decimal


def test_the_recorded_policy_reproduces_the_record_exactly(comparison: Comparison) -> None:
    record, same = comparison.outcomes[:2]
    assert record.label == "recorded"
    assert record.kitting_refusals > 0 and record.on_time.denominator > 300  # not vacuous
    assert same.on_time == record.on_time
    assert same.kitting_refusals == record.kitting_refusals
    # and everything else the policy decides or the world did
    assert attrs.evolve(same, label="recorded") == record


def test_a_lower_safety_factor_refuses_less_and_changes_no_world_event(
    comparison: Comparison,
) -> None:
    record, _, lenient, _ = comparison.outcomes
    assert lenient.kitting_refusals < record.kitting_refusals
    assert lenient.closure_within_target == record.closure_within_target


def test_longer_review_limits_warn_less(comparison: Comparison) -> None:
    record, _, _, patient = comparison.outcomes
    assert patient.warnings < record.warnings
    assert patient.kitting_refusals == record.kitting_refusals


def test_the_table_and_the_section_show_every_column(comparison: Comparison) -> None:
    table = render_table(comparison)
    header = table.splitlines()[0]
    assert header.startswith("what-if 2026-01 to 2026-12") and header.endswith("patient")
    assert all(label in header for label in ("recorded", "as recorded", "lenient"))
    assert "Kitting refusals" in table and "Stock held (value-days)" in table
    section = report_section(comparison)
    assert section.columns == ("Measure", "recorded", "as recorded", "lenient", "patient")
    assert len(section.rows) == len(table.splitlines()) - 2


def test_a_period_after_the_log_is_refused(recorded: OrderService) -> None:
    policy: Policy = recorded.policy
    with pytest.raises(InputError, match="choose a month it covers"):
        compare(recorded, 2031, 1, 1, [Scenario("x", policy)])


def test_the_last_replay_releases_the_log_and_decides_the_same(recorded: OrderService) -> None:
    policy = recorded.policy
    plan = survey(recorded)
    period = months(2026, 1, 12, policy.timezone)
    start, end = to_micros(period.start), to_micros(period.end)
    kept = replay(recorded, plan, policy, start_us=start, end_us=end)
    # a replay that is not the last leaves the log to the next one, which may release it
    last = replay(recorded, plan, policy, start_us=start, end_us=end, last=True)
    assert plan.spent and all(chunk == () for chunk in plan.log)
    assert (last.refusals, last.waits_hours, last.orders, last.skipped) == (
        kept.refusals, kept.waits_hours, kept.orders, kept.skipped
    )  # fmt: skip
    assert last.service.store.audit_size() == kept.service.store.audit_size()
    with pytest.raises(InputError, match="survey the store again"):
        replay(recorded, plan, policy, start_us=start, end_us=end)
