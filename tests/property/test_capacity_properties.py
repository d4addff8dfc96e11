"""First fit on a capacity schedule: the indexed search agrees with the plain definition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
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


@given(
    st.lists(slots(), min_size=1, max_size=30, unique_by=lambda s: (s.line, s.start)),
    st.data(), st.integers(0, 60), days, days, st.booleans(),
)  # fmt: skip
def test_a_schedule_with_one_slot_changed_answers_as_a_fresh_one(
    found: list[CapacitySlot], data: st.DataObject, units: int, today: dt.date,
    deadline: dt.date, asked_before: bool,
) -> None:  # fmt: skip
    before = CapacitySchedule(tuple(found))
    if asked_before:  # the index is built and carried over
        before.first_fit(Decimal(units), today, deadline)
    i = data.draw(st.integers(0, len(found) - 1))
    old = found[i]
    slot = CapacitySlot(old.line, old.start, old.end, data.draw(st.integers(0, 50)))
    derived = before.with_free_units(i, slot)
    fresh = CapacitySchedule((*found[:i], slot, *found[i + 1 :]))
    assert derived == fresh
    for want in (Decimal(units), Decimal(0), slot.free_units):
        assert derived.first_fit(want, today, deadline) == reference(fresh, want, today, deadline)
    assert before.slots[i] is old  # the schedule it came from is unchanged


def test_only_the_free_units_may_change() -> None:
    slot = CapacitySlot("L1", BASE, BASE + dt.timedelta(days=6), 10)
    schedule = CapacitySchedule((slot,))
    moved = CapacitySlot("L1", BASE + dt.timedelta(days=1), BASE + dt.timedelta(days=6), 10)
    with pytest.raises(ValueError, match="same line and dates"):
        schedule.with_free_units(0, moved)


@given(
    st.lists(slots(), min_size=1, max_size=20, unique_by=lambda s: (s.line, s.start)),
    st.lists(st.tuples(st.integers(0, 19), st.integers(0, 50)), max_size=6),
    st.sampled_from(["NB1", "NB2"]),
)
def test_the_stored_schedule_after_each_dispatch_is_the_stored_slots(
    found: list[CapacitySlot], changes: list[tuple[int, int]], factory: str
) -> None:
    from orderflow.adapters.memory import MemoryStore
    from orderflow.service import records

    store = MemoryStore()
    with store.transaction() as tx:
        for slot in found:
            records.write_slot(tx, factory, slot)
    for i, free in changes:
        with store.transaction() as tx:
            schedule = records.capacity_schedule(tx, factory)
            schedule.first_fit(Decimal(1), BASE, BASE + dt.timedelta(days=200))
            slot = schedule.slots[i % len(schedule.slots)]
            records.write_slot(tx, factory, slot, Decimal(free))
            again = records.capacity_schedule(tx, factory)
            stored = tuple(records._slot(b) for _, b in tx.docs(records.CAPACITY, factory + "/"))
            assert again == CapacitySchedule(stored)
            assert again.first_fit(Decimal(free), BASE, BASE + dt.timedelta(days=200)) == (
                reference(again, Decimal(free), BASE, BASE + dt.timedelta(days=200))
            )
