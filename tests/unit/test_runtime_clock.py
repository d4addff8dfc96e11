"""The service's instant is a plain UTC datetime whatever the clock hands it."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.service import OrderService

_AT = dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)


class _Clock:
    def __init__(self, instant: dt.datetime) -> None:
        self.instant = instant

    def now(self) -> dt.datetime:
        return self.instant


@pytest.mark.parametrize(
    "instant",
    [
        _AT,
        _AT.astimezone(dt.timezone(dt.timedelta(hours=8))),
        pendulum.instance(_AT),
        pendulum.instance(_AT).in_timezone("Asia/Shanghai"),
    ],
    ids=["utc", "offset", "pendulum", "pendulum-shanghai"],
)
def test_now_is_a_stdlib_utc_datetime(instant: dt.datetime) -> None:
    now = OrderService(MemoryStore(), clock=_Clock(instant)).runtime.now()
    assert type(now) is dt.datetime
    assert now.tzinfo is dt.UTC
    assert now == _AT


def test_a_naive_clock_instant_is_refused_with_the_fix() -> None:
    from orderflow.clock import as_utc
    from orderflow.exceptions import InputError

    with pytest.raises(InputError, match="timezone-aware"):
        OrderService(MemoryStore(), clock=_Clock(_AT.replace(tzinfo=None))).runtime.now()
    assert as_utc(_AT) is _AT  # already a stdlib UTC instant: kept as it is
