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
from orderflow.domain import OrderLine, Product
from orderflow.exceptions import InputError, InvalidTransition, TransitionRefused
from orderflow.metrics import QueryEvent, QueryKind
from orderflow.service import OrderDraft, OrderService
from orderflow.simulate.causes import RiskCauses
from orderflow.simulate.profile import PlantProfile, daily_arrivals, master_data
from orderflow.simulate.slips import SlipLag
from orderflow.workflow import CapacitySlot, kitting_requirements
from orderflow.workflow.facts import Facts

__all__ = ["SimulationResult", "simulate_year"]

_HOUR = 3_600_000_000
_DAY = 24 * _HOUR
_LOCAL = 8 * _HOUR  # Beijing time (UTC+8, no daylight saving): the plant's office clock
_DONE = frozenset({"delivered", "cancelled"})
# What a customer expects each stage to take (the plant's quoted lead times, hours): when
# the page shows a stage for longer, the customer looks again every few hours.
_EXPECTED_HOURS = {
    "pending_review": 2.0,
    "kitting_locked": 3.0,
    "production_dispatched": 72.0,
    "qc_released": 48.0,
}
_OTHER_CATEGORIES = (
    "drawing_change",
    "logistics",
    "drawing_version_conflict",
    "mould_maintenance",
    "customer_change",
)


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


class _Year:
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
        self.since[order_id] = self.now_us
        self.counts["transitions"] += 1
        return True

    def on_arrive(self, now: int) -> None:
        rng = self.rng
        p = self.p
        codes = list(self.products)
        lines = tuple(
            OrderLine(code, rng.randrange(10, 200), Decimal(rng.randrange(50, 900)))
            for code in rng.sample(codes, rng.choice((1, 1, 2, 3)))
        )
        rush = rng.random() < p.rush_order_rate
        days = rng.randint(*(p.rush_lead_days if rush else p.lead_days))
        # requested dates are local calendar dates (on-time compares them in Beijing time)
        requested = from_micros(now + _LOCAL).date() + dt.timedelta(days=days)
        customer = rng.choice(self.customer_ids)
        if self.causes is None:
            draft = OrderDraft(customer, lines, requested, p.factory_id)
            sub = self.svc.submit(draft, actor="sales")
        else:
            address, ctx = self.causes.terms(customer)
            draft = OrderDraft(customer, lines, requested, p.factory_id, address)
            sub = self.svc.submit(draft, actor="sales", context=ctx)
            self.causes.submitted(self.svc, sub, now)
        oid = sub.order.id
        self.stage[oid] = sub.order.stage
        self.since[oid] = now
        if rush:
            self.expedited.add(oid)
        self.queries.append(QueryEvent(oid, QueryKind.SENT, from_micros(now)))
        if rng.random() < p.query_open_rate:
            opened = now + int(rng.uniform(0.1, 5) * _HOUR)
            self.queries.append(QueryEvent(oid, QueryKind.OPENED, from_micros(opened)))
            # opening the link shows the page; later looks follow what it showed
            self.at(opened, "view", oid, rng.randint(*p.follow_up_views), p.overdue_rechecks)
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
        if not self.fire(occurred, oid, "dispatch_production"):
            # Refused for want of a line slot ending by the requested date: the date has
            # passed already. The planner agrees a new date with the customer (an audited
            # field edit) and dispatches then. Any other refusal is left as it is.
            today = from_micros(self.now_us + _LOCAL).date()
            order = self.svc.get(oid)
            if order.stage == "kitting_locked" and order.requested_date < today:
                self.counts["rescheduled"] += 1
                new_date = today + dt.timedelta(days=self.rng.randint(2, 5))
                self.svc.edit(oid, {"requested_date": new_date}, actor="planner")
                self.later(self.now_us + int(self.rng.uniform(0.5, 2) * _HOUR), "dispatch", oid)
            return
        # a rush order jumps the production queue
        low, high = (12, 48) if oid in self.expedited else (24, 120)
        extra = self.causes.extra(oid, "release") if self.causes is not None else 0
        self.later(occurred + int(self.rng.uniform(low, high) * _HOUR) + extra, "release", oid)
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
        # a rush order goes on the next truck; the rest waits for a consolidated shipment
        low, high = (4, 24) if oid in self.expedited else (24, 96)
        extra = self.causes.extra(oid, "deliver") if self.causes is not None else 0
        self.later(occurred + int(self.rng.uniform(low, high) * _HOUR) + extra, "deliver", oid)

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

    def on_view(self, now: int, oid: str, looks: int, rechecks: int) -> None:
        """A customer looks at the status page.

        ``looks`` planned looks are left in them, and ``rechecks`` re-checks of a stage
        shown for longer than they expected.
        """
        rng = self.rng
        shown = self.stage[oid]
        self.queries.append(QueryEvent(oid, QueryKind.VIEWED, from_micros(now), shown))
        if rng.random() < self.p.query_call_rate:
            self.queries.append(
                QueryEvent(oid, QueryKind.CALLED, from_micros(now + 10 * 60_000_000))
            )
        if shown in _DONE:
            return
        # The customer looks again once the stage shown should be over and, while it is
        # overdue, every few hours. That is what makes a late record visible: the floor
        # moved on at about the time the customer expected, the page still shows the old
        # stage, and the customer keeps looking at it until it moves.
        due = self.since[oid] + int(_EXPECTED_HOURS.get(shown, 24.0) * _HOUR)
        if due > now:
            if looks > 0:
                nxt = due + int(rng.uniform(0, 6) * _HOUR)
                self.at(nxt, "view", oid, looks - 1, self.p.overdue_rechecks)
        elif rechecks > 0:
            self.at(now + int(rng.uniform(2, 8) * _HOUR), "view", oid, looks, rechecks - 1)

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
