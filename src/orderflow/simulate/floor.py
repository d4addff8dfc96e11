"""What happens on a simulated plant's floor: the handlers of :mod:`~orderflow.simulate.engine`'s
event loop (an order arrives, kitting locks or waits for a restock, production, QC,
delivery, a customer looks at the status page).

They are a mixin of the engine's year: one class, one random stream, drawn in the same
order whichever module a handler lives in, so a seed still reproduces its year.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from orderflow.adapters.rows import from_micros
from orderflow.clock import FrozenClock
from orderflow.domain import OrderLine, Product
from orderflow.exceptions import InvalidTransition, TransitionRefused
from orderflow.metrics import QueryEvent, QueryKind
from orderflow.service import OrderDraft, OrderService
from orderflow.simulate.causes import RiskCauses
from orderflow.simulate.profile import PlantProfile
from orderflow.workflow import kitting_requirements
from orderflow.workflow.facts import Facts

__all__ = ["Floor"]

_HOUR = 3_600_000_000
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


class Floor:
    """The floor's handlers; the year (:class:`~orderflow.simulate.engine._Year`) holds
    the state they share and schedules what they ask for."""

    svc: OrderService
    clock: FrozenClock
    p: PlantProfile
    rng: random.Random
    counts: dict[str, int]
    queries: list[QueryEvent]
    products: dict[str, Product]
    customer_ids: list[str]
    now_us: int
    stage: dict[str, str]
    since: dict[str, int]
    expedited: set[str]
    causes: RiskCauses | None

    def at(self, record_us: int, kind: str, *payload: Any) -> None:
        raise NotImplementedError

    def later(self, occurred_us: int, kind: str, *payload: Any) -> None:
        raise NotImplementedError

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
