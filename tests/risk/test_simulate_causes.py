"""The plant simulator's risk causes (off by default): what the model learns from a store."""

from __future__ import annotations

import datetime as dt

from orderflow import FrozenClock, connect
from orderflow.risk.dataset import records_from_store
from orderflow.simulate import PlantProfile, simulate_year


def test_risk_causes_reach_the_store_and_the_rows() -> None:
    svc = connect("memory://", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
    profile = PlantProfile(orders=1500, customers=60, risk_causes=True)
    simulate_year(svc, profile, seed=7)
    rows = records_from_store(svc.store)
    assert len(rows) > 1400
    assert any(r.typhoon_zone for r in rows) and not all(r.typhoon_zone for r in rows)
    assert {r.backup_route for r in rows if r.typhoon_zone} == {True, False}
    assert max(r.drawing_changes for r in rows) > 2
    changes = [i for i in svc.incidents() if i.category == "drawing_change"]
    assert len(changes) > 50
    # flags were recorded at submission for the rows to read back
    flagged = [r for r in rows if r.typhoon_zone and r.backup_route is False]
    assert flagged


def test_without_risk_causes_orders_have_no_address() -> None:
    svc = connect("memory://", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
    simulate_year(svc, PlantProfile(orders=200), seed=7)
    assert all(o.delivery_address == "" for o in svc.store.orders())
