"""The plant's calendar date of an instant, answered from a day's span (Runtime.local_date)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.adapters.memory import MemoryStore
from orderflow.clock import FrozenClock, from_micros, local_day
from orderflow.policy import Policy, PolicyStore
from orderflow.service import OrderService

# no clock change (the plants' own), clock changes at 02:00 or 03:00, at midnight
# (America/Havana, Asia/Beirut), half-hour offsets, and a zone that skipped a whole day
# (Pacific/Apia, 2011-12-30)
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "America/Havana",
         "Asia/Beirut", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Apia", "UTC")  # fmt: skip
_US = st.integers(
    min_value=int(dt.datetime(1990, 1, 1, tzinfo=dt.UTC).timestamp()) * 10**6,
    max_value=int(dt.datetime(2060, 1, 1, tzinfo=dt.UTC).timestamp()) * 10**6,
)


def _odd_days(zone: str) -> list[int]:
    """Local midnights (as instants) of the days 2010-2030 in ``zone`` that are not 24
    hours long: where a span could go wrong."""
    tz = zoneinfo.ZoneInfo(zone)
    found = []
    day = dt.date(2010, 1, 1)
    while day < dt.date(2031, 1, 1):
        start = dt.datetime.combine(day, dt.time(), tz).timestamp()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).timestamp()
        if end - start != 86_400:
            found.append(int(start) * 10**6)
        day += dt.timedelta(days=1)
    return found


_ODD = {zone: _odd_days(zone) for zone in ZONES}


@st.composite
def _zone_and_instant(draw: st.DrawFn) -> tuple[str, int]:
    zone = draw(st.sampled_from(ZONES))
    near: bool = draw(st.booleans())
    if near and _ODD[zone]:  # around a day with a clock change
        hours = draw(st.integers(-30, 54))
        return zone, draw(st.sampled_from(_ODD[zone])) + hours * 3_600 * 10**6
    return zone, draw(_US)


def _date(us: int, zone: str) -> dt.date:
    return from_micros(us).astimezone(zoneinfo.ZoneInfo(zone)).date()


@settings(max_examples=400)
@given(at=_zone_and_instant(), probe=st.floats(0, 1))
def test_a_days_span_holds_that_date_and_only_it(at: tuple[str, int], probe: float) -> None:
    zone, us = at
    day, start, end = local_day(us, zoneinfo.ZoneInfo(zone))
    assert day == _date(us, zone)
    assert start <= us < end
    inside = start + int((end - start - 1) * probe)
    assert _date(inside, zone) == _date(end - 1, zone) == day
    if end - start > 1:  # a whole day: its neighbours are other dates
        assert _date(start - 1, zone) != day != _date(end, zone)


@settings(max_examples=150, deadline=None)
@given(
    at=_zone_and_instant(),
    # steps across midnights and clock changes: up to a few days
    steps=st.lists(st.integers(0, 3 * 86_400 * 10**6), min_size=1, max_size=40),
)
def test_the_runtimes_cached_dates_are_the_zones_dates(
    at: tuple[str, int], steps: list[int]
) -> None:
    zone, start = at
    policy = Policy(timezone=zone)
    svc = OrderService(MemoryStore(), clock=FrozenClock(), policies=PolicyStore(policy))
    us = start
    for step in steps:
        us += step
        assert svc.local_date(from_micros(us)) == _date(us, zone)
