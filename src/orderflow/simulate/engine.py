"""A reproducible plant year written through the real order service (issue 5).

Events are processed in the order they are *recorded*; each carries when it *happened*
on the floor (``occurred_at``), so recording lag feeds the timeliness and accuracy
metrics. Operations of a few simulated hours share one store transaction (each
operation still runs in its own savepoint, so a refusal undoes only itself).

Customers look at the status page when they expect progress, not at random: a view shows
what the store holds at that moment, and it is off reality exactly when a change that
already happened has not been recorded yet. Since live scans are recorded within minutes,
nearly all of the status-accuracy gap (R9) comes from the few changes that went on a paper
slip and waited for the office's next keying round (overnight, over a weekend) or, mislaid,
for the weekly reconciliation; the same slips are what status timeliness (R8) counts late.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
from tqdm import tqdm

from orderflow._batch import batch_gc
from orderflow.adapters.rows import from_micros, to_micros
from orderflow.clock import FrozenClock
from orderflow.domain import Product
from orderflow.exceptions import InputError
from orderflow.metrics import QueryEvent
from orderflow.service import OrderService
from orderflow.simulate.causes import RiskCauses
from orderflow.simulate.floor import _HOUR, _LOCAL, Floor
from orderflow.simulate.profile import PlantProfile, daily_arrivals, master_data
from orderflow.simulate.slips import SlipLag
from orderflow.workflow import CapacitySlot

__all__ = ["SimulationResult", "simulate_year"]

_DAY = 24 * _HOUR


@attrs.frozen
class SimulationResult:
    """What a simulated year did and how long it took (wall-clock seconds).

    ``warnings`` counts overdue warnings and escalations as audited (once per stage
    visit); ``rescheduled`` counts dispatches refused because the requested date had already
    passed, after which the planner agreed a new date with the customer.
    """

    orders: int
    transitions: int
    refusals: int
    incidents: int
    queries: int
    warnings: int
    seconds: float
    rescheduled: int = 0

    @property
    def orders_per_second(self) -> float:
        """Simulated orders written per second of wall time."""
        return self.orders / self.seconds if self.seconds else 0.0


class _Year(Floor):
    def __init__(self, svc: OrderService, clock: FrozenClock, profile: PlantProfile, seed: int):
        self.svc = svc
        self.clock = clock
        self.p = profile
        self.rng = random.Random(seed)
        self.heap: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self.seq = 0
        self.counts = {
            "transitions": 0,
            "refusals": 0,
            "incidents": 0,
            "queries": 0,
            "warnings": 0,
            "rescheduled": 0,
        }
        self.queries: list[QueryEvent] = []
        self.products: dict[str, Product] = {}
        self.customer_ids: list[str] = []
        self.now_us = 0
        self.stage: dict[str, str] = {}  # what the store says now, as a status page shows it
        self.since: dict[str, int] = {}  # when the store entered that stage (the page shows it)
        self.expedited: set[str] = set()  # rush orders: the plant pushes them through
        self.warned: set[tuple[str, dt.datetime, bool]] = set()
        self.slips = SlipLag(profile, self.rng)
        self.causes = RiskCauses(seed) if profile.risk_causes else None
        self.handlers: dict[str, Callable[..., None]] = {
            "arrive": self.on_arrive,
            "lock": self.on_lock,
            "restock": self.on_restock,
            "dispatch": self.on_dispatch,
            "release": self.on_release,
            "qc_fail": self.on_qc_fail,
            "view": self.on_view,
        }

    # --- scheduling ---------------------------------------------------------------------
    def at(self, record_us: int, kind: str, *payload: Any) -> None:
        # nothing can be recorded before the present (the clock only moves forward)
        self.seq += 1
        heapq.heappush(self.heap, (max(record_us, self.now_us), self.seq, kind, payload))

    def later(self, occurred_us: int, kind: str, *payload: Any) -> None:
        self.at(occurred_us + self.slips.lag(occurred_us), kind, occurred_us, *payload)

    # --- set-up -------------------------------------------------------------------------
    def setup(self) -> None:
        customers, components, products = master_data(self.p, self.rng)
        self.customer_ids = [c.id for c in customers]
        self.products = {p.code: p for p in products}
        with self.svc.store.transaction():
            for c in customers:
                self.svc.put_customer(c)
            for comp in components:
                self.svc.put_component(comp)
                self.svc.set_stock(comp.code, 10_000_000)
            for prod in products:
                self.svc.put_product(prod)
            self.plan(dt.date(self.p.year, 1, 1))
            if self.causes is not None:
                self.causes.setup(self.svc, self.customer_ids, self.p.factory_id)
        for day, count in daily_arrivals(self.p):
            base = to_micros(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
            for _ in range(count):
                # 08:00-18:00 Beijing time = 00:00-10:00 UTC
                self.at(base + int(self.rng.uniform(0, 10) * _HOUR), "arrive")
        first = to_micros(dt.datetime(self.p.year, 1, 1, tzinfo=dt.UTC))
        for hour in range(0, 366 * 24):
            self.at(first + hour * _HOUR, "sweep")
        jan1 = dt.date(self.p.year, 1, 1)
        for n in range(7, (dt.date(self.p.year + 1, 3, 1) - jan1).days + 1, 7):
            # weekly, at local midnight, through the end of the run
            self.at(first + n * _DAY - _LOCAL, "plan", jan1 + dt.timedelta(days=n))

    def plan(self, today: dt.date) -> None:
        """Publish the line's daily slots from yesterday for three weeks (a rolling plan).

        Daily slots, so that a rush order wanted in a few days finds one ending before its
        date; rolling, so that the schedule stays a few dozen slots however long the run.
        """
        slots = [
            CapacitySlot("L1", day, day, Decimal(10**9))
            for day in (today + dt.timedelta(days=d) for d in range(-1, 21))
        ]
        self.svc.put_capacity(self.p.factory_id, slots)

    def dispatch(self, now: int, kind: str, payload: tuple[Any, ...]) -> None:
        handler = self.handlers.get(kind)
        if handler is not None:
            # floor events carry when they happened; the others happen when processed
            if kind in ("arrive", "view", "restock"):
                handler(now, *payload)
            else:
                handler(*payload)
        elif kind == "deliver":
            self.fire(payload[0], payload[1], "deliver")
        elif kind == "cancel":
            self.fire(payload[0], payload[1], "cancel", reason="customer withdrew the order")
        elif kind == "resolve":
            self.svc.resolve_incident(payload[0], payload[1], actor="supervisor")
        elif kind == "sweep":
            # a sweep lists every overdue order; count each warning or escalation once
            # per stage visit, as the service audits it
            for w in self.svc.sweep_warnings():
                key = (w.order_id, w.deadline, w.escalated)
                if key not in self.warned:
                    self.warned.add(key)
                    self.counts["warnings"] += 1
        elif kind == "plan":
            self.plan(payload[0])

    def run(self, progress: bool, window_hours: int) -> None:
        bar = tqdm(total=self.p.orders, unit="order", disable=not progress, mininterval=0.5)
        end_of_year = to_micros(dt.datetime(self.p.year + 1, 3, 1, tzinfo=dt.UTC))
        while self.heap and self.heap[0][0] < end_of_year:
            window_end = self.heap[0][0] + window_hours * _HOUR
            with self.svc.store.transaction():
                while self.heap and self.heap[0][0] < window_end:
                    now, _, kind, payload = heapq.heappop(self.heap)
                    self.now_us = now
                    if kind != "view":  # a customer's look never reaches the service
                        self.clock.set(from_micros(now))
                    self.dispatch(now, kind, payload)
                    if kind == "arrive":
                        bar.update()
            if len(self.queries) > 20_000:
                self.flush_queries()
        self.flush_queries()
        bar.close()

    def flush_queries(self) -> None:
        self.counts["queries"] += self.svc.record_queries(self.queries)
        self.queries = []


def simulate_year(
    service: OrderService,
    profile: PlantProfile | None = None,
    *,
    seed: int = 2026,
    progress: bool = False,
    window_hours: int = 6,
) -> SimulationResult:
    """Simulate a plant's year of orders through ``service`` (which needs a FrozenClock).

    The same ``seed`` and profile give the same sequence of operations and outcomes.
    Orders that are still in flight at the end of February of the next year stay so.
    """
    clock = service.clock
    if not isinstance(clock, FrozenClock):
        raise InputError("simulate_year needs a service built with a FrozenClock")
    profile = profile or PlantProfile()
    year = _Year(service, clock, profile, seed)
    started = time.perf_counter()
    with batch_gc():
        year.setup()
        year.run(progress, window_hours)
    c = year.counts
    return SimulationResult(
        profile.orders,
        c["transitions"],
        c["refusals"],
        c["incidents"],
        c["queries"],
        c["warnings"],
        time.perf_counter() - started,
        c["rescheduled"],
    )
