"""First fit on a capacity schedule: the indexed search agrees with the plain definition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orderflow.workflow import CapacitySlot
from orderflow.workflow.facts import CapacitySchedule

BASE = dt.date(2026, 1, 1)
days = st.integers(0, 90).map(lambda d: BASE + dt.timedelta(days=d))


@st.composite
def slots(draw: st.DrawFn) -> CapacitySlot:
    start = draw(days)
    length = draw(st.integers(0, 40))
    return CapacitySlot(
        draw(st.sampled_from(["L1", "L2", "L3"])),
        start,
        start + dt.timedelta(days=length),
        draw(st.integers(0, 50)),
    )


def reference(
    schedule: CapacitySchedule, units: Decimal, today: dt.date, deadline: dt.date
) -> CapacitySlot | None:
    """The definition: the earliest (start, line) slot ending in [today, deadline] with room."""
    fits = [s for s in schedule.slots if s.free_units >= units and today <= s.end <= deadline]
    return min(fits, key=lambda s: (s.start, s.line), default=None)


@given(st.lists(slots(), max_size=30, unique_by=lambda s: (s.line, s.start)), st.integers(0, 60),
       days, days)  # fmt: skip
def test_first_fit_is_the_earliest_slot_with_room(
    found: list[CapacitySlot], units: int, today: dt.date, deadline: dt.date
) -> None:
    schedule = CapacitySchedule(tuple(found))
    expected = reference(schedule, Decimal(units), today, deadline)
    assert schedule.first_fit(Decimal(units), today, deadline) == expected
    # asked again (guards and effects do), the answer is the same
    assert schedule.first_fit(Decimal(units), today, deadline) == expected
