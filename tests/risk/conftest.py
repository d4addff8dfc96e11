"""Fixtures of the delivery-risk tests: a service with imported parts, carriers and rates.

The model tests need LightGBM (the ``risk`` extra); without it they skip with a reason,
except under ``CI=true``, where they fail: CI always runs them (on a small history).
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest

from orderflow import BomLine, Component, Customer, FrozenClock, OrderService, Product, connect
from orderflow.risk import Carrier, RiskSources, SeriesRates

NOW = dt.datetime(2026, 8, 3, 2, tzinfo=dt.UTC)
"""A Monday in typhoon season, 10:00 in Ningbo."""
ZHANJIANG = "广东省湛江市霞山区人民大道1号"
HANGZHOU = "浙江省杭州市西湖区文三路1号"


def rates(before: str, now: str) -> SeriesRates:
    """USD/CNY at ``before`` 30 days before :data:`NOW` and at ``now`` on its date."""
    day = NOW.date()
    return SeriesRates({"USD": {day - dt.timedelta(days=30): Decimal(before), day: Decimal(now)}})


def make_service(*, imported: int = 3, backup: bool | None = False,
                 rate_now: str = "7.2") -> OrderService:  # fmt: skip
    """A memory service: customer C1, product HV-1 whose BOM has ``imported`` imported parts
    out of 4, carrier SF (``backup``; ``None``: no carrier on record), USD 7.0 -> ``rate_now``."""
    svc = connect("memory://", clock=FrozenClock(NOW))
    svc.put_customer(Customer("C1", "Zhanjiang Pumps", credit_limit=10**8))
    svc.put_customer(Customer("C2", "Ningbo Valves", credit_limit=10**8))
    for i in range(4):
        svc.put_component(Component(f"K{i}", "bearing", imported=i < imported))
        svc.set_stock(f"K{i}", 10_000)
    svc.put_product(Product("HV-1", "valve", bom=tuple(BomLine(f"K{i}", 1) for i in range(4))))
    if backup is not None:
        svc.put_carrier(Carrier("SF", "SF Express", backup_route=backup, default_for=("NB1",)))
    svc.risk_sources = RiskSources(svc.store, rates=rates("7.0", rate_now))
    return svc


def set_clock(svc: OrderService, when: dt.datetime) -> None:
    """Move the service's frozen clock to ``when``."""
    assert isinstance(svc.clock, FrozenClock)
    svc.clock.set(when)


def needs_lightgbm() -> Any:
    """The lightgbm module, or skip (fail under ``CI=true``)."""
    try:
        import lightgbm
    except (ImportError, OSError) as exc:  # OSError: libgomp1 missing
        reason = f"lightgbm (orderflow[risk]) not usable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return lightgbm
