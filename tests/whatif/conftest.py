"""A small seeded plant year shared by the what-if tests (simulated once per session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal as D

import attrs
import pytest

from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.service import OrderService
from orderflow.simulate import PlantProfile, simulate_year
from orderflow.whatif import Comparison, Scenario, compare
from tests.adapters.conftest import pg_schema, pg_schema_prefix, pg_store_factory, postgres_url

__all__ = ["pg_schema", "pg_schema_prefix", "pg_store_factory", "postgres_url"]


@pytest.fixture(scope="session")
def recorded() -> Iterator[OrderService]:
    """400 orders with frequent shortages (so that kitting is refused now and then)."""
    svc = connect("sqlite:///:memory:", clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))
    simulate_year(svc, PlantProfile(orders=400, shortage_rate=0.08), seed=2026)
    yield svc
    svc.store.close()


@pytest.fixture(scope="session")
def scenarios(recorded: OrderService) -> list[Scenario]:
    """The recorded policy, a lenient one (kits sooner) and a patient one (warns later)."""
    p = recorded.policy
    lenient = attrs.evolve(
        p, safety=attrs.evolve(p.safety, regular=D(1), custom=D(1), new_ladder=(D(1),))
    )
    patient = attrs.evolve(
        p,
        timeouts=attrs.evolve(
            p.timeouts, base_hours={"pending_review": D(8), "kitting_locked": D(12)}
        ),
    )
    return [Scenario("as recorded", p), Scenario("lenient", lenient),
            Scenario("patient", patient)]  # fmt: skip


@pytest.fixture(scope="session")
def comparison(recorded: OrderService, scenarios: list[Scenario]) -> Comparison:
    """The whole year 2026 under each scenario, replayed one after another."""
    return compare(recorded, 2026, 1, 12, scenarios)
