"""A reproducible plant year written through the real order service (issue 5).

Events are processed in the order they are *recorded*; each carries when it *happened*
on the floor (``occurred_at``), so recording lag feeds the timeliness and accuracy
metrics. Operations of a few simulated hours share one store transaction (each
operation still runs in its own savepoint, so a refusal undoes only itself).
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
from orderflow.domain import OrderLine, Product
from orderflow.exceptions import InputError, InvalidTransition, TransitionRefused
from orderflow.metrics import QueryEvent
from orderflow.service import OrderDraft, OrderService
from orderflow.simulate.profile import PlantProfile, daily_arrivals, master_data
from orderflow.workflow import CapacitySlot, kitting_requirements
from orderflow.workflow.facts import Facts

__all__ = ["SimulationResult", "simulate_year"]

_HOUR = 3_600_000_000
_OTHER_CATEGORIES = (
    "drawing_change",
    "logistics",
    "drawing_version_conflict",
    "mould_maintenance",
    "customer_change",
)


@attrs.frozen
class SimulationResult:
    """What a simulated year did and how long it took (wall-clock seconds)."""

    orders: int
    transitions: int
    refusals: int
    incidents: int
    queries: int
    warnings: int
    seconds: float

    @property
    def orders_per_second(self) -> float:
        """Simulated orders written per second of wall time."""
        return self.orders / self.seconds if self.seconds else 0.0


class _Year:
    def __init__(self, svc: OrderService, clock: FrozenClock, profile: PlantProfile, seed: int):
        self.svc = svc
        self.clock = clock
        self.p = profile
        self.rng = random.Random(seed)
        self.heap: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self.seq = 0
        self.counts = {"transitions": 0, "refusals": 0, "incidents": 0, "queries": 0, "warnings": 0}
        self.queries: list[QueryEvent] = []
        self.products: dict[str, Product] = {}
        self.customer_ids: list[str] = []
        self.now_us = 0
        self.stage: dict[str, str] = {}  # what the store says now, as a status page shows it

    # --- scheduling ---------------------------------------------------------------------
    def at(self, record_us: int, kind: str, *payload: Any) -> None:
        # nothing can be recorded before the present (the clock only moves forward)
        self.seq += 1
        heapq.heappush(self.heap, (max(record_us, self.now_us), self.seq, kind, payload))

    def lag(self) -> int:
        """Recording lag: minutes as a rule, hours when a paper slip is keyed in late."""
        if self.rng.random() < self.p.late_record_rate:
            return int(self.rng.uniform(1, 6) * _HOUR)
        return int(self.rng.uniform(0.5, 8) * 60_000_000)

    def later(self, occurred_us: int, kind: str, *payload: Any) -> None:
        self.at(occurred_us + self.lag(), kind, occurred_us, *payload)

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
            start = dt.date(self.p.year, 1, 1)
            slots = [
                CapacitySlot(
                    "L1",
                    start + dt.timedelta(days=7 * w),
                    start + dt.timedelta(days=7 * w + 6),
                    Decimal(10**9),
                )
                for w in range(60)
            ]
            self.svc.put_capacity(self.p.factory_id, slots)
        for day, count in daily_arrivals(self.p):
            base = to_micros(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
            for _ in range(count):
                # 08:00-18:00 Beijing time = 00:00-10:00 UTC
                self.at(base + int(self.rng.uniform(0, 10) * _HOUR), "arrive")
        first = to_micros(dt.datetime(self.p.year, 1, 1, tzinfo=dt.UTC))
        for hour in range(0, 366 * 24):
            self.at(first + hour * _HOUR, "sweep")

    # --- handlers -----------------------------------------------------------------------
    def fire(self, occurred: int, order_id: str, event: str, **kw: Any) -> bool:
        try:
            order = self.svc.fire(
                order_id, event, actor="plant", occurred_at=from_micros(occurred), **kw
            )
        except (TransitionRefused, InvalidTransition):
            self.counts["refusals"] += 1
            return False
        self.stage[order_id] = order.stage
        self.counts["transitions"] += 1
        return True

    def on_arrive(self, now: int) -> None:
        rng = self.rng
        codes = list(self.products)
        lines = tuple(
            OrderLine(code, rng.randrange(10, 200), Decimal(rng.randrange(50, 900)))
            for code in rng.sample(codes, rng.choice((1, 1, 2, 3)))
        )
        requested = from_micros(now).date() + dt.timedelta(days=rng.randrange(14, 36))
        draft = OrderDraft(rng.choice(self.customer_ids), lines, requested, self.p.factory_id)
        sub = self.svc.submit(draft, actor="sales")
        oid = sub.order.id
        self.stage[oid] = sub.order.stage
        self.queries.append(QueryEvent(oid, "sent", from_micros(now)))
        if rng.random() < self.p.query_open_rate:
            self.queries.append(
                QueryEvent(oid, "opened", from_micros(now + int(rng.uniform(0.1, 5) * _HOUR)))
            )
            for _ in range(rng.choice((1, 1, 2, 3))):
                self.at(now + int(rng.uniform(1, 24 * 20) * _HOUR), "view", oid)
        if rng.random() < self.p.cancel_rate:
            self.later(now + int(rng.uniform(0.2, 1.5) * _HOUR), "cancel", oid)
            return
        review = int(rng.lognormvariate(-0.7, 0.55) * _HOUR)  # mostly well under the 2 h limit
        self.later(now + review, "lock", oid)

    def on_lock(self, occurred: int, oid: str) -> None:
        rng = self.rng
        if rng.random() < self.p.shortage_rate:
            self.drain_one_component(oid)
        if self.fire(occurred, oid, "lock_kitting"):
            self.later(occurred + int(rng.lognormvariate(0.2, 0.5) * _HOUR), "dispatch", oid)
            return
        incident = self.svc.open_incident(
            oid,
            "stock_shortage",
            actor="planner",
            device="erp-terminal",
            batch=f"W{occurred // (168 * _HOUR)}",
        )
        self.counts["incidents"] += 1
        restock = occurred + int(rng.uniform(1, 4) * _HOUR)
        self.at(restock, "restock", oid, incident.id)

    def drain_one_component(self, oid: str) -> None:
        order = self.svc.get(oid)
        facts = Facts(today=dt.date(self.p.year, 1, 1), products=self.products)
        needs = kitting_requirements(order, facts, self.svc.policy)
        component = sorted(needs)[0]
        stock = self.svc.stock(component)
        drop = stock.available - needs[component][1] + 1
        if drop > 0:
            self.svc.record_scan(
                component,
                drop,
                direction="out",
                actor="warehouse",
                factory_id=self.p.factory_id,
                device="pda-3",
                batch="damage",
            )

    def on_restock(self, now: int, oid: str, incident_id: str) -> None:
        order = self.svc.get(oid)
        facts = Facts(today=dt.date(self.p.year, 1, 1), products=self.products)
        for component, (_, required) in kitting_requirements(order, facts, self.svc.policy).items():
            if self.svc.stock(component).available < required:
                self.svc.record_scan(
                    component,
                    10_000_000,
                    direction="in",
                    actor="warehouse",
                    factory_id=self.p.factory_id,
                    device="pda-1",
                    batch="GRN",
                )
        self.svc.resolve_incident(incident_id, "supplier delivery late", actor="buyer")
        self.later(now, "lock", oid)

    def on_dispatch(self, occurred: int, oid: str) -> None:
        if self.fire(occurred, oid, "dispatch_production"):
            self.later(occurred + int(self.rng.uniform(24, 120) * _HOUR), "release", oid)
            if self.rng.random() < self.p.other_incident_rate:
                category = self.rng.choice(_OTHER_CATEGORIES)
                incident = self.svc.open_incident(
                    oid,
                    category,
                    actor="line-lead",
                    device="mes-2",
                    batch=f"L1-{occurred // _HOUR}",
                )
                self.counts["incidents"] += 1
                self.at(
                    occurred + int(self.rng.lognormvariate(0.7, 0.8) * _HOUR),
                    "resolve",
                    incident.id,
                    "process adjusted",
                )

    def on_release(self, occurred: int, oid: str) -> None:
        if not self.fire(occurred, oid, "release_qc"):
            return
        if self.rng.random() < self.p.qc_failure_rate:
            batch = f"{from_micros(occurred):%Y%m%d}-B{self.rng.randrange(1, 20):02d}"
            self.later(occurred + int(self.rng.uniform(1, 6) * _HOUR), "qc_fail", oid, batch)
            return
        self.later(occurred + int(self.rng.uniform(24, 96) * _HOUR), "deliver", oid)

    def on_qc_fail(self, occurred: int, oid: str, batch: str) -> None:
        if self.fire(
            occurred, oid, "fail_qc", reason="burr on valve seat", context={"batch": batch}
        ):
            incident = self.svc.open_incident(
                oid, "qc_failure", actor="qc", device="cmm-1", batch=batch
            )
            self.counts["incidents"] += 1
            self.at(
                occurred + int(self.rng.uniform(2, 12) * _HOUR),
                "resolve",
                incident.id,
                "fixture worn",
            )
            self.later(occurred + int(self.rng.uniform(24, 48) * _HOUR), "release", oid)

    def on_view(self, now: int, oid: str) -> None:
        shown = self.stage[oid]
        self.queries.append(QueryEvent(oid, "viewed", from_micros(now), shown))
        if self.rng.random() < self.p.query_call_rate:
            self.queries.append(QueryEvent(oid, "called", from_micros(now + 10 * 60_000_000)))

    def dispatch(self, now: int, kind: str, payload: tuple[Any, ...]) -> None:
        handlers: dict[str, Callable[..., None]] = {
            "arrive": self.on_arrive,
            "lock": self.on_lock,
            "restock": self.on_restock,
            "dispatch": self.on_dispatch,
            "release": self.on_release,
            "qc_fail": self.on_qc_fail,
            "view": self.on_view,
        }
        if kind in handlers:
            handlers[kind](*payload) if kind != "arrive" and kind not in (
                "view",
                "restock",
            ) else handlers[kind](now, *payload)
        elif kind == "deliver":
            self.fire(payload[0], payload[1], "deliver")
        elif kind == "cancel":
            self.fire(payload[0], payload[1], "cancel", reason="customer withdrew the order")
        elif kind == "resolve":
            self.svc.resolve_incident(payload[0], payload[1], actor="supervisor")
        elif kind == "sweep":
            self.counts["warnings"] += len(self.svc.sweep_warnings())

    def run(self, progress: bool, window_hours: int) -> None:
        bar = tqdm(total=self.p.orders, unit="order", disable=not progress, mininterval=0.5)
        end_of_year = to_micros(dt.datetime(self.p.year + 1, 3, 1, tzinfo=dt.UTC))
        while self.heap and self.heap[0][0] < end_of_year:
            window_end = self.heap[0][0] + window_hours * _HOUR
            with self.svc.store.transaction():
                while self.heap and self.heap[0][0] < window_end:
                    now, _, kind, payload = heapq.heappop(self.heap)
                    self.now_us = now
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
    )
