"""Stage time limits found by a sweep, not by timers (R4).

Each order carries the deadline of its current stage (set by the engine when it enters
the stage, from the policy's base hours and the month's seasonal multiplier). A sweep
over stored orders finds the overdue ones, so warnings survive restarts.
An order overdue by more than ``escalate_after`` times its limit is escalated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs
import pendulum

from orderflow.domain.order import Order

__all__ = ["DueWarning", "WorkingCalendar", "due_warnings"]


@attrs.frozen
class DueWarning:
    """An order that has stayed too long in its stage."""

    order_id: str
    number: str
    factory_id: str
    stage: str
    deadline: dt.datetime
    overdue: dt.timedelta
    escalated: bool

    @property
    def overdue_hours(self) -> float:
        """How late, in hours (for display)."""
        return self.overdue.total_seconds() / 3600


def due_warnings(
    orders: Iterable[Order], now: dt.datetime, *, escalate_after: float = 2.0
) -> list[DueWarning]:
    """Every order past its stage deadline at ``now``, most overdue first.

    ``escalated`` is set when the order is overdue by more than ``escalate_after`` times
    the time it was allowed in the stage.
    """
    out = []
    for order in orders:
        deadline = order.deadline
        if deadline is None or deadline >= now:
            continue
        allowed = deadline - order.stage_entered_at
        overdue = now - deadline
        out.append(
            DueWarning(
                order.id,
                order.number,
                order.factory_id,
                order.stage,
                deadline,
                overdue,
                overdue > allowed * escalate_after,
            )
        )
    out.sort(key=lambda w: (-w.overdue, w.number))
    return out


@attrs.frozen
class WorkingCalendar:
    """Working hours in the factory's zone, for deadlines that only count working time.

    ``hours`` is the daily working window (start, end) in local hours; ``weekdays`` the
    ISO weekdays worked (1 = Monday); ``holidays`` local dates not worked.
    """

    timezone: str = "Asia/Shanghai"
    hours: tuple[int, int] = (8, 18)
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5, 6})
    holidays: frozenset[dt.date] = frozenset()

    def add_working_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant ``duration`` of working time after ``start`` (returned in UTC)."""
        if duration < dt.timedelta(0):
            raise ValueError("duration must not be negative")
        local = pendulum.instance(start).in_timezone(self.timezone)
        remaining = duration
        open_h, close_h = self.hours
        while True:
            day = local.date()
            day_open = local.set(hour=open_h, minute=0, second=0, microsecond=0)
            day_close = local.set(hour=close_h, minute=0, second=0, microsecond=0)
            if day.isoweekday() in self.weekdays and day not in self.holidays and local < day_close:
                begin = max(local, day_open)
                available = day_close - begin
                if remaining <= available:
                    return (begin + remaining).in_timezone("UTC")
                remaining -= available
            local = day_open.add(days=1)
