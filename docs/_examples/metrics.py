"""Unseen setup of the metrics guide's examples: a small simulated year in memory."""

import datetime as dt

from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.service.history import change_records
from orderflow.simulate import PlantProfile, simulate_year

svc = connect("memory://", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
simulate_year(svc, PlantProfile(orders=300), seed=7)
orders = list(svc.store.orders())
records = list(change_records(svc.store))
incidents = svc.incidents()
queries = svc.query_events()
ok_ids = {o.id for o in orders}
policy = svc.policy
clock = svc.clock
order = orders[0]
