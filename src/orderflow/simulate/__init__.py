"""A reproducible plant year through the real service, for demos and benchmarks (R8)."""

from __future__ import annotations

from orderflow.simulate.engine import SimulationResult, simulate_year
from orderflow.simulate.profile import HOLIDAYS_2026, PlantProfile, daily_arrivals, master_data

__all__ = [
    "HOLIDAYS_2026",
    "PlantProfile",
    "SimulationResult",
    "daily_arrivals",
    "master_data",
    "simulate_year",
]
