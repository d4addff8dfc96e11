"""What a simulated plant looks like: volumes, calendars, master data, failure rates."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import attrs

from orderflow.domain import BomLine, Component, Customer, Product, ProductKind

__all__ = ["HOLIDAYS_2026", "PlantProfile", "daily_arrivals", "master_data"]

HOLIDAYS_2026: tuple[tuple[dt.date, dt.date], ...] = (
    (dt.date(2026, 1, 1), dt.date(2026, 1, 3)),
    (dt.date(2026, 2, 15), dt.date(2026, 2, 23)),  # Spring Festival
    (dt.date(2026, 4, 4), dt.date(2026, 4, 6)),
    (dt.date(2026, 5, 1), dt.date(2026, 5, 5)),
    (dt.date(2026, 6, 19), dt.date(2026, 6, 21)),
    (dt.date(2026, 9, 25), dt.date(2026, 9, 27)),
    (dt.date(2026, 10, 1), dt.date(2026, 10, 7)),  # National Day
)
"""Public holidays of the 2026 calendar (mainland China), first and last day."""


@attrs.frozen
class PlantProfile:
    """Parameters of a simulated plant year. Rates are per order unless noted."""

    orders: int = 147_000
    year: int = 2026
    factory_id: str = "NB1"
    customers: int = 300
    products: int = 40
    components: int = 120
    shortage_rate: float = 0.015
    qc_failure_rate: float = 0.02
    other_incident_rate: float = 0.02
    late_record_rate: float = 0.004
    cancel_rate: float = 0.01
    query_open_rate: float = 0.85
    query_call_rate: float = 0.08
    holidays: tuple[tuple[dt.date, dt.date], ...] = HOLIDAYS_2026

    def is_holiday(self, day: dt.date) -> bool:
        """True on a public holiday."""
        return any(a <= day <= b for a, b in self.holidays)


_WEEKDAY = {1: 1.25, 2: 1.1, 3: 1.05, 4: 1.0, 5: 1.05, 6: 0.45, 7: 0.1}


def daily_arrivals(profile: PlantProfile) -> list[tuple[dt.date, int]]:
    """Orders arriving per day: weekday peaks, pre-holiday bursts, quiet holidays.

    The counts add up to exactly ``profile.orders``.
    """
    start = dt.date(profile.year, 1, 1)
    days = [
        start + dt.timedelta(days=i) for i in range((dt.date(profile.year + 1, 1, 1) - start).days)
    ]
    weights = []
    for day in days:
        w = _WEEKDAY[day.isoweekday()]
        if profile.is_holiday(day):
            w *= 0.15
        elif any(0 < (a - day).days <= 14 for a, _ in profile.holidays):
            w *= 1.5  # customers order ahead of the holiday
        weights.append(w)
    total = sum(weights)
    raw = [profile.orders * w / total for w in weights]
    counts = [int(x) for x in raw]
    short = profile.orders - sum(counts)
    for i in sorted(range(len(days)), key=lambda i: raw[i] - counts[i], reverse=True)[:short]:
        counts[i] += 1
    return list(zip(days, counts, strict=True))


def master_data(
    profile: PlantProfile, rng: random.Random
) -> tuple[list[Customer], list[Component], list[Product]]:
    """Customers, components (some imported) and products with BOMs."""
    customers = [
        Customer(f"C{i:04d}", f"Customer {i}", rng.choice("AABBC"), Decimal(5_000_000), Decimal(0))
        for i in range(profile.customers)
    ]
    components = [
        Component(
            f"K{i:03d}",
            rng.choice(["seal ring", "valve core", "spring", "bolt", "housing", "O-ring"]),
            imported=rng.random() < 0.15,
            suppliers=tuple(f"S{rng.randrange(40):02d}" for _ in range(2)),
            safety_stock=Decimal(200),
            lead_time_days=rng.randrange(5, 40),
        )
        for i in range(profile.components)
    ]
    kinds = [ProductKind.REGULAR] * 7 + [ProductKind.CUSTOM] * 2 + [ProductKind.NEW]
    products = []
    for i in range(profile.products):
        parts = rng.sample(components, 3)
        products.append(
            Product(
                f"HV-{i:03d}",
                f"valve {i}",
                rng.choice(kinds),
                tuple(BomLine(c.code, rng.randint(1, 4)) for c in parts),
            )
        )
    return customers, components, products
