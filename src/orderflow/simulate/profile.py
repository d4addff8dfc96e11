"""What a simulated plant looks like: volumes, calendars, master data, failure rates."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import attrs

from orderflow.domain import BomLine, Component, Customer, Product, ProductKind
from orderflow.exceptions import InputError

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


MAX_ORDERS = 5_000_000
"""The most orders one simulated year takes (34 years of the seed plant's volume)."""


@attrs.frozen
class PlantProfile:
    """Parameters of a simulated plant year. Rates are per order unless noted.

    Requested dates: a ``rush_order_rate`` share of orders is wanted within
    ``rush_lead_days`` (an inclusive range of calendar days after arrival); the plant
    expedites those (production queue jumped, next truck) but cannot always make the date.
    The others are wanted within ``lead_days``. Shortages (``shortage_rate``) and QC
    failures (``qc_failure_rate``, rework) delay orders further.

    Recording lag, per status change: a change scanned live is recorded
    ``scan_lag_minutes`` (a uniform range) after it happened. A ``late_record_rate`` share
    of changes goes on a paper slip instead, which the office keys in at its next round,
    ``keying_hours`` (local hours, Beijing time) on a working day: a slip written at night
    waits for the morning, one written on Friday evening for Monday. A
    ``mislaid_slip_rate`` share of the slips only turns up at the weekly reconciliation
    (ISO weekday ``reconcile_weekday``, at least a day later). Status timeliness and
    status accuracy (R8, R9) both follow from this lag.

    Customers (R9): a ``query_open_rate`` share opens the status link (which shows the
    page); each of those looks again ``follow_up_views`` times (an inclusive range) when
    the stage shown should be over, and while a stage is shown for longer than they
    expect, re-checks every few hours up to ``overdue_rechecks`` times. Each view leads
    to a support call with probability ``query_call_rate``.

    Raises :class:`~orderflow.InputError` for fewer than one order, customer, product or
    component, a rate outside [0, 1], a reversed or
    negative range, no keying hour or one outside [0, 24), a weekday outside 1-7, or
    negative re-checks.
    """

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
    scan_lag_minutes: tuple[float, float] = (0.5, 8.0)
    keying_hours: tuple[float, ...] = (8.5, 13.5, 17.0)
    mislaid_slip_rate: float = 0.5
    reconcile_weekday: int = 1
    cancel_rate: float = 0.01
    rush_order_rate: float = 0.1
    rush_lead_days: tuple[int, int] = (1, 4)
    lead_days: tuple[int, int] = (5, 35)
    query_open_rate: float = 0.85
    follow_up_views: tuple[int, int] = (0, 1)
    overdue_rechecks: int = 8
    query_call_rate: float = 0.08
    holidays: tuple[tuple[dt.date, dt.date], ...] = HOLIDAYS_2026
    risk_causes: bool = False
    """Add the causes of late delivery the risk model learns (R13; :mod:`.causes`)."""

    def __attrs_post_init__(self) -> None:
        for name in ("orders", "customers", "products", "components"):
            if getattr(self, name) < 1:
                raise InputError(
                    f"PlantProfile.{name} must be at least 1, got {getattr(self, name)}"
                )
        if self.orders > MAX_ORDERS:
            raise InputError(
                f"PlantProfile.orders is at most {MAX_ORDERS:,} (a group of large plants' "
                f"year), got {self.orders:,}"
            )
        if not 2000 <= self.year <= 2098:
            raise InputError(f"PlantProfile.year must be 2000..2098, got {self.year}")
        rates = (
            "shortage_rate",
            "qc_failure_rate",
            "other_incident_rate",
            "late_record_rate",
            "mislaid_slip_rate",
            "cancel_rate",
            "rush_order_rate",
            "query_open_rate",
            "query_call_rate",
        )
        for name in rates:
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise InputError(f"PlantProfile.{name} must be in [0, 1], got {value}")
        ranges = ("scan_lag_minutes", "rush_lead_days", "lead_days", "follow_up_views")
        for name in ranges:
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise InputError(f"PlantProfile.{name} must be a range 0 <= low <= high")
        if not self.keying_hours or not all(0 <= h < 24 for h in self.keying_hours):
            raise InputError("PlantProfile.keying_hours needs hours in [0, 24)")
        if not 1 <= self.reconcile_weekday <= 7:
            raise InputError("PlantProfile.reconcile_weekday is an ISO weekday, 1-7")
        if self.overdue_rechecks < 0:
            raise InputError("PlantProfile.overdue_rechecks must not be negative")

    def is_holiday(self, day: dt.date) -> bool:
        """True on a public holiday."""
        return any(a <= day <= b for a, b in self.holidays)

    def is_working_day(self, day: dt.date) -> bool:
        """True on a day the office keys in paper slips (Monday to Friday, not a holiday)."""
        return day.isoweekday() <= 5 and not self.is_holiday(day)


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
