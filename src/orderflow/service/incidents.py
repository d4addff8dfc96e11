"""Exceptions as a closed loop, stage-time warnings and customer query events (R4, R5, R8).

Opening or resolving an incident and raising a timeout warning are ``exception`` audit
entries on the order's chain (they bump the order's version); query events are kept as
compact documents for the self-service metrics. The use cases are the functions after
the storage helpers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from orderflow.clock import from_micros, to_micros
from orderflow.domain.incident import Incident, open_incident, resolve_incident
from orderflow.exceptions import NotFound
from orderflow.geo.access import Actor
from orderflow.metrics import QueryEvent
from orderflow.ports import StoreTx
from orderflow.serialization import from_json, to_json
from orderflow.service.boundary import check_text
from orderflow.service.changes import exception_entry
from orderflow.service.runtime import ActorLike, Runtime
from orderflow.workflow.timeouts import DueWarning, due_warnings

__all__ = [
    "INCIDENT",
    "QUERY",
    "WARNED",
    "every",
    "open_",
    "read_incident",
    "read_queries",
    "record_queries",
    "resolve",
    "sweep_warnings",
    "write_incident",
    "write_query",
]

INCIDENT = "incident"
QUERY = "query"
WARNED = "warned"


def write_incident(tx: StoreTx, incident: Incident) -> None:
    """Store an incident (open or resolved)."""
    tx.put_doc(INCIDENT, incident.id, to_json(incident))


def read_incident(tx: StoreTx, incident_id: str) -> Incident | None:
    """A stored incident, if any."""
    body = tx.get_doc(INCIDENT, incident_id, for_update=True)
    return None if body is None else from_json(body, Incident)


def write_query(tx: StoreTx, event: QueryEvent, seq: int) -> None:
    """Store one customer query event (compact: a year has hundreds of thousands)."""
    at = to_micros(event.at)
    tx.put_doc(
        QUERY,
        f"{at:020d}/{seq:06d}",
        f"{event.order_id}|{event.kind.value}|{at}|{event.shown_stage or ''}",
    )


def read_queries(
    tx: StoreTx, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[QueryEvent]:
    """Query events in time order, those in ``[since, until)`` when given.

    A year holds hundreds of thousands; with ``until``, only the key ranges of that
    window are read (keys start with the zero-padded instant), a day or so at a time.
    """
    floor = to_micros(since) if since is not None else None
    if until is None:
        rows = tx.docs(QUERY)
    else:
        lo = (floor or 0) // _BUCKET_US
        rows = [row for bucket in range(lo, to_micros(until) // _BUCKET_US + 1)
                for row in tx.docs(QUERY, f"{bucket:09d}", limit=_NO_LIMIT)]  # fmt: skip
    out = []
    for _, body in rows:
        order_id, kind, at, shown = body.split("|")
        if floor is not None and int(at) < floor:
            continue
        if until is not None and int(at) >= to_micros(until):
            continue
        out.append(QueryEvent(order_id, kind, from_micros(int(at)), shown or None))
    return out


_BUCKET_US = 10**11
"""Query keys are 20-digit instants; their first 9 digits name a window of ~28 hours."""
_NO_LIMIT = 2**31 - 1
"""A window's listing is read once and not kept in the store's cache (``limit=``)."""


# --- use cases --------------------------------------------------------------------------
def open_(
    rt: Runtime,
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
    check_text(category, "category", max_len=64, blank=False)
    for value, what in ((device, "device"), (batch, "batch"), (note, "note")):
        check_text(value, what)

    def body(tx: StoreTx) -> Incident:
        order = rt.load(tx, order_id, for_update=True)
        who = rt.who(actor, order.factory_id, "change")
        now = rt.now()
        incident = open_incident(rt.policy, order_id=order.id, category=category,
                                 opened_at=now, operator=who, device=device, batch=batch,
                                 note=note)  # fmt: skip
        write_incident(tx, incident)
        ctx = {"action": "opened", "incident": incident.id, "category": category,
               "device": device, "batch": batch}  # fmt: skip
        exception_entry(rt, tx, order, actor=who, at=now, context=ctx, key=idempotency_key)
        return incident

    args = {"order": order_id, "category": category, "device": device, "batch": batch,
            "note": note}  # fmt: skip
    return rt.once(
        idempotency_key, "open_incident", args, body, Incident, actor=actor, lock_order=order_id
    )


def resolve(
    rt: Runtime,
    incident_id: str,
    root_cause: str,
    *,
    actor: ActorLike,
    idempotency_key: str | None = None,
) -> Incident:
    """Close an incident with its root cause; the closure time is measured (R8)."""
    check_text(incident_id, "incident id", max_len=64, blank=False)
    check_text(root_cause, "root cause", blank=False)

    def body(tx: StoreTx) -> Incident:
        incident = read_incident(tx, incident_id)
        if incident is None:
            raise NotFound("incident", incident_id)
        order = rt.load(tx, incident.order_id, for_update=True)
        who = rt.who(actor, order.factory_id, "change")
        now = rt.now()
        closed = resolve_incident(incident, root_cause, who, now)
        write_incident(tx, closed)
        ctx = {"action": "resolved", "incident": incident.id,
               "category": incident.category, "root_cause": root_cause}  # fmt: skip
        exception_entry(rt, tx, order, actor=who, at=now, context=ctx, key=idempotency_key)
        return closed

    args = {"incident": incident_id, "root_cause": root_cause}
    return rt.once(idempotency_key, "resolve_incident", args, body, Incident, actor=actor)


def every(rt: Runtime, *, actor: Actor | None = None) -> list[Incident]:
    """Every incident, open and resolved; with an Actor, only those of orders it may read."""
    with rt.store.transaction() as tx:
        found = [from_json(body, Incident) for _, body in tx.docs(INCIDENT)]
        if actor is None:
            return found
        factories = {}
        for incident in found:
            if incident.order_id not in factories:
                order = tx.get_order(incident.order_id)
                factories[incident.order_id] = order.factory_id if order else ""
    return [i for i in found if rt.access.allows(actor, factories[i.order_id], "read")]


def sweep_warnings(rt: Runtime, *, escalate_after: float = 2.0) -> list[DueWarning]:
    """Find orders past their stage deadline now; audit each warning once per stage visit."""
    now = rt.now()
    found = due_warnings(rt.store.orders_due(now), now, escalate_after=escalate_after)
    for warning in found:
        level = "escalation" if warning.escalated else "warning"
        with rt.store.transaction() as tx:
            order = rt.load(tx, warning.order_id, for_update=True)
            mark = f"{order.id}/{order.stage}@{to_micros(order.stage_entered_at)}:{level}"
            if order.deadline is None or order.deadline >= now or tx.get_doc(WARNED, mark):
                continue
            tx.put_doc(WARNED, mark, "1")
            ctx = {"action": f"timeout_{level}", "stage": order.stage,
                   "deadline": str(to_micros(order.deadline))}  # fmt: skip
            exception_entry(rt, tx, order, actor="orderflow", at=now, context=ctx)
        rt.committed()
    return found


def record_queries(rt: Runtime, events: Iterable[QueryEvent]) -> int:
    """Store customer query events (sent, opened, viewed, called) in one transaction."""
    count = 0
    with rt.store.transaction() as tx:
        for event in events:
            write_query(tx, event, count)
            count += 1
    return count
