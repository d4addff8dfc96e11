"""Injected time. The core never calls ``now()`` itself; it is handed a :class:`Clock`."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Protocol, runtime_checkable

import pendulum

__all__ = ["Clock", "FrozenClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current instant as an aware UTC datetime."""

    def now(self) -> pendulum.DateTime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock (UTC)."""

    def now(self) -> pendulum.DateTime:
        """The current instant in UTC."""
        return pendulum.now("UTC")


class FrozenClock:
    """A clock that only moves when told to: for tests and the simulator. Thread-safe."""

    def __init__(self, start: pendulum.DateTime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = (start or pendulum.datetime(2026, 1, 1, tz="UTC")).in_timezone("UTC")

    def now(self) -> pendulum.DateTime:
        """The clock's current instant."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> pendulum.DateTime:
        """Move the clock forward by ``delta`` and return the new instant."""
        if delta < timedelta(0):
            raise ValueError("a FrozenClock never moves backwards")
        with self._lock:
            self._now = self._now + delta
            return self._now

    def set(self, instant: pendulum.DateTime) -> None:
        """Jump to ``instant`` (must not be earlier than the current one)."""
        instant = instant.in_timezone("UTC")
        with self._lock:
            if instant < self._now:
                raise ValueError("a FrozenClock never moves backwards")
            self._now = instant
