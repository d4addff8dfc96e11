"""Order use cases: submit (R2), route (R10), fire (R3), edit (R5), read.

Each is a function over a :class:`~orderflow.service.runtime.Runtime`; the change, its
audit entry, its effects and its idempotency record commit in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from orderflow.audit import EntryType
from orderflow.clock import to_micros
from orderflow.domain import Order, OrderLine, OrderNumber, new_order
from orderflow.exceptions import ConcurrencyConflict, InputError
from orderflow.ports import StoreTx
from orderflow.service import records
from orderflow.service.boundary import (
    check_context,
    check_date,
    check_instant,
    check_lines,
    check_text,
)
from orderflow.service.codec import EDITABLE, created_changes, field_value
from orderflow.service.effects import EffectContext
from orderflow.service.results import Submission
from orderflow.service.runtime import ActorLike, Runtime
from orderflow.workflow import Explanation, bom_kitting, capacity_slot, credit_limit
from orderflow.workflow.machine import stage_deadline

__all__ = [
    "OrderDraft",
    "edit",
    "exception_entry",
    "explain",
    "field_update",
    "find",
    "fire",
    "get",
    "route",
    "submit",
]

_R2_CHECKS = (credit_limit, bom_kitting, capacity_slot)
_ERP_BACKFILL = dt.timedelta(days=366)
_R2_FACTS = frozenset({"customer", "products", "stock", "components", "capacity"})


def _id(blank: bool) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_text(value, f"OrderDraft.{attribute.name}", max_len=64, blank=blank)

    return check


def _optional_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_text(value, f"OrderDraft.{attribute.name}", max_len=64, blank=False)


@attrs.frozen
class OrderDraft:
    """What a new order needs; the service assigns id, number (unless given) and token.

    Every field is checked when the draft is made (:class:`~orderflow.InputError` naming
    the field): ``lines`` a non-empty list of :class:`~orderflow.OrderLine`,
    ``requested_date`` a date (not a datetime or text), identifiers short text.
    """

    customer_id: str = attrs.field(validator=_id(blank=False))
    lines: tuple[OrderLine, ...] = attrs.field(converter=check_lines)
    requested_date: dt.date = attrs.field(
        validator=lambda _, a, v: check_date(v, f"OrderDraft.{a.name}")
    )
    factory_id: str = attrs.field(validator=_id(blank=True))
    delivery_address: str = attrs.field(
        default="", validator=lambda _, a, v: check_text(v, f"OrderDraft.{a.name}")
    )
    number: str | None = attrs.field(default=None, validator=_optional_id)
    erp_id: str = attrs.field(default="", validator=_id(blank=True))
    erp_number: str = attrs.field(default="", validator=_id(blank=True))
    order_id: str | None = attrs.field(default=None, validator=_optional_id)
    """A caller-chosen order id (e.g. derived from the ERP key); ``None``: a fresh one."""


def _next_number(rt: Runtime, tx: StoreTx, now: dt.datetime) -> OrderNumber:
    day = rt.local_date(now)
    key = f"{rt.number_prefix}{day:%Y%m%d}"
    seq = int(tx.get_doc(records.COUNTER, key, for_update=True) or 0) + 1
    tx.put_doc(records.COUNTER, key, str(seq))
    return OrderNumber(rt.number_prefix, day, seq)


def submit(
    rt: Runtime, draft: OrderDraft, *, actor: ActorLike, idempotency_key: str | None = None
) -> Submission:
    """Create an order in the initial stage and record the R2 three-fold check."""
    if not draft.lines:
        raise InputError("an order needs at least one line")
    if not draft.factory_id:
        draft = attrs.evolve(draft, factory_id=route(rt, draft))
    who = rt.who(actor, draft.factory_id, "change")
    initial = rt.workflow.definition.initial

    def body(tx: StoreTx) -> Submission:
        now = rt.now()
        policy = rt.policy
        _refuse_duplicates(tx, draft)
        order, token = new_order(
            number=draft.number or _next_number(rt, tx, now),
            customer_id=draft.customer_id,
            lines=draft.lines,
            requested_date=draft.requested_date,
            factory_id=draft.factory_id,
            initial_stage=initial,
            created_at=now,
            delivery_address=draft.delivery_address,
            erp_id=draft.erp_id,
            erp_number=draft.erp_number,
            order_id=draft.order_id,
            deadline=stage_deadline(policy, initial, now),
        )
        facts = rt.facts.gather(tx, order, rt.local_date(now), _R2_FACTS)
        checks = tuple(check(order, facts, policy) for check in _R2_CHECKS)
        tx.insert_order(order)
        context = {f"check.{c.code}": "pass" if c.ok else "fail" for c in checks}
        context["kitting_rate"] = str(checks[1].measured.get("kitting_rate", ""))
        context["policy"] = str(policy.version)
        rt.append(tx, order.id, EntryType.CREATED, actor=who, at_us=to_micros(now),
                  changes=created_changes(order), context=context, key=idempotency_key,
                  link_token=token)  # fmt: skip
        return Submission(order, checks, token)

    args = attrs.asdict(draft, recurse=True) if idempotency_key else {}
    if draft.order_id is None:
        args.pop("order_id", None)  # fingerprints of drafts without an id stay as they were
    return rt.once(idempotency_key, "submit", args, body, Submission, actor=actor)


def _refuse_duplicates(tx: StoreTx, draft: OrderDraft) -> None:
    """A caller-chosen number or id that exists is a mistake to name, not a conflict to retry."""
    if draft.number is not None and tx.find_order_id("number", draft.number) is not None:
        raise InputError(f"order number {draft.number} already exists; leave number= empty "
                         "to have one assigned")  # fmt: skip
    if draft.order_id is not None and tx.get_order(draft.order_id) is not None:
        raise InputError(f"an order with id {draft.order_id!r} already exists")


def route(rt: Runtime, draft: OrderDraft) -> str:
    """The factory for a draft without one: the nearest able to make its products (R10)."""
    router, geocoder = rt.router, rt.geocoder
    if router is None or geocoder is None:
        raise InputError(
            "the draft has no factory_id and this service has no router/geocoder to "
            "choose one; pass factory_id= or build the service with router= and geocoder="
        )
    position = geocoder.geocode(draft.delivery_address).position
    products = {line.product for line in draft.lines}
    candidates = [router.route(position, product).factory_id for product in sorted(products)]
    if len(set(candidates)) > 1:
        # one factory must make every line: take the nearest that makes them all
        for candidate in router.route(position, None).candidates:
            if all(router.factory(candidate.factory_id).makes(p) for p in products):
                return candidate.factory_id
        raise InputError(f"no single factory makes all of {sorted(products)}")
    return candidates[0]


def get(rt: Runtime, order_id: str, *, actor: ActorLike | None = None) -> Order:
    """The current order; with an :class:`~orderflow.geo.Actor`, its scope is checked."""
    with rt.store.transaction() as tx:
        order = rt.load(tx, order_id)
    if actor is not None:
        rt.who(actor, order.factory_id, "read")
    return order


def find(
    rt: Runtime,
    *,
    number: str | None = None,
    erp_id: str | None = None,
    actor: ActorLike | None = None,
) -> Order | None:
    """The order with this number or ERP id, if any (with an Actor, its scope is checked)."""
    field, value = ("number", number) if number is not None else ("erp_id", erp_id)
    if value is None:
        raise InputError("give number= or erp_id=")
    check_text(value, field, max_len=64)
    with rt.store.transaction() as tx:
        order_id = tx.find_order_id(field, value)
        order = None if order_id is None else rt.load(tx, order_id)
    if order is not None and actor is not None:
        rt.who(actor, order.factory_id, "read")
    return order


def explain(
    rt: Runtime, order_id: str, event: str, *, actor: ActorLike | None = None
) -> Explanation:
    """What firing ``event`` now would do, with every guard's measured values."""
    with rt.store.transaction() as tx:
        order = rt.load(tx, order_id)
        if actor is not None:
            rt.who(actor, order.factory_id, "read")
        needs = rt.needs.get((order.stage, event), frozenset())
        facts = rt.facts.gather(tx, order, rt.local_date(rt.now()), needs)
    return rt.workflow.explain(order, event, facts)


