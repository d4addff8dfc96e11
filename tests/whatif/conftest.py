"""A small seeded plant year shared by the what-if tests (simulated once per session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.service import OrderService
from orderflow.simulate import PlantProfile, simulate_year


@pytest.fixture(scope="session")
def recorded() -> Iterator[OrderService]:
    """400 orders with frequent shortages (so that kitting is refused now and then)."""
    svc = connect("sqlite:///:memory:", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
    simulate_year(svc, PlantProfile(orders=400, shortage_rate=0.08), seed=2026)
    yield svc
    svc.store.close()
