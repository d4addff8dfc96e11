"""Injected time. The core never calls ``now()`` itself; it is handed a :class:`Clock`."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol, runtime_checkable

import pendulum

from orderflow.exceptions import InputError

__all__ = [
    "Clock",
    "FrozenClock",
    "SystemClock",
    "as_utc",
    "check_timezone",
    "from_micros",
    "local_day",
    "to_micros",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_sub = dt.datetime.__sub__


def to_micros(value: dt.datetime) -> int:
    """Integer microseconds since the Unix epoch (exact, no float): how instants are stored."""
    # the stdlib subtraction, also for pendulum instances (whose Interval lacks // timedelta)
    return _sub(value, _EPOCH) // _US


def from_micros(value: int) -> dt.datetime:
    """The UTC instant ``value`` microseconds after the epoch."""
    return _EPOCH + dt.timedelta(microseconds=value)


_DAY_US = 86_400_000_000


def local_day(us: int, zone: dt.tzinfo) -> tuple[dt.date, int, int]:
    """The calendar date in ``zone`` of the instant ``us`` (microseconds since the
    epoch), and the span ``[start, end)`` of instants (microseconds) on that date, for a
    caller to answer later instants from. The span is exact or the instant alone: a day
    that is not 24 hours long (a clock change) or whose midnights do not check out is
    not spanned."""
    day = (_EPOCH + dt.timedelta(microseconds=us)).astimezone(zone).date()
    start = to_micros(dt.datetime.combine(day, dt.time(), zone))
    end = start + _DAY_US

    def date_at(at: int) -> dt.date:
        return (_EPOCH + dt.timedelta(microseconds=at)).astimezone(zone).date()

    if (
        start <= us < end
        and to_micros(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)) == end
        and date_at(start) == day
        and date_at(start - 1) != day
        and date_at(end - 1) == day
        and date_at(end) != day
    ):
        return day, start, end
    return day, us, us + 1


def check_timezone(name: str) -> str:
    """``name`` if it is a known IANA time zone, else ValueError saying what to use."""
    try:
        pendulum.timezone(name)
    except Exception:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Asia/Shanghai)"
        ) from None
    return name


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current instant as a timezone-aware datetime (UTC)."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real wall clock (UTC, as a pendulum instance)."""

    def now(self) -> dt.datetime:
        """The current instant in UTC."""
        return pendulum.now("UTC")


def as_utc(instant: dt.datetime) -> dt.datetime:
    """``instant`` as a plain stdlib UTC datetime (pendulum's arithmetic costs ~10x more);
    a naive one is an :class:`~orderflow.InputError`."""
    if type(instant) is dt.datetime and instant.tzinfo is dt.UTC:
        return instant  # already one: a FrozenClock's, a replay's at every step
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InputError(f"clock instants must be timezone-aware, got {instant!r}")
    u = dt.datetime.astimezone(instant, dt.UTC)
    # a plain stdlib datetime: pendulum instances with a stdlib tzinfo lose it on addition
    return dt.datetime(
        u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=dt.UTC
    )


class FrozenClock:
    """A clock that only moves when told to: for tests and the simulator. Thread-safe."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = as_utc(start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    def now(self) -> dt.datetime:
        """The clock's current instant (UTC)."""
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move the clock forward by ``delta`` and return the new instant."""
        if delta < dt.timedelta(0):
            raise InputError("a FrozenClock never moves backwards")
        with self._lock:
            self._now = self._now + delta
            return self._now

    def set(self, instant: dt.datetime) -> None:
        """Jump to ``instant`` (must not be earlier than the current one)."""
        instant = as_utc(instant)
        with self._lock:
            if instant < self._now:
                raise InputError(f"a FrozenClock never moves backwards ({instant} < {self._now})")
            self._now = instant