def fire(
    rt: Runtime,
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
    """Fire ``event`` on an order and commit the change, its effect and its audit entry."""

    check_text(event, "event", max_len=64, blank=False)
    if reason is not None:
        check_text(reason, "reason")
    caller_context = check_context(context)

    def body(tx: StoreTx) -> Order:
        order = rt.load(tx, order_id, for_update=True)
        if expected_version is not None and order.version != expected_version:
            raise ConcurrencyConflict(order_id, expected_version)
        who = rt.who(actor, order.factory_id, "change")
        now = rt.now()
        policy = rt.policy
        if occurred_at is not None:
            # an order imported from the ERP existed there before orderflow saw it: its
            # floor times may go back a year (a backfill), others not before the order
            since = order.created_at - (_ERP_BACKFILL if order.erp_id else dt.timedelta(0))
            check_instant(occurred_at, "occurred_at", not_before=since, now=now,
                          skew_s=policy.clock_skew_seconds)  # fmt: skip
        needs = rt.needs.get((order.stage, event), frozenset())
        facts = rt.facts.gather(tx, order, rt.local_date(now), needs)
        new = rt.workflow.fire(order, event, facts, actor=who, at=now, reason=reason,
                               policy=policy, occurred_at=occurred_at).order  # fmt: skip
        effect = rt.effects.get(event)
        if effect is not None:
            effect(EffectContext(tx, event, order, new, facts, policy, now, who, reason,
                                 caller_context))  # fmt: skip
        tx.update_order(new, order.version)
        ctx = dict(caller_context)
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
        rt.append(tx, order.id, EntryType.STATE_CHANGE, actor=who, at_us=to_micros(now),
                  from_state=order.stage, to_state=new.stage, context=ctx,
                  key=idempotency_key, expect_seq=order.version)  # fmt: skip
        return new

    args = {
        "order": order_id,
        "event": event,
        "reason": reason,
        "occurred": occurred_at,
        "expected": expected_version,
        "ctx": context,
    }
    return rt.once(idempotency_key, "fire", args, body, Order, actor=actor)


def edit(
    rt: Runtime,
    order_id: str,
    changes: Mapping[str, Any],
    *,
    actor: ActorLike,
    idempotency_key: str | None = None,
    expected_version: int | None = None,
) -> Order:
    """Change order fields (``requested_date``, ``delivery_address``, ``lines``) (R5)."""
    changes = _checked_changes(changes)
    definition = rt.workflow.definition
    initial = definition.initial

    def body(tx: StoreTx) -> Order:
        order = rt.load(tx, order_id, for_update=True)
        if expected_version is not None and order.version != expected_version:
            raise ConcurrencyConflict(order_id, expected_version)
        who = rt.who(actor, order.factory_id, "change")
        if order.stage in definition.terminal:
            # a finished order's facts feed the R8 metrics: moving its requested date
            # after delivery would turn a late delivery into an on-time one
            raise InputError(f"order {order.number} is {order.stage}; it can no longer be edited")
        if "lines" in changes and order.stage != initial:
            raise InputError(
                f"order {order.number}: lines can only change in stage "
                f"{initial!r}, not {order.stage!r}"
            )
        new = attrs.evolve(order, version=order.version + 1, **dict(changes))
        diff = {
            name: (field_value(name, getattr(order, name)), field_value(name, getattr(new, name)))
            for name in changes
            if getattr(order, name) != getattr(new, name)
        }
        if not diff:
            return order
        return field_update(rt, tx, order, new, actor=who, changes=diff, key=idempotency_key)

    args = {"order": order_id, "changes": dict(changes), "expected": expected_version}
    return rt.once(idempotency_key, "edit", args, body, Order, actor=actor)


def _checked_changes(changes: Any) -> dict[str, Any]:
    if not isinstance(changes, Mapping) or not changes:
        raise InputError("changes must be a non-empty mapping of field name to new value")
    unknown = sorted(str(k) for k in set(changes) - set(EDITABLE))
    if unknown:
        raise InputError(f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
    out = dict(changes)
    if "requested_date" in out:
        check_date(out["requested_date"], "requested_date")
    if "delivery_address" in out:
        check_text(out["delivery_address"], "delivery_address")
    if "lines" in out:
        out["lines"] = check_lines(out["lines"])
    return out


def field_update(
    rt: Runtime,
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
    rt.append(tx, order.id, EntryType.FIELD_UPDATE, actor=actor, at_us=to_micros(rt.now()),
              changes=changes, context=context, key=key, expect_seq=order.version)  # fmt: skip
    return new


def exception_entry(
    rt: Runtime,
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
    rt.append(tx, order.id, EntryType.EXCEPTION, actor=actor, at_us=to_micros(at),
              context=context, key=key, expect_seq=order.version)  # fmt: skip
    return new
