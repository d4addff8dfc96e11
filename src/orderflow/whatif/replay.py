"""Replay a recorded log through the real service under another policy.

What the world did is replayed as recorded, at its recorded time: orders arrive as
submitted, warehouse scans (goods in, goods out) happen, incidents open and close, and
each order's floor steps (dispatch, QC release and failure, delivery, cancellation, date
changes) follow one another with their recorded gaps. What the policy decides is decided
again by the service: whether kitting may lock (the safety factors, the new-product
ladder fed by the replayed deliveries), and which orders run overdue and escalate (the
stage time limits, swept every hour as the plant's scheduler does).

Kitting is attempted when the plant attempted it: at each stock-shortage exception the
planner opened on an order still waiting for kitting (a refused attempt, on the record)
and at the recorded lock. An attempt refused under the replayed policy waits for the
next goods-in scan of a component the order needs and is tried again then. Once an
order locks earlier or later than recorded, its later steps move by the same amount. A
dispatch that then finds its requested date passed is rescheduled as the plant did it:
a new date three days on. A recorded goods-out (damage, scrap) that would take stock
this policy has reserved for kitted orders takes only the stock left free (the service
refuses to take reserved stock); the replay counts these cut scans.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs

from orderflow.adapters.memory import MemoryStore
from orderflow.audit import EntryType
from orderflow.clock import FrozenClock, from_micros
from orderflow.domain import OrderLine
from orderflow.exceptions import InputError, InvalidTransition, OrderflowError, TransitionRefused
from orderflow.policy import Policy, PolicyStore
from orderflow.service import OrderDraft, OrderService
from orderflow.whatif.recording import Recorded, Survey, released
from orderflow.workflow import CapacitySlot

__all__ = ["LOOKAHEAD_US", "ReplayResult", "replay"]

_HOUR = 3_600_000_000
LOOKAHEAD_US = 14 * 24 * _HOUR
"""How far ahead of the replay's clock the recorded log is read: an order that locks
earlier than recorded moves its later steps earlier by up to this much."""
_LOCK = "lock_kitting"
_DISPATCH = "dispatch_production"
_STOCK = "stock/"
_KEPT_CONTEXT = ("batch", "device")
_NEVER = 2**62


@functools.lru_cache(maxsize=4096)
def _number(text: str) -> Decimal:
    """A line's quantity or price: one shared ``Decimal`` per text (a year's ~300,000
    lines repeat a few hundred values; each ``Decimal`` is ~100 bytes held all year)."""
    return Decimal(text)


@attrs.frozen
class ReplayResult:
    """A replay's service (its in-memory store holds the replayed log) and what only the
    replay itself can count: refused kitting attempts and waits for stock (hours, per
    order that locked after a refusal) within the period, dates rescheduled, recorded
    steps that no longer applied, orders still waiting for stock at the end, and
    goods-out scans cut to the stock this policy left free (``cut_scans``)."""

    service: OrderService
    refusals: int
    waits_hours: tuple[Decimal, ...]
    rescheduled: int
    skipped: int
    still_waiting: int
    orders: int
    cut_scans: int = 0


class _Replay:
    def __init__(self, source: OrderService, survey: Survey, policy: Policy) -> None:
        self.clock = FrozenClock(from_micros(survey.first_us - _HOUR))
        self.now = survey.first_us - _HOUR  # the clock's time in micros: only run() moves it
        # A replay's log is thrown away: anchoring it with checkpoints (every simulated
        # hour by default) would only cost time, and no decision depends on them.
        quiet = attrs.evolve(
            policy, checkpoint_every_entries=_NEVER, checkpoint_every_seconds=_NEVER
        )
        # nobody relays a replay's events: no outbox rows
        self.svc = OrderService(MemoryStore(source.store.origin), clock=self.clock,
                                policies=PolicyStore(quiet), events=False)  # fmt: skip
        self.heap: list[tuple[int, int, str, Any]] = []
        self.seq = 0
        self.pending: dict[str, deque[Recorded]] = {}
        self.busy: set[str] = set()  # a step is scheduled, or the lock waits for stock
        self.shift: dict[str, int] = {}
        self.locked: dict[str, int] = {}  # order -> when it locked (occurred, micros)
        self.waiting: dict[str, Recorded] = {}  # order -> its lock step, refused
        self.first_refused: dict[str, int] = {}
        self.incidents: dict[str, str] = {}
        self.refusals = self.rescheduled = self.skipped = self.orders = 0
        self.cut_scans = 0
        self.waits: list[Decimal] = []
        self.period = (0, 0)
        self._setup(survey)

    def _setup(self, survey: Survey) -> None:
        svc = self.svc
        for customer in survey.customers:
            svc.put_customer(customer)
        for component in survey.components:
            svc.put_component(component)
            svc.set_stock(component.code, survey.opening_stock[component.code])
        for product in survey.products:
            svc.put_product(product)
        self.factories = survey.factories
        self.bom = {p.code: frozenset(b.component for b in p.bom) for p in survey.products}
        self.plan()

    def plan(self) -> None:
        """Publish a free slot per day from yesterday for five weeks, in every factory.

        Capacity is the world's: every recorded dispatch found a slot, so every day has
        one and a dispatch is refused only once its requested date has passed. Rolling
        (re-published weekly), so the schedule stays a few dozen slots however long the
        replay."""
        today = self.svc.local_date(self.clock.now())
        slots = [
            CapacitySlot("replay", d, d, Decimal(10**12))
            for d in (today + dt.timedelta(days=n) for n in range(-1, 35))
        ]
        for factory in self.factories:
            self.svc.put_capacity(factory, slots)

    # --- scheduling ---------------------------------------------------------------------
    def push(self, at_us: int, kind: str, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at_us, self.seq, kind, payload))

    def in_period(self, at_us: int) -> bool:
        return self.period[0] <= at_us < self.period[1]

    def now_us(self) -> int:
        return self.now

    def ingest(self, entry: Recorded) -> None:
        """Turn one recorded entry into what the replay will do about it."""
        ctx = entry.ctx
        chain = entry.order_id
        if entry.type is EntryType.CREATED:
            self.push(entry.at, "submit", entry)
        elif chain.startswith(_STOCK):
            self.push(entry.at, "scan", entry)
        elif entry.type is EntryType.EXCEPTION:
            action = ctx.get("action")
            if action == "opened":
                if ctx.get("category") == "stock_shortage" and chain not in self.locked:
                    self.push(entry.at, "attempt", chain)  # the plant's refused attempt
                self.push(entry.at, "open", entry)
            elif action == "resolved":
                self.push(entry.at, "resolve", entry)
            # recorded timeout warnings are not replayed: the sweeps decide them again
        elif entry.type in (EntryType.STATE_CHANGE, EntryType.FIELD_UPDATE):
            self.pending.setdefault(chain, deque()).append(entry)
            if chain not in self.busy:
                self.next_step(chain)
        # policy changes are not replayed: each scenario runs its one policy throughout

    def next_step(self, order_id: str) -> None:
        queue = self.pending.get(order_id)
        if not queue:
            self.busy.discard(order_id)
            self.pending.pop(order_id, None)
            return
        entry = queue.popleft()
        self.busy.add(order_id)
        self.push(max(entry.at + self.shift.get(order_id, 0), self.now_us()), "step", entry)

    # --- what each action does ----------------------------------------------------------
    def lock(self, order_id: str, occurred_us: int) -> bool:
        try:
            self.svc.fire(order_id, _LOCK, actor="plant", occurred_at=from_micros(occurred_us))
        except (TransitionRefused, InvalidTransition):
            if self.in_period(self.now_us()):
                self.refusals += 1
            self.first_refused.setdefault(order_id, occurred_us)
            return False
        self.locked[order_id] = occurred_us
        refused = self.first_refused.pop(order_id, None)
        if refused is not None and self.in_period(occurred_us):
            self.waits.append(Decimal(occurred_us - refused) / Decimal(_HOUR))
        return True

    def on_submit(self, entry: Recorded) -> None:
        new = entry.order
        if new is None:
            raise InputError(f"the created entry of {entry.order_id} has no order")
        draft = OrderDraft(
            customer_id=new.customer_id,
            lines=tuple(OrderLine(p, _number(q), _number(u)) for p, q, u in new.lines),
            requested_date=dt.date.fromisoformat(new.requested_date),
            factory_id=new.factory_id,
            delivery_address=new.delivery_address,
            number=new.number,
            order_id=entry.order_id,
        )
        self.svc.submit(draft, actor=entry.actor)
        self.orders += 1

    def on_scan(self, entry: Recorded) -> None:
        on_hand = next((c for c in entry.changes if c.field == "on_hand"), None)
        if on_hand is None:
            raise InputError(f"the scan on {entry.order_id} at {entry.at} changes no on-hand")
        old, new = Decimal(str(on_hand.old)), Decimal(str(on_hand.new))
        ctx = entry.ctx
        qty = new - old
        component = entry.order_id[len(_STOCK) :]
        if qty < 0:
            # a goods-out (damage, scrap) takes stock the record had free; where this
            # policy has kitted part of it for orders, the service refuses to take
            # reserved stock, so the replay takes only what is free
            free = self.svc.stock(component).available
            if -qty > free:
                self.cut_scans += 1
                qty = -max(free, Decimal(0))
        if qty:
            self.svc.record_scan(
                component, abs(qty), direction="in" if qty > 0 else "out",
                actor=entry.actor, device=ctx.get("device", ""), batch=ctx.get("batch", ""),
            )  # fmt: skip
        if qty > 0:  # goods in: the orders waiting for this component try again
            for order_id, step in list(self.waiting.items()):
                if component in self.needs(order_id) and self.lock(order_id, self.now_us()):
                    del self.waiting[order_id]
                    self.shift[order_id] = self.now_us() - step.occurred
                    self.next_step(order_id)

    def needs(self, order_id: str) -> frozenset[str]:
        """The components of an order's BOMs."""
        lines = self.svc.get(order_id).lines
        return frozenset().union(*(self.bom.get(line.product, frozenset()) for line in lines))

    def on_step(self, entry: Recorded) -> None:
        order_id = entry.order_id
        shift = self.shift.get(order_id, 0)
        occurred = entry.occurred + shift
        ctx = entry.ctx
        if entry.type is EntryType.FIELD_UPDATE:
            self.edit(entry)
        elif ctx.get("event") == _LOCK:
            early = self.locked.get(order_id)
            if early is not None:  # locked at an earlier attempt than the record's
                self.shift[order_id] = early - entry.occurred
            elif not self.lock(order_id, occurred):
                self.waiting[order_id] = entry
                return  # the order's later steps wait for its kitting
        else:
            self.fire(entry, occurred)
        self.next_step(order_id)

    def fire(self, entry: Recorded, occurred: int) -> None:
        ctx = entry.ctx
        event = ctx.get("event") or ""
        kept = {k: ctx[k] for k in _KEPT_CONTEXT if k in ctx}
        when = from_micros(min(occurred, self.now_us()))
        try:
            self.svc.fire(entry.order_id, event, actor=entry.actor, reason=ctx.get("reason"),
                          occurred_at=when, context=kept or None)  # fmt: skip
            return
        except (TransitionRefused, InvalidTransition):
            order = self.svc.get(entry.order_id)
            today = self.svc.local_date(self.clock.now())
            if (
                event != _DISPATCH
                or order.stage != "kitting_locked"
                or order.requested_date >= today
            ):
                self.skipped += 1
                return
        # the date passed while the order waited: the planner agrees a new one, as recorded
        self.svc.edit(entry.order_id, {"requested_date": today + dt.timedelta(days=3)},
                      actor="planner")  # fmt: skip
        self.rescheduled += 1
        self.fire(entry, occurred)

    def edit(self, entry: Recorded) -> None:
        changes: dict[str, Any] = {}
        for change in entry.changes:
            if change.field == "requested_date" and isinstance(change.new, str):
                changes["requested_date"] = dt.date.fromisoformat(change.new)
            elif change.field == "delivery_address" and isinstance(change.new, str):
                changes["delivery_address"] = change.new
        try:
            if changes:
                self.svc.edit(entry.order_id, changes, actor=entry.actor)
        except OrderflowError:
            self.skipped += 1

    def on_open(self, entry: Recorded) -> None:
        ctx = entry.ctx
        incident = self.svc.open_incident(
            entry.order_id, ctx.get("category", "logistics"), actor=entry.actor,
            device=ctx.get("device", ""), batch=ctx.get("batch", ""), note=ctx.get("note", ""),
        )  # fmt: skip
        self.incidents[ctx.get("incident", "")] = incident.id

    def on_resolve(self, entry: Recorded) -> None:
        ctx = entry.ctx
        replayed = self.incidents.pop(ctx.get("incident", ""), None)
        if replayed is not None:
            self.svc.resolve_incident(replayed, ctx.get("root_cause", ""), actor=entry.actor)

    def run(self, entries: Iterator[Recorded], start_us: int, end_us: int, stop_us: int) -> None:
        self.period = (start_us, end_us)
        upcoming = next(entries, None)
        sweep = (self.now_us() // _HOUR + 1) * _HOUR
        self.push(sweep, "sweep", None)
        handlers = {
            "submit": self.on_submit, "scan": self.on_scan, "step": self.on_step,
            "open": self.on_open, "resolve": self.on_resolve,
        }  # fmt: skip
        while self.heap:
            horizon = self.heap[0][0] + LOOKAHEAD_US
            while upcoming is not None and upcoming.at <= min(horizon, stop_us):
                self.ingest(upcoming)
                upcoming = next(entries, None)
            at, _, kind, payload = heapq.heappop(self.heap)
            if at >= stop_us:
                break
            if at > self.now:
                self.clock.set(from_micros(at))
                self.now = at
            if kind == "sweep":
                self.svc.sweep_warnings()
                self.push(at + _HOUR, "sweep", None)
                if (at // _HOUR) % (7 * 24) == 0:
                    self.plan()
            elif kind == "attempt":
                if payload not in self.locked and self.svc.get(payload).stage == "pending_review":
                    self.lock(payload, at)
            else:
                handlers[kind](payload)


def replay(
    source: OrderService,
    survey: Survey,
    policy: Policy,
    *,
    start_us: int,
    end_us: int,
    last: bool = False,
) -> ReplayResult:
    """Replay ``source``'s log from its first entry under ``policy``; refusals and waits
    are counted for ``[start_us, end_us)``.

    The log is read from ``survey`` (:func:`~orderflow.whatif.survey` of ``source``,
    which decoded it once), not from the store again: several replays share one survey.
    The ``last`` replay of a survey releases the log as it reads it (a year's log is a
    few hundred MB); the survey cannot be replayed again after it.

    The replay goes on for :data:`LOOKAHEAD_US` past ``end_us``: a change that happened
    in the period but was keyed in after it (a paper slip) belongs to the period, as it
    does in the record.
    """
    if survey.spent:
        raise InputError(
            "this survey's log was released by an earlier replay (last=True); "
            "survey the store again to replay it"
        )
    log = released(survey) if last else (r for chunk in survey.log for r in chunk)
    run = _Replay(source, survey, policy)
    run.run(log, start_us, end_us, end_us + LOOKAHEAD_US)
    return ReplayResult(
        run.svc, run.refusals, tuple(run.waits), run.rescheduled, run.skipped,
        len(run.waiting), run.orders, run.cut_scans,
    )  # fmt: skip
