"""Unseen setup of the performance guide's example: a minute of goods-in scans."""

import datetime as dt
import logging
from types import SimpleNamespace

from orderflow import Component, FrozenClock, OrderflowError
from orderflow.bootstrap import connect

log = logging.getLogger("scans")
svc = connect("memory://", clock=FrozenClock(dt.datetime(2026, 1, 22, 1, 0, tzinfo=dt.UTC)))
svc.put_component(Component("Q23-7", "seal ring", safety_stock=50))
minute_of_scans = [
    SimpleNamespace(id=f"scan-{i}", component="Q23-7", qty=10, user="wh.li") for i in range(60)
] + [SimpleNamespace(id="scan-bad", component="Q23-7", qty=-5, user="wh.li")]
__all__ = ["OrderflowError", "log", "minute_of_scans", "svc"]  # what the page uses
