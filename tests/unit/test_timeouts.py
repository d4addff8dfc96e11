"""Stage deadlines found by a sweep (R4), working calendars, time-ordered ids."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.domain.order import time_ordered_id
from orderflow.testing.contracts import draft, seeded_service
from orderflow.workflow import WorkingCalendar, due_warnings
from tests.unit.helpers import AT, make_order

UTC = dt.UTC


def test_due_warnings_most_overdue_first_and_escalation() -> None:
    base = make_order()
    two_hours = base.stage_entered_at + dt.timedelta(hours=2)
    a = attrs.evolve(base, id="a", number="HY20260122-1", deadline=two_hours)
    b = attrs.evolve(base, id="b", number="HY20260122-2",
                     deadline=two_hours + dt.timedelta(hours=1))  # fmt: skip
    none = attrs.evolve(base, id="c", number="HY20260122-3", deadline=None)
    now = two_hours + dt.timedelta(hours=4, minutes=30)
    found = due_warnings([b, none, a], now)
    assert [w.order_id for w in found] == ["a", "b"]
    assert found[0].overdue == dt.timedelta(hours=4, minutes=30)
    assert found[0].escalated  # 4.5 h late on a 2 h limit > 2 x
    assert not found[1].escalated  # 3.5 h late on a 3 h limit
    assert due_warnings([a], two_hours) == []  # due exactly now is not overdue


def test_sweep_audits_each_warning_once_and_escalation_separately() -> None:
    svc = seeded_service(MemoryStore())
    order = svc.submit(draft(), actor="s").order
    svc.clock.advance(dt.timedelta(hours=3))  # type: ignore[attr-defined]
    assert [w.escalated for w in svc.sweep_warnings()] == [False]
    size = svc.store.audit_size()
    svc.sweep_warnings()
    assert svc.store.audit_size() == size  # the same warning is not written twice
    # 2 h limit: escalated once more than 2 x 2 h overdue, i.e. after 6 h 30 min
    svc.clock.advance(dt.timedelta(hours=3, minutes=30))  # type: ignore[attr-defined]
    assert [w.escalated for w in svc.sweep_warnings()] == [True]
    assert svc.store.audit_size() == size + 1
    assert svc.get(order.id).version == 2
    svc.audit.verify(deep=True)


def test_working_calendar_skips_nights_sundays_and_holidays() -> None:
    cal = WorkingCalendar(holidays=frozenset({dt.date(2026, 1, 26)}))
    # Saturday 2026-01-24 17:00 Beijing = 09:00 UTC; 3 working hours left: 1 h on
    # Saturday, Sunday off, Monday 26th a holiday, 2 h on Tuesday from 08:00
    start = dt.datetime(2026, 1, 24, 9, tzinfo=UTC)
    end = cal.add_working_time(start, dt.timedelta(hours=3))
    assert end == dt.datetime(2026, 1, 27, 2, tzinfo=UTC)  # Tuesday 10:00 Beijing
    inside = cal.add_working_time(dt.datetime(2026, 1, 22, 1, tzinfo=UTC), dt.timedelta(hours=2))
    assert inside == dt.datetime(2026, 1, 22, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_time(start, dt.timedelta(hours=-1))


def test_time_ordered_ids_sort_by_time_and_do_not_collide() -> None:
    earlier = [time_ordered_id(AT) for _ in range(1000)]
    later = time_ordered_id(AT + dt.timedelta(milliseconds=1))
    assert len(set(earlier)) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in earlier)
    assert max(earlier) < later
