"""The order service: one object an integrator holds, delegating to the use-case modules.

Each method is one use case (:mod:`~orderflow.service.orders`,
:mod:`~orderflow.service.changes`,
:mod:`~orderflow.service.scans`, :mod:`~orderflow.service.incidents`,
:mod:`~orderflow.service.queries`, :mod:`~orderflow.service.policies`,
:mod:`~orderflow.service.masterdata`) over the service's
:class:`~orderflow.service.runtime.Runtime`. Every write is atomic (the order row, its
audit entry, its effects and its idempotency record commit together or not at all) and
may carry an idempotency key: a retried call returns a result equal to the first and
writes nothing new (R5, R6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from orderflow.clock import Clock
from orderflow.domain import Component, Customer, InboundPO, Order, Product, StockPosition
from orderflow.domain.incident import Incident
from orderflow.geo.access import DEFAULT_POLICY, AccessPolicy, Actor
from orderflow.geo.geocoder import Geocoder
from orderflow.geo.router import Router
from orderflow.metrics import QueryEvent
from orderflow.policy import Policy, PolicyStore
from orderflow.ports import Store
from orderflow.risk import Carrier, RiskFlag, RiskSources
from orderflow.service import changes as change_ops
from orderflow.service import incidents, masterdata, orders, queries, scans, warehouses
from orderflow.service import policies as policy_ops
from orderflow.service import risk as risk_ops
from orderflow.service.auditing import AuditReader
from orderflow.service.effects import DEFAULT_EFFECTS, Effect
from orderflow.service.history import HistoryEntry, history
from orderflow.service.logmeta import bind_origin
from orderflow.service.orders import OrderDraft
from orderflow.service.records import PurchasingAlert
from orderflow.service.results import ScanResult, Submission, Transfer
from orderflow.service.runtime import ActorLike, Runtime
from orderflow.service.views import CustomerStatus, SlipStatus
from orderflow.workflow import CapacitySlot, Explanation, Workflow
from orderflow.workflow.timeouts import DueWarning

__all__ = ["OrderService"]


class OrderService:
    """The order service over a :class:`~orderflow.ports.Store`.

    ``actor`` arguments are a user id, or an :class:`~orderflow.geo.Actor` whose factory
    scopes are checked with ``access`` (R10). ``number_prefix`` starts every order number
    the service assigns (``HY20260122-887``). ``effects`` maps workflow events to what
    they do besides moving the stage (:mod:`orderflow.service.effects`). With
    ``events`` (the default) every audit entry's event is written to the transactional
    outbox (:mod:`orderflow.service.outbox`) for a relay to deliver. The store's origin
    must be the one its log was created with (:class:`~orderflow.StoreError` otherwise).
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
        events: bool = True,
    ) -> None:
        bind_origin(store)
        self.runtime = Runtime(store, workflow=workflow, clock=clock, policies=policies,
                               access=access, number_prefix=number_prefix, effects=effects,
                               router=router, geocoder=geocoder, events=events)  # fmt: skip
        self.audit = AuditReader(store, self.runtime.checkpointer)
        """Verification, checkpoints, bundles and replay of this store's audit log."""
        policy_ops.load_stored_policy(self.runtime)

    # --- what the service runs on -------------------------------------------------------
    @property
    def store(self) -> Store:
        """The store (the unit of work of every operation)."""
        return self.runtime.store

    @property
    def clock(self) -> Clock:
        """The injected clock."""
        return self.runtime.clock

    @property
    def workflow(self) -> Workflow:
        """The workflow engine and its definition."""
        return self.runtime.workflow

    @property
    def policies(self) -> PolicyStore:
        """The versioned, hot-swappable policy store (R4)."""
        return self.runtime.policies

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self.runtime.policy

    @property
    def router(self) -> Router | None:
        """The factory router for drafts without a factory (R10), if any."""
        return self.runtime.router

    @router.setter
    def router(self, value: Router | None) -> None:
        self.runtime.router = value

    @property
    def geocoder(self) -> Geocoder | None:
        """The geocoder for delivery addresses (R10), if any."""
        return self.runtime.geocoder

    @geocoder.setter
    def geocoder(self, value: Geocoder | None) -> None:
        self.runtime.geocoder = value

    @property
    def risk_sources(self) -> RiskSources:
        """Where the delivery-risk rules read rates, drawing changes, zones (R13)."""
        return self.runtime.risk

    @risk_sources.setter
    def risk_sources(self, value: RiskSources) -> None:
        self.runtime.risk = value

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The calendar date of ``instant`` in the factory time zone of the policy."""
        return self.runtime.local_date(instant)

    # --- master data (R1) ---------------------------------------------------------------
    def put_customer(self, customer: Customer) -> None:
        """Create or replace a customer."""
        masterdata.put(self.runtime, customer)

    def put_product(self, product: Product) -> None:
        """Create or replace a product with its BOM."""
        masterdata.put(self.runtime, product)

    def put_component(self, component: Component) -> None:
        """Create or replace a component (safety stock, suppliers, lead time)."""
        masterdata.put(self.runtime, component)

    def put_inbound_po(self, po: InboundPO) -> None:
        """Create or replace an inbound purchase order."""
        masterdata.put(self.runtime, po)

    def put_capacity(self, factory_id: str, slots: Iterable[CapacitySlot]) -> None:
        """Replace a factory's free production slots."""
        masterdata.put_capacity(self.runtime, factory_id, slots)

    def put_carrier(self, carrier: Carrier) -> None:
        """Create or replace a carrier (with or without a backup route, R13)."""
        masterdata.put_carrier(self.runtime, carrier)

    def customer(self, customer_id: str) -> Customer:
        """A customer with its live open exposure (receivables + accepted, undelivered)."""
        return masterdata.customer(self.runtime, customer_id)

    # --- stock (R6) ---------------------------------------------------------------------
    def set_stock(
        self,
        component: str,
        on_hand: Decimal | int | str,
        *,
        actor: ActorLike = "orderflow",
        reason: str = "stock-take",
        factory_id: str = "",
    ) -> StockPosition:
        """A stock-take of ``factory_id``'s warehouse: set on-hand stock, keeping
        reservations, audited on the component's stock chain; a count below what is
        reserved is refused."""
        return scans.set_stock(self.runtime, component, on_hand, actor=actor, reason=reason,
                               factory_id=factory_id)  # fmt: skip

    def stock(self, component: str, factory_id: str = "") -> StockPosition:
        """A component's current stock in ``factory_id``'s warehouse (the shared
        warehouse when it has none of its own)."""
        return scans.stock(self.runtime, component, factory_id)

    def put_warehouse(self, factory_id: str, *, actor: ActorLike = "orderflow") -> bool:
        """Give a factory a warehouse of its own (a plant group); ``False`` if it has
        one. See :mod:`orderflow.service.warehouses`."""
        return warehouses.put_warehouse(self.runtime, factory_id, actor=actor)

    def transfer_stock(self, component: str, qty: Decimal | int | str, *, from_factory: str,
                       to_factory: str, actor: ActorLike, reason: str = "transfer",
                       idempotency_key: str | None = None) -> Transfer:  # fmt: skip
        """Move on-hand stock between two factories' warehouses, audited on both."""
        return warehouses.transfer(self.runtime, component, qty, from_factory=from_factory,
                                   to_factory=to_factory, actor=actor, reason=reason,
                                   idempotency_key=idempotency_key)  # fmt: skip

    def alerts(self) -> list[PurchasingAlert]:
        """Every purchasing alert, oldest first (R6)."""
        return scans.alerts(self.runtime)

    def record_scan(self, component: str, qty: Decimal | int | str, *, direction: str,
                    actor: ActorLike, factory_id: str = "", device: str = "",
                    batch: str = "", idempotency_key: str | None = None) -> ScanResult:  # fmt: skip
        """A warehouse scan (``direction`` ``"in"`` or ``"out"``): stock at once, a
        ``field_update`` entry on ``stock/<component>``, a purchasing alert if it falls
        under the safety threshold (R6)."""
        return scans.record_scan(self.runtime, component, qty, direction=direction,
                                 actor=actor, factory_id=factory_id, device=device,
                                 batch=batch, idempotency_key=idempotency_key)  # fmt: skip

    # --- orders (R2, R3, R5, R10) ---------------------------------------------------------
    def submit(
        self,
        draft: OrderDraft,
        *,
        actor: ActorLike,
        idempotency_key: str | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Submission:
        """Create an order in the initial stage and record the R2 three-fold check.

        The checks (credit, BOM kitting rate, capacity slot) are measured and stored with
        the *created* audit entry; a failing check does not block submission (the
        review transition's guards do), it is reported to the reviewer. ``context`` (where
        the draft came from: a contract photo's SHA-256, ...) is kept in that entry too.
        """
        return orders.submit(self.runtime, draft, actor=actor, idempotency_key=idempotency_key,
                             context=context)  # fmt: skip

    def risk_flags(self, order_id: str, *, actor: ActorLike) -> tuple[RiskFlag, ...]:
        """The delivery-risk flags of an order as of now (R13; staff only, scope-checked).

        For an open order whose circumstances changed since submission (the exchange
        rate, the season, the customer's drawing changes). Flags never change the flow.
        """
        return risk_ops.risk_flags(self.runtime, order_id, actor=actor)

    def route(self, draft: OrderDraft) -> str:
        """The factory for a draft without one: the nearest able to make its products (R10).

        Needs a ``router`` and a ``geocoder``; the delivery address is geocoded (an unknown
        address is :class:`~orderflow.UnknownAddress`, never a silent default).
        """
        return orders.route(self.runtime, draft)

    def get(self, order_id: str, *, actor: ActorLike | None = None) -> Order:
        """The current order; with an :class:`~orderflow.geo.Actor`, its scope is checked."""
        return orders.get(self.runtime, order_id, actor=actor)

    def find(self, *, number: str | None = None, erp_id: str | None = None,
             actor: ActorLike | None = None) -> Order | None:  # fmt: skip
        """The order with this number or ERP id, if any; with an Actor, scope-checked."""
        return orders.find(self.runtime, number=number, erp_id=erp_id, actor=actor)

    def explain(self, order_id: str, event: str, *, actor: ActorLike | None = None) -> Explanation:
        """What firing ``event`` now would do, with every guard's measured values."""
        return orders.explain(self.runtime, order_id, event, actor=actor)

    def fire(self, order_id: str, event: str, *, actor: ActorLike, reason: str | None = None,
             idempotency_key: str | None = None, occurred_at: dt.datetime | None = None,
             expected_version: int | None = None,
             context: Mapping[str, str] | None = None) -> Order:  # fmt: skip
        """Fire ``event`` on an order and commit the change with its audit entry.

        ``expected_version`` turns a stale read into :class:`~orderflow.ConcurrencyConflict`
        instead of acting on a newer state. ``context`` (operator, device, batch, ...) is
        stored in the audit entry so a root cause can be traced (R5).
        """
        return change_ops.fire(self.runtime, order_id, event, actor=actor, reason=reason,
                           idempotency_key=idempotency_key, occurred_at=occurred_at,
                           expected_version=expected_version, context=context)  # fmt: skip

    def edit(self, order_id: str, changes: Mapping[str, Any], *, actor: ActorLike,
             idempotency_key: str | None = None,
             expected_version: int | None = None) -> Order:  # fmt: skip
        """Change order fields (``requested_date``, ``delivery_address``, ``lines``).

        Lines may only change before kitting (nothing is reserved yet). The audit entry
        names each changed field with its old and new value (R5).
        """
        return change_ops.edit(self.runtime, order_id, changes, actor=actor,
                           idempotency_key=idempotency_key,
                           expected_version=expected_version)  # fmt: skip

    def history(self, order_id: str, *, actor: ActorLike | None = None) -> list[HistoryEntry]:
        """The order's audit entries as typed :class:`HistoryEntry` values, oldest first."""
        order = self.get(order_id, actor=actor)
        return history(self.store, order.id)

    def policy_history(self) -> list[HistoryEntry]:
        """Every policy change, oldest first (the ``policy`` chain)."""
        return history(self.store, policy_ops.POLICY_CHAIN)

    # --- exceptions and warnings (R4, R5, R8) -------------------------------------------
    def open_incident(self, order_id: str, category: str, *, actor: ActorLike,
                      device: str = "", batch: str = "", note: str = "",
                      idempotency_key: str | None = None) -> Incident:  # fmt: skip
        """Open an exception of a policy category on an order (R5: operator, device, batch)."""
        return incidents.open_(self.runtime, order_id, category, actor=actor, device=device,
                               batch=batch, note=note,
                               idempotency_key=idempotency_key)  # fmt: skip

    def resolve_incident(self, incident_id: str, root_cause: str, *, actor: ActorLike,
                         idempotency_key: str | None = None) -> Incident:  # fmt: skip
        """Close an incident with its root cause; the closure time is measured (R8)."""
        return incidents.resolve(self.runtime, incident_id, root_cause, actor=actor,
                                 idempotency_key=idempotency_key)  # fmt: skip

    def incidents(self, *, actor: Actor | None = None) -> list[Incident]:
        """Every incident, open and resolved; with an Actor, only those it may read."""
        return incidents.every(self.runtime, actor=actor)

    def sweep_warnings(self, *, escalate_after: float = 2.0) -> list[DueWarning]:
        """Find orders past their stage deadline now; audit each warning once.

        A warning and, later, an escalation are ``exception`` entries on the order's
        chain, written once per stage visit. Returns every overdue order.
        """
        return incidents.sweep_warnings(self.runtime, escalate_after=escalate_after)

    def record_queries(self, events: Iterable[QueryEvent]) -> int:
        """Store customer query events (sent, opened, viewed, called) in one transaction."""
        return incidents.record_queries(self.runtime, events)

    def query_events(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[QueryEvent]:
        """Stored customer query events in time order (those in ``[since, until)``)."""
        with self.store.transaction() as tx:
            return incidents.read_queries(tx, since, until)

    # --- customers and paper slips (R9, R11) ---------------------------------------------
    def customer_status(self, token: str) -> CustomerStatus:
        """What the customer sees for a query token; unknown tokens get NotFound."""
        return queries.customer_status(self.runtime, token)

    def slip_status(self, number: str, code: str, *, caller: str = "") -> SlipStatus:
        """Shortages, latest failed QC batch and alternative supplier for a paper slip.

        Wrong codes count against the number and the ``caller`` (device or client id);
        too many raise :class:`~orderflow.SlipLocked` (policy ``slip_*`` knobs).
        """
        return queries.slip_status(self.runtime, number, code, caller=caller)

    def slip_code(self, order_id: str, *, actor: ActorLike) -> str:
        """The 6-digit code to print on the order's paper slip (derived, never stored)."""
        return queries.order_slip_code(self.runtime, order_id, actor=actor)

    # --- policy (R4) --------------------------------------------------------------------
    def change_policy(self, new: Policy, *, actor: ActorLike) -> Policy:
        """Put a new policy version in force now and audit every changed parameter."""
        return policy_ops.change_policy(self.runtime, new, actor=actor)
