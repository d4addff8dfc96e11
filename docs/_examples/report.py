"""Unseen setup of the report guide's example: a small simulated year and its January."""

import datetime as dt
from pathlib import Path

from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.metrics import Period, compute_health
from orderflow.service.history import change_records
from orderflow.simulate import PlantProfile, simulate_year

svc = connect("memory://", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
simulate_year(svc, PlantProfile(orders=300), seed=7)
orders = list(svc.store.orders())
records = list(change_records(svc.store))
incidents = svc.incidents()
policy = svc.policy
clock = svc.clock
snapshot = compute_health(
    orders=orders, records=records, incidents=incidents, queries=svc.query_events(),
    verified_order_ids={o.id for o in orders}, policy=policy,
    period=Period.month(2026, 1, policy.timezone),
)  # fmt: skip
__all__ = ["Path", "clock", "incidents", "orders", "policy", "records", "snapshot"]
