"""Order use cases: submit (R2), route (R10) and read (get, find, explain).

Each is a function over a :class:`~orderflow.service.runtime.Runtime`; a submission, its
audit entry and its idempotency record commit in one transaction. Changes to an order
are :mod:`orderflow.service.changes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from orderflow.audit import EntryType
from orderflow.clock import to_micros
from orderflow.domain import Order, OrderLine, OrderNumber, new_order
from orderflow.exceptions import InputError
from orderflow.ports import StoreTx
from orderflow.service import records
from orderflow.service.boundary import (
    check_context,
    check_date,
    check_lines,
    check_text,
)
from orderflow.service.codec import created_changes
from orderflow.service.results import Submission
from orderflow.service.runtime import ActorLike, Runtime
from orderflow.workflow import Explanation, bom_kitting, capacity_slot, credit_limit
from orderflow.workflow.machine import stage_deadline

__all__ = ["OrderDraft", "explain", "find", "get", "route", "submit"]

_R2_CHECKS = (credit_limit, bom_kitting, capacity_slot)
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


def _counter(rt: Runtime, day: dt.date) -> str:
    """The key of the number counter of ``day`` (one per number prefix: per plant)."""
    return f"{rt.number_prefix}{day:%Y%m%d}"


def _next_number(rt: Runtime, tx: StoreTx, day: dt.date) -> OrderNumber:
    key = _counter(rt, day)
    seq = int(tx.get_doc(records.COUNTER, key, for_update=True) or 0) + 1
    tx.put_doc(records.COUNTER, key, str(seq))
    return OrderNumber(rt.number_prefix, day, seq)


def submit(
    rt: Runtime,
    draft: OrderDraft,
    *,
    actor: ActorLike,
    idempotency_key: str | None = None,
    context: Mapping[str, str] | None = None,
) -> Submission:
    """Create an order in the initial stage and record the R2 three-fold check.

    The delivery-risk rules (R13) run beside the checks: their flags are returned and
    kept in the ``created`` entry (``risk.*`` context keys), and never block. A
    ``carrier`` key in ``context`` names the order's carrier. ``context`` (e.g. where
    the draft came from: an ERP, a contract photo's SHA-256) is kept in the ``created``
    entry beside the checks.
    """
    if not draft.lines:
        raise InputError("an order needs at least one line")
    if not draft.factory_id:
        draft = attrs.evolve(draft, factory_id=route(rt, draft))
    who = rt.who(actor, draft.factory_id, "change")
    initial = rt.workflow.definition.initial
    caller_context = check_context(context)

    def body(tx: StoreTx) -> Submission:
        now = rt.now()
        policy = rt.policy
        _refuse_duplicates(tx, draft)
        today = rt.local_date(now)
        plan = rt.facts.plan(tx, draft.customer_id, draft.factory_id, draft.lines, _R2_FACTS)
        # the day's counter is locked with the facts' reads (one round trip on a server)
        counter = None if draft.number else {records.COUNTER: [_counter(rt, today)]}
        tx.prefetch(plan.wanted, plan.listings, counter)
        order, token = new_order(
            number=draft.number or _next_number(rt, tx, today),
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
        facts = rt.facts.gather(tx, order, today, _R2_FACTS, plan=plan)
        checks = tuple(check(order, facts, policy) for check in _R2_CHECKS)
        tx.insert_order(order)
        context = dict(caller_context)
        context.update({f"check.{c.code}": "pass" if c.ok else "fail" for c in checks})
        context["kitting_rate"] = str(checks[1].measured.get("kitting_rate", ""))
        context["policy"] = str(policy.version)
        at_us = to_micros(now)
        flags, risk_context = rt.risk.at_submission(tx, order, facts, policy.risk, at_us,
                                                    caller_context.get("carrier"))  # fmt: skip
        context.update(risk_context)  # R13: notices only, the flow is unchanged
        rt.append(tx, order.id, EntryType.CREATED, actor=who, at_us=at_us,
                  changes=created_changes(order), context=context, key=idempotency_key,
                  link_token=token)  # fmt: skip
        return Submission(order, checks, token, flags)

    args = _draft_args(draft) if idempotency_key else {}
    if draft.order_id is None:
        args.pop("order_id", None)  # fingerprints of drafts without an id stay as they were
    if caller_context:
        args["ctx"] = caller_context
    return rt.once(idempotency_key, "submit", args, body, Submission, actor=actor,
                   checks_ahead=True)  # fmt: skip


_DRAFT_FIELDS = tuple(f.name for f in attrs.fields(OrderDraft))
_LINE_FIELDS = tuple(f.name for f in attrs.fields(OrderLine))


def _draft_args(draft: OrderDraft) -> dict[str, Any]:
    """``attrs.asdict(draft, recurse=True)``, the fingerprint's arguments since 0.1, built
    without attrs' generic walk (a third of a keyed submission's fingerprint time)."""
    args = {name: getattr(draft, name) for name in _DRAFT_FIELDS}
    args["lines"] = tuple(
        {name: getattr(line, name) for name in _LINE_FIELDS} for line in draft.lines
    )
    return args


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
