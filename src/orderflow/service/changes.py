"""Change use cases: fire an event (R3), edit fields (R5), and the two entries other use
cases append (a ``field_update``, an ``exception``).

Each commits the order, its audit entry and its effects in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from orderflow.audit import EntryType
from orderflow.clock import to_micros
from orderflow.domain import Order
from orderflow.exceptions import ConcurrencyConflict, InputError
from orderflow.ports import StoreTx
from orderflow.service.boundary import (
    check_context,
    check_date,
    check_instant,
    check_lines,
    check_text,
)
from orderflow.service.codec import EDITABLE, field_value
from orderflow.service.effects import EffectContext
from orderflow.service.runtime import ActorLike, Runtime

__all__ = ["edit", "exception_entry", "field_update", "fire"]

_ERP_BACKFILL = dt.timedelta(days=366)


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
        locks = rt.locks.get(event, frozenset())
        facts = rt.facts.gather(tx, order, rt.local_date(now), needs, locks)
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
    return rt.once(idempotency_key, "fire", args, body, Order, actor=actor, lock_order=order_id)


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
    return rt.once(idempotency_key, "edit", args, body, Order, actor=actor, lock_order=order_id)


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
