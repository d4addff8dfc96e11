"""The order service: load, gather facts, fire, write effects + audit, in ONE transaction.

Every operation is atomic (the order row, its audit entry, its stock effects and its
idempotency record commit together or not at all) and may carry an idempotency key: a
retried call returns the original result and writes nothing new (R5, R6).
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from orderflow.adapters.rows import from_micros, order_from_row, order_to_row, to_micros
from orderflow.audit import AuditEntry, EntryType, encode, leaf_hash, next_entry
from orderflow.clock import Clock, SystemClock
from orderflow.domain import (
    Component,
    Customer,
    InboundPO,
    Order,
    OrderLine,
    OrderNumber,
    Product,
    StockPosition,
    new_order,
)
from orderflow.domain.incident import Incident, open_incident, resolve_incident
from orderflow.exceptions import (
    ConcurrencyConflict,
    IdempotencyConflict,
    InputError,
    NotFound,
    StoreError,
)
from orderflow.geo.access import DEFAULT_POLICY, AccessPolicy, Actor
from orderflow.geo.geocoder import Geocoder
from orderflow.geo.router import Router
from orderflow.metrics import QueryEvent
from orderflow.policy import Policy, PolicyStore, parse_policy, policy_document
from orderflow.ports import Store, StoreTx
from orderflow.serialization import from_json, to_json
from orderflow.service import incidents, inventory, records
from orderflow.service.audit_codec import EDITABLE, created_changes, field_value, fingerprint
from orderflow.service.facts import StoreFacts
from orderflow.service.queries import AuditReader, customer_status, slip_status
from orderflow.service.records import PurchasingAlert, StockLevel
from orderflow.service.views import CustomerStatus, SlipStatus
from orderflow.workflow import (
    CapacitySlot,
    Explanation,
    Facts,
    GuardResult,
    Workflow,
    bom_kitting,
    capacity_slot,
    credit_limit,
    kitting_requirements,
)
from orderflow.workflow.machine import stage_deadline
from orderflow.workflow.timeouts import DueWarning, due_warnings

__all__ = ["OrderDraft", "OrderService", "ScanResult", "Submission"]

T = TypeVar("T")
ActorLike = str | Actor


def _line_tuple(lines: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    return tuple(lines)


@attrs.frozen
class OrderDraft:
    """What a new order needs; the service assigns id, number (unless given) and token."""

    customer_id: str
    lines: tuple[OrderLine, ...] = attrs.field(converter=_line_tuple)
    requested_date: dt.date
    factory_id: str
    delivery_address: str = ""
    number: str | None = None
    erp_id: str = ""
    erp_number: str = ""
    order_id: str | None = None
    """A caller-chosen order id (e.g. derived from the ERP key); ``None``: a fresh one."""


@attrs.frozen
class Submission:
    """A submitted order with the R2 three-fold check results.

    ``query_token`` (the customer's secret link code) is only returned by the call that
    created the order; a retried call with the same idempotency key gets ``None``.
    """

    order: Order
    query_token: str | None
    checks: tuple[GuardResult, ...]

    @property
    def passed(self) -> bool:
        """True when credit, kitting and capacity checks all passed."""
        return all(c.ok for c in self.checks)


@attrs.frozen
class ScanResult:
    """The stock after a warehouse scan and the purchasing alert it raised, if any (R6)."""

    position: StockPosition
    alert: PurchasingAlert | None


def _effect_reserve(
    svc: OrderService,
    tx: StoreTx,
    before: Order,
    after: Order,
    facts: Facts,
    policy: Policy,
    at_us: int,
    actor: str,
) -> None:
    needs = {c: base for c, (base, _) in kitting_requirements(before, facts, policy).items()}
    inventory.reserve(tx, after, needs, at_us=at_us, actor=actor)
    svc._add_exposure(tx, after.customer_id, after.amount)


def _effect_dispatch(
    svc: OrderService,
    tx: StoreTx,
    before: Order,
    after: Order,
    facts: Facts,
    policy: Policy,
    at_us: int,
    actor: str,
) -> None:
    inventory.issue(tx, after)
    if facts.capacity is not None:
        slot = facts.capacity.first_fit(after.total_qty, facts.today, after.requested_date)
        if slot is not None:
            records.write_slot(tx, after.factory_id, slot, slot.free_units - after.total_qty)


def _effect_cancel(
    svc: OrderService,
    tx: StoreTx,
    before: Order,
    after: Order,
    facts: Facts,
    policy: Policy,
    at_us: int,
    actor: str,
) -> None:
    if inventory.release(tx, after):
        svc._add_exposure(tx, after.customer_id, -after.amount)


def _effect_deliver(
    svc: OrderService,
    tx: StoreTx,
    before: Order,
    after: Order,
    facts: Facts,
    policy: Policy,
    at_us: int,
    actor: str,
) -> None:
    svc._add_exposure(tx, after.customer_id, -after.amount)
    done = svc.local_date(after.stage_entered_at)
    on_time = done <= after.requested_date
    for code in {line.product for line in after.lines}:
        streak = int(tx.get_doc(records.STREAK, code, for_update=True) or 0)
        tx.put_doc(records.STREAK, code, str(streak + 1 if on_time else 0))


Effect = Callable[["OrderService", StoreTx, Order, Order, Facts, Policy, int, str], None]

DEFAULT_EFFECTS: Mapping[str, Effect] = {
    "lock_kitting": _effect_reserve,
    "dispatch_production": _effect_dispatch,
    "cancel": _effect_cancel,
    "deliver": _effect_deliver,
}
"""What each event of the default workflow does besides moving the stage."""

_R2_CHECKS = (credit_limit, bom_kitting, capacity_slot)


class OrderService:
    """The order service over a :class:`~orderflow.ports.Store`.

    ``actor`` arguments are a user id, or an :class:`~orderflow.geo.Actor` whose factory
    scopes are checked with ``access`` (R10). ``number_prefix`` starts every order number
    the service assigns (``HY20260122-887``).
    """

    def __init__(
        self,
        store: Store,
        *,
        workflow: Workflow | None = None,
        clock: Clock | None = None,
        policies: PolicyStore | None = None,
        access: AccessPolicy = DEFAULT_POLICY,
        number_prefix: str = "HY",
        effects: Mapping[str, Effect] = DEFAULT_EFFECTS,
        router: Router | None = None,
        geocoder: Geocoder | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.policies = policies or (workflow.policies if workflow else PolicyStore())
        self.workflow = workflow or Workflow(policy=self.policies)
        self.access = access
        self.number_prefix = number_prefix
        self.effects = dict(effects)
        self.router = router
        self.geocoder = geocoder
        self._facts = StoreFacts()
        self._needs = {
            (s, t.event): self._facts.needs(t.guards)
            for t in self.workflow.definition.transitions
            for s in t.source
        }
        self.audit = AuditReader(store)
        self._load_policy()

    # --- helpers ------------------------------------------------------------------------
    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self.policies.current

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The calendar date of ``instant`` in the factory time zone of the policy."""
        zone = zoneinfo.ZoneInfo(self.policy.timezone)  # cached by zoneinfo
        return dt.datetime.fromtimestamp(to_micros(instant) / 1e6, zone).date()

    def _now(self) -> dt.datetime:
        # the clock's instant as a plain stdlib UTC datetime: arithmetic on pendulum
        # instances costs ~10x more, and this runs several times per operation
        return from_micros(to_micros(self.clock.now()))

    def _who(self, actor: ActorLike, factory_id: str, action: str) -> str:
        if isinstance(actor, Actor):
            self.access.check(actor, factory_id, action)
            return actor.id
        if not isinstance(actor, str) or not actor.strip():
            raise InputError("actor must be a user id or an Actor")
        return actor

    def _audit(
        self,
        tx: StoreTx,
        chain: str,
        kind: EntryType,
        *,
        actor: str,
        at_us: int,
        from_state: str | None = None,
        to_state: str | None = None,
        changes: Mapping[str, tuple[Any, Any]] | None = None,
        context: Mapping[str, str] | None = None,
        key: str | None = None,
        expect_seq: int | None = None,
    ) -> AuditEntry:
        head = tx.chain_head(chain)
        if expect_seq is not None and (head.seq if head else -1) != expect_seq:
            raise StoreError(
                f"audit chain of {chain} ends at seq {head.seq if head else None} but the "
                f"stored order is at version {expect_seq}: the store was changed outside "
                "orderflow; run 'orderflow audit verify'"
            )
        entry = next_entry(
            head,
            origin=self.store.origin,
            order_id=chain,
            type=kind,
            actor=actor,
            at=at_us,
            from_state=from_state,
            to_state=to_state,
            changes=changes or (),
            context=context,
            idempotency_key=key,
        )
        data = encode(entry)
        tx.append_audit(chain, entry.seq, data, leaf_hash(data))
        return entry

    def _once(
        self,
        key: str | None,
        op: str,
        args: Mapping[str, Any],
        body: Callable[[StoreTx], T],
        encode_result: Callable[[T], str],
        decode_result: Callable[[str], T],
    ) -> T:
        """Run ``body`` in one transaction, at most once per idempotency ``key``."""
        with self.store.transaction() as tx:
            if key is None:
                return body(tx)
            print_ = fingerprint(op, args)
            stored = tx.get_idempotent(key)
            if stored is not None:
                if stored[0] != print_:
                    raise IdempotencyConflict(key)
                return decode_result(stored[1])
            result = body(tx)
            tx.put_idempotent(key, print_, encode_result(result))
            return result

    def _add_exposure(self, tx: StoreTx, customer_id: str, delta: Decimal) -> None:
        current = records.read_decimal(tx, records.EXPOSURE, customer_id, for_update=True)
        tx.put_doc(records.EXPOSURE, customer_id, str(current + delta))

    def _load(self, tx: StoreTx, order_id: str, *, for_update: bool = False) -> Order:
        order = tx.get_order(order_id, for_update=for_update)
        if order is None:
            raise NotFound("order", order_id)
        return order

    # --- master data (R1) ---------------------------------------------------------------
    def put_customer(self, customer: Customer) -> None:
        """Create or replace a customer."""
        with self.store.transaction() as tx:
            records.put_typed(tx, customer.id, customer)

    def put_product(self, product: Product) -> None:
        """Create or replace a product with its BOM."""
        with self.store.transaction() as tx:
            records.put_typed(tx, product.code, product)

    def put_component(self, component: Component) -> None:
        """Create or replace a component (safety stock, suppliers, lead time)."""
        with self.store.transaction() as tx:
            records.put_typed(tx, component.code, component)

    def put_inbound_po(self, po: InboundPO) -> None:
        """Create or replace an inbound purchase order."""
        with self.store.transaction() as tx:
            records.put_typed(tx, f"{po.component}/{po.number}", po)

    def put_capacity(self, factory_id: str, slots: Iterable[CapacitySlot]) -> None:
        """Replace a factory's free production slots."""
        with self.store.transaction() as tx:
            for key, _ in tx.docs(records.CAPACITY, factory_id + "/"):
                tx.delete_doc(records.CAPACITY, key)
            for slot in slots:
                records.write_slot(tx, factory_id, slot)

    def set_stock(self, component: str, on_hand: Decimal | int | str) -> StockPosition:
        """Set a component's on-hand stock (initial load or stock-take), keeping reservations."""
        with self.store.transaction() as tx:
            level = records.read_stock(tx, component, for_update=True)
            p = level.position
            new = StockPosition(component, on_hand, p.reserved)
            records.write_stock(tx, StockLevel(new, level.last_scan_us))
            return new

    def stock(self, component: str) -> StockPosition:
        """A component's current stock."""
        with self.store.transaction() as tx:
            return records.read_stock(tx, component).position

    def customer(self, customer_id: str) -> Customer:
        """A customer with its live open exposure (receivables + accepted, undelivered orders)."""
        with self.store.transaction() as tx:
            base = records.get_typed(tx, Customer, customer_id)
            if base is None:
                raise NotFound("customer", customer_id)
            extra = records.read_decimal(tx, records.EXPOSURE, customer_id)
            return attrs.evolve(base, open_exposure=base.open_exposure + extra)

    def alerts(self) -> list[PurchasingAlert]:
        """Every purchasing alert, oldest first (R6)."""
        with self.store.transaction() as tx:
            return [from_json(body, PurchasingAlert) for _, body in tx.docs(records.ALERT)]

    # --- orders -------------------------------------------------------------------------
    def _next_number(self, tx: StoreTx, now: dt.datetime) -> OrderNumber:
        day = self.local_date(now)
        key = f"{self.number_prefix}{day:%Y%m%d}"
        seq = int(tx.get_doc(records.COUNTER, key, for_update=True) or 0) + 1
        tx.put_doc(records.COUNTER, key, str(seq))
        return OrderNumber(self.number_prefix, day, seq)

    def submit(
        self, draft: OrderDraft, *, actor: ActorLike, idempotency_key: str | None = None
    ) -> Submission:
        """Create an order in the initial stage and record the R2 three-fold check.

        The checks (credit, BOM kitting rate, capacity slot) are measured and stored with
        the *created* audit entry; a failing check does not block submission (the
        review transition's guards do), it is reported to the reviewer.
        """
        if not draft.lines:
            raise InputError("an order needs at least one line")
        if not draft.factory_id:
            draft = attrs.evolve(draft, factory_id=self.route(draft))
        who = self._who(actor, draft.factory_id, "change")

        def body(tx: StoreTx) -> Submission:
            now = self._now()
            number = draft.number or self._next_number(tx, now)
            order, token = new_order(
                number=number,
                customer_id=draft.customer_id,
                lines=draft.lines,
                requested_date=draft.requested_date,
                factory_id=draft.factory_id,
                initial_stage=self.workflow.definition.initial,
                created_at=now,
                delivery_address=draft.delivery_address,
                erp_id=draft.erp_id,
                erp_number=draft.erp_number,
                order_id=draft.order_id,
                deadline=stage_deadline(self.policy, self.workflow.definition.initial, now),
            )
            policy = self.policy
            facts = self._facts.gather(
                tx,
                order,
                self.local_date(now),
                frozenset({"customer", "products", "stock", "components", "capacity"}),
            )
            checks = tuple(check(order, facts, policy) for check in _R2_CHECKS)
            tx.insert_order(order)
            context = {f"check.{c.code}": "pass" if c.ok else "fail" for c in checks}
            context["kitting_rate"] = str(checks[1].measured.get("kitting_rate", ""))
            context["policy"] = str(policy.version)
            self._audit(
                tx,
                order.id,
                EntryType.CREATED,
                actor=who,
                at_us=to_micros(now),
                changes=created_changes(order),
                context=context,
                key=idempotency_key,
            )
            return Submission(order, token, checks)

        args = attrs.asdict(draft, recurse=True) if idempotency_key else {}
        if draft.order_id is None:
            args.pop("order_id", None)  # fingerprints of drafts without an id stay as they were
        return self._once(
            idempotency_key, "submit", args, body, _encode_submission, _decode_submission
        )

    def route(self, draft: OrderDraft) -> str:
        """The factory for a draft without one: the nearest able to make its products (R10).

        Needs a ``router`` and a ``geocoder``; the delivery address is geocoded (an unknown
        address is :class:`~orderflow.UnknownAddress`, never a silent default).
        """
        if self.router is None or self.geocoder is None:
            raise InputError(
                "the draft has no factory_id and this service has no router/geocoder to "
                "choose one; pass factory_id= or build the service with router= and geocoder="
            )
        position = self.geocoder.geocode(draft.delivery_address).position
        products = {line.product for line in draft.lines}
        candidates = [
            self.router.route(position, product).factory_id for product in sorted(products)
        ]
        if len(set(candidates)) > 1:
            # one factory must make every line: take the nearest that makes them all
            route = self.router.route(position, None)
            for candidate in route.candidates:
                if all(self.router.factory(candidate.factory_id).makes(p) for p in products):
                    return candidate.factory_id
            raise InputError(f"no single factory makes all of {sorted(products)}")
        return candidates[0]

    def get(self, order_id: str, *, actor: ActorLike | None = None) -> Order:
        """The current order; with an :class:`~orderflow.geo.Actor`, its scope is checked."""
        with self.store.transaction() as tx:
            order = self._load(tx, order_id)
        if actor is not None:
            self._who(actor, order.factory_id, "read")
        return order

    def find(self, *, number: str | None = None, erp_id: str | None = None) -> Order | None:
        """The order with this number or ERP id, if any."""
        field, value = ("number", number) if number is not None else ("erp_id", erp_id)
        if value is None:
            raise InputError("give number= or erp_id=")
        with self.store.transaction() as tx:
            order_id = tx.find_order_id(field, value)
            return None if order_id is None else self._load(tx, order_id)

    def explain(self, order_id: str, event: str) -> Explanation:
        """What firing ``event`` now would do, with every guard's measured values."""
        with self.store.transaction() as tx:
            order = self._load(tx, order_id)
            needs = self._needs.get((order.stage, event), frozenset())
            facts = self._facts.gather(tx, order, self.local_date(self._now()), needs)
        return self.workflow.explain(order, event, facts)

    def fire(
        self,
        order_id: str,
        event: str,
        *,
        actor: ActorLike,
        reason: str | None = None,
        idempotency_key: str | None = None,
        occurred_at: dt.datetime | None = None,
        expected_version: int | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Order:
        """Fire ``event`` on an order and commit the change with its audit entry.

        ``expected_version`` turns a stale read into :class:`~orderflow.ConcurrencyConflict`
        instead of acting on a newer state. ``context`` (operator, device, batch, ...) is
        stored in the audit entry so a root cause can be traced (R5).
        """

        def body(tx: StoreTx) -> Order:
            order = self._load(tx, order_id, for_update=True)
            if expected_version is not None and order.version != expected_version:
                raise ConcurrencyConflict(order_id, expected_version)
            who = self._who(actor, order.factory_id, "change")
            now = self._now()
            policy = self.policy
            needs = self._needs.get((order.stage, event), frozenset())
            facts = self._facts.gather(tx, order, self.local_date(now), needs)
            fired = self.workflow.fire(
                order,
                event,
                facts,
                actor=who,
                at=now,
                reason=reason,
                policy=policy,
                occurred_at=occurred_at,
            )
            new = fired.order
            at_us = to_micros(now)
            effect = self.effects.get(event)
            if effect is not None:
                effect(self, tx, order, new, facts, policy, at_us, who)
            tx.update_order(new, order.version)
            ctx = dict(context or {})
            ctx["event"] = event
            ctx["policy"] = str(policy.version)
            if reason:
                ctx["reason"] = reason
            if occurred_at is not None:
                ctx["occurred"] = str(to_micros(occurred_at))
            if new.held_from:
                ctx["held_from"] = new.held_from
            if new.deadline is not None:
                ctx["deadline"] = str(to_micros(new.deadline))
            self._audit(
                tx,
                order.id,
                EntryType.STATE_CHANGE,
                actor=who,
                at_us=at_us,
                from_state=order.stage,
                to_state=new.stage,
                context=ctx,
                key=idempotency_key,
                expect_seq=order.version,
            )
            return new

        args = {
            "order": order_id,
            "event": event,
            "reason": reason,
            "occurred": occurred_at,
            "expected": expected_version,
            "ctx": context,
        }
        return self._once(idempotency_key, "fire", args, body, _encode_order, _decode_order)

    def edit(
        self,
        order_id: str,
        changes: Mapping[str, Any],
        *,
        actor: ActorLike,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> Order:
        """Change order fields (``requested_date``, ``delivery_address``, ``lines``).

        Lines may only change before kitting (nothing is reserved yet). The audit entry
        names each changed field with its old and new value (R5).
        """
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise InputError(f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")

        def body(tx: StoreTx) -> Order:
            order = self._load(tx, order_id, for_update=True)
            if expected_version is not None and order.version != expected_version:
                raise ConcurrencyConflict(order_id, expected_version)
            who = self._who(actor, order.factory_id, "change")
            if "lines" in changes and order.stage != self.workflow.definition.initial:
                raise InputError(
                    f"order {order.number}: lines can only change in stage "
                    f"{self.workflow.definition.initial!r}, not {order.stage!r}"
                )
            new = attrs.evolve(order, version=order.version + 1, **dict(changes))
            diff = {
                name: (
                    field_value(name, getattr(order, name)),
                    field_value(name, getattr(new, name)),
                )
                for name in changes
                if getattr(order, name) != getattr(new, name)
            }
            if not diff:
                return order
            return self._field_update(tx, order, new, actor=who, changes=diff,
                                      key=idempotency_key)  # fmt: skip

        args = {"order": order_id, "changes": dict(changes), "expected": expected_version}
        return self._once(idempotency_key, "edit", args, body, _encode_order, _decode_order)

    # --- exceptions, warnings, queries (R4, R5, R8, R9) ----------------------------------
    def _exception_entry(
        self,
        tx: StoreTx,
        order: Order,
        *,
        actor: str,
        at: dt.datetime,
        context: Mapping[str, str],
        key: str | None = None,
    ) -> Order:
        """Record an ``exception`` entry on the order's chain and store it one version on."""
        new = object.__new__(Order)
        new.__dict__.update(order.__dict__)
        new.__dict__["version"] = order.version + 1
        tx.update_order(new, order.version)
        self._audit(tx, order.id, EntryType.EXCEPTION, actor=actor, at_us=to_micros(at),
                    context=context, key=key, expect_seq=order.version)  # fmt: skip
        return new

    def _field_update(
        self,
        tx: StoreTx,
        order: Order,
        new: Order,
        *,
        actor: str,
        changes: Mapping[str, tuple[Any, Any]],
        key: str | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Order:
        """Store ``new`` (one version on) with a ``field_update`` entry naming each change."""
        tx.update_order(new, order.version)
        self._audit(tx, order.id, EntryType.FIELD_UPDATE, actor=actor,
                    at_us=to_micros(self._now()), changes=changes, context=context, key=key,
                    expect_seq=order.version)  # fmt: skip
        return new

    def open_incident(
        self,
        order_id: str,
        category: str,
        *,
        actor: ActorLike,
        device: str = "",
        batch: str = "",
        note: str = "",
        idempotency_key: str | None = None,
    ) -> Incident:
        """Open an exception of a policy category on an order (R5: operator, device, batch)."""

        def body(tx: StoreTx) -> Incident:
            order = self._load(tx, order_id, for_update=True)
            who = self._who(actor, order.factory_id, "change")
            now = self._now()
            incident = open_incident(
                self.policy,
                order_id=order.id,
                category=category,
                opened_at=now,
                operator=who,
                device=device,
                batch=batch,
                note=note,
            )
            incidents.write_incident(tx, incident)
            ctx = {"action": "opened", "incident": incident.id, "category": category,
                   "device": device, "batch": batch}  # fmt: skip
            self._exception_entry(tx, order, actor=who, at=now, context=ctx, key=idempotency_key)
            return incident

        args = {
            "order": order_id,
            "category": category,
            "device": device,
            "batch": batch,
            "note": note,
        }
        return self._once(
            idempotency_key,
            "open_incident",
            args,
            body,
            _encode_incident,
            _decode_incident,
        )

    def resolve_incident(
        self,
        incident_id: str,
        root_cause: str,
        *,
        actor: ActorLike,
        idempotency_key: str | None = None,
    ) -> Incident:
        """Close an incident with its root cause; the closure time is measured (R8)."""

        def body(tx: StoreTx) -> Incident:
            incident = incidents.read_incident(tx, incident_id)
            if incident is None:
                raise NotFound("incident", incident_id)
            order = self._load(tx, incident.order_id, for_update=True)
            who = self._who(actor, order.factory_id, "change")
            now = self._now()
            closed = resolve_incident(incident, root_cause, who, now)
            incidents.write_incident(tx, closed)
            ctx = {"action": "resolved", "incident": incident.id,
                   "category": incident.category, "root_cause": root_cause}  # fmt: skip
            self._exception_entry(tx, order, actor=who, at=now, context=ctx, key=idempotency_key)
            return closed

        args = {"incident": incident_id, "root_cause": root_cause}
        return self._once(
            idempotency_key,
            "resolve_incident",
            args,
            body,
            _encode_incident,
            _decode_incident,
        )

    def incidents(self) -> list[Incident]:
        """Every incident, open and resolved."""
        with self.store.transaction() as tx:
            return [from_json(body, Incident) for _, body in tx.docs(incidents.INCIDENT)]

    def record_queries(self, events: Iterable[QueryEvent]) -> int:
        """Store customer query events (sent, opened, viewed, called) in one transaction."""
        count = 0
        with self.store.transaction() as tx:
            for event in events:
                incidents.write_query(tx, event, count)
                count += 1
        return count

    def query_events(self) -> list[QueryEvent]:
        """Every stored customer query event, in time order."""
        with self.store.transaction() as tx:
            return incidents.read_queries(tx)

    def sweep_warnings(self, *, escalate_after: float = 2.0) -> list[DueWarning]:
        """Find orders past their stage deadline now; audit each warning once.

        A warning and, later, an escalation are ``exception`` entries on the order's
        chain, written once per stage visit. Returns every overdue order.
        """
        now = self._now()
        found = due_warnings(self.store.orders_due(now), now, escalate_after=escalate_after)
        for warning in found:
            level = "escalation" if warning.escalated else "warning"
            with self.store.transaction() as tx:
                order = self._load(tx, warning.order_id, for_update=True)
                mark = f"{order.stage}@{to_micros(order.stage_entered_at)}:{level}"
                if (
                    order.deadline is None
                    or order.deadline >= now
                    or tx.get_doc(incidents.WARNED, f"{order.id}/{mark}") is not None
                ):
                    continue
                tx.put_doc(incidents.WARNED, f"{order.id}/{mark}", "1")
                ctx = {"action": f"timeout_{level}", "stage": order.stage,
                       "deadline": str(to_micros(order.deadline))}  # fmt: skip
                self._exception_entry(tx, order, actor="orderflow", at=now, context=ctx)
        return found

    # --- customers and paper slips (R9, R11) ---------------------------------------------
    def customer_status(self, token: str) -> CustomerStatus:
        """What the customer sees for a query token; unknown tokens get NotFound."""
        return customer_status(self.store, token)

    def slip_status(self, number: str, code: str) -> SlipStatus:
        """Shortages, latest failed QC batch and alternative supplier for a paper slip."""
        return slip_status(self.store, self.workflow, number, code, self.local_date(self._now()))

    # --- stock (R6) ---------------------------------------------------------------------
    def record_scan(
        self,
        component: str,
        qty: Decimal | int | str,
        *,
        direction: str,
        actor: ActorLike,
        factory_id: str = "",
        device: str = "",
        batch: str = "",
        idempotency_key: str | None = None,
    ) -> ScanResult:
        """A warehouse scan: goods ``"in"`` add to stock, goods ``"out"`` take from it.

        Updates available stock at once, writes a ``field_update`` audit entry on the
        ``stock/<component>`` chain, and a purchasing alert when available stock falls
        under the component's safety threshold.
        """
        if direction not in ("in", "out"):
            raise InputError(f"scan direction must be 'in' or 'out', not {direction!r}")
        amount = StockPosition(component, qty).on_hand
        if amount == 0:
            raise InputError("a scan must move a positive quantity")
        if isinstance(actor, Actor) and not factory_id:
            raise InputError("a scan by an Actor needs factory_id= (the factory it happens in)")
        who = self._who(actor, factory_id, "scan")

        def body(tx: StoreTx) -> ScanResult:
            now_us = to_micros(self._now())
            before = records.read_stock(tx, component, for_update=True)
            p = before.position
            on_hand = p.on_hand + amount if direction == "in" else p.on_hand - amount
            if on_hand < 0:
                raise InputError(
                    f"goods-out of {amount} {component} would leave {on_hand} on hand; "
                    "scan the goods-in first or do a stock-take"
                )
            after = StockLevel(StockPosition(component, on_hand, p.reserved), now_us)
            alert = inventory.set_level(
                tx, before, after, at_us=now_us, actor=who, device=device, batch=batch
            )
            self._audit(
                tx,
                f"stock/{component}",
                EntryType.FIELD_UPDATE,
                actor=who,
                at_us=now_us,
                changes={"on_hand": (p.on_hand, on_hand)},
                context={"direction": direction, "device": device, "batch": batch},
                key=idempotency_key,
            )
            return ScanResult(after.position, alert)

        args = {
            "component": component,
            "qty": str(amount),
            "direction": direction,
            "device": device,
            "batch": batch,
        }
        return self._once(idempotency_key, "scan", args, body, _encode_scan, _decode_scan)

    # --- policy (R4) --------------------------------------------------------------------
    def _load_policy(self) -> None:
        with self.store.transaction() as tx:
            body = tx.get_doc("policy", "current")
        if body is not None:
            stored = parse_policy(json.loads(body))
            if stored.version > self.policies.current.version:
                self.policies.swap(stored)

    def change_policy(self, new: Policy, *, actor: ActorLike) -> Policy:
        """Put a new policy version in force now and audit every changed parameter."""
        who = (
            self._who(actor, "", "administer")
            if isinstance(actor, Actor)
            else self._who(actor, "", "change")
        )
        old = self.policy
        if new.version <= old.version:
            new = attrs.evolve(new, version=old.version + 1)
        old_doc, new_doc = policy_document(old), policy_document(new)
        diff = {
            k: (json.dumps(old_doc[k], sort_keys=True), json.dumps(new_doc[k], sort_keys=True))
            for k in new_doc
            if old_doc.get(k) != new_doc[k]
        }
        with self.store.transaction() as tx:
            self._audit(
                tx,
                "policy",
                EntryType.POLICY_CHANGE,
                actor=who,
                at_us=to_micros(self._now()),
                changes=diff,
                context={"version": str(new.version)},
            )
            tx.put_doc("policy", "current", json.dumps(new_doc, sort_keys=True))
            self.policies.swap(new)
        return new


def _encode_incident(incident: Incident) -> str:
    return to_json(incident)


def _decode_incident(text: str) -> Incident:
    return from_json(text, Incident)


_RESULT = json.JSONEncoder(ensure_ascii=False)  # one encoder, not one per call


def _encode_order(order: Order) -> str:
    return _RESULT.encode(order_to_row(order))


def _decode_order(text: str) -> Order:
    return order_from_row(json.loads(text))


def _encode_submission(sub: Submission) -> str:
    return _RESULT.encode(
        {
            "order": order_to_row(sub.order),
            "checks": [[c.ok, c.code, c.message] for c in sub.checks],
        }
    )


def _decode_submission(text: str) -> Submission:
    data = json.loads(text)
    checks = tuple(GuardResult(ok, code, message) for ok, code, message in data["checks"])
    return Submission(order_from_row(data["order"]), None, checks)


def _encode_scan(result: ScanResult) -> str:
    return json.dumps(
        {
            "position": [
                result.position.component,
                str(result.position.on_hand),
                str(result.position.reserved),
            ],
            "alert": None if result.alert is None else to_json(result.alert),
        }
    )


def _decode_scan(text: str) -> ScanResult:
    data = json.loads(text)
    c, on_hand, reserved = data["position"]
    alert = None if data["alert"] is None else from_json(data["alert"], PurchasingAlert)
    return ScanResult(StockPosition(c, on_hand, reserved), alert)
