"""Unseen setup of the geo guide's examples: a few orders, a factory and a GPS fix."""

import datetime as dt

from orderflow.domain import OrderLine, new_order
from orderflow.geo import Factory, LatLon, destination

_t0 = dt.datetime(2026, 1, 22, 1, 0, tzinfo=dt.UTC)
orders = [
    new_order(number=f"HY20260122-{i}", customer_id="C001", lines=[OrderLine("HV-200", 1)],
              requested_date=dt.date(2026, 3, 1), factory_id=f, initial_stage="pending_review",
              created_at=_t0)[0]
    for i, f in enumerate(["SZ-1", "NB-1", "SZ-1"], start=1)
]  # fmt: skip
factory = Factory("SZ-1", LatLon(22.7209, 114.2468), products={"HV-200"})
gps_fix = destination(factory.location, 45.0, 812.0)
