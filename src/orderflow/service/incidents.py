"""Exceptions as a closed loop, stage-time warnings and customer query events (R4, R5, R8).

Opening or resolving an incident and raising a timeout warning are ``exception`` audit
entries on the order's chain (they bump the order's version); query events are kept as
compact documents for the self-service metrics.
"""

from __future__ import annotations

import datetime as dt

from orderflow.adapters.rows import from_micros, to_micros
from orderflow.domain.incident import Incident
from orderflow.metrics import QueryEvent
from orderflow.ports import StoreTx
from orderflow.serialization import from_json, to_json

__all__ = [
    "INCIDENT",
    "QUERY",
    "WARNED",
    "read_incident",
    "read_queries",
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


def read_queries(tx: StoreTx, since: dt.datetime | None = None) -> list[QueryEvent]:
    """Query events in time order."""
    out = []
    floor = to_micros(since) if since is not None else None
    for _, body in tx.docs(QUERY):
        order_id, kind, at, shown = body.split("|")
        if floor is not None and int(at) < floor:
            continue
        out.append(QueryEvent(order_id, kind, from_micros(int(at)), shown or None))
    return out
