"""Unseen setup of the what-if guide's examples: a small simulated year in memory."""

import datetime as dt

from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.simulate import PlantProfile, simulate_year

svc = connect("memory://", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
simulate_year(svc, PlantProfile(orders=300, shortage_rate=0.08), seed=2026)
__all__ = ["svc"]
