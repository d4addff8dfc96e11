"""The transactional outbox: every committed audit entry's event, written in the same
transaction (R6, R9).

No event exists without its committed change and no committed change without its
events: :meth:`Runtime.append <orderflow.service.runtime.Runtime.append>` writes the
event beside the entry. A relay (``orderflow relay``) delivers them at least once, in
order per order, with :attr:`OutboxEvent.id` (derived from the entry: origin, chain,
seq) as the de-duplication key, and deletes a row once it is delivered.

Rows are store documents of kind ``outbox`` keyed ``<at µs, 20 digits>/<chain>/<seq, 10
digits>``: key order is time order, and within one chain (one order) it is ``seq`` order,
because a chain's entries are written under the order's row lock. A transaction that
commits late may land behind rows already delivered; the relay reads every undelivered
row on each pass, so nothing is skipped (there is no watermark to overtake).

The ``order.submitted`` event carries the customer's query token (``link_token``) so the
customer's link message can be sent: it is the only place the token is ever kept, and
only until the row is delivered and deleted. It never reaches a log line, an audit
entry or an export.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from orderflow.audit import AuditEntry, EntryType
from orderflow.ports import StoreTx
from orderflow.serialization import from_json, to_json

__all__ = [
    "OUTBOX",
    "SCHEMA_VERSION",
    "OutboxEvent",
    "alert_event",
    "event_for",
    "pending",
    "write",
]

OUTBOX = "outbox"
"""Document kind of undelivered events."""
SCHEMA_VERSION = 1
"""Version of the event bodies (see the events guide's table)."""


@attrs.frozen
class OutboxEvent:
    """One event leaving the process.

    ``type`` is one of ``order.submitted``, ``order.stage_changed``,
    ``order.fields_changed``, ``order.exception`` (incident opened or resolved, timeout
    warning or escalation: ``body["action"]``), ``stock.changed``, ``purchasing.alert``,
    ``policy.changed``. ``body`` holds the entry's facts: order id, chain, seq, actor,
    instant (µs), stages, changed field names, and the context the entry carries.
    """

    id: str
    type: str
    schema_version: int
    key: str
    """Where the row is kept (its order among the undelivered events)."""
    body: Mapping[str, Any]
    link_token: str | None = attrs.field(default=None, repr=False)
    """The customer's query token, on ``order.submitted`` only (never logged)."""


def _type(entry: AuditEntry) -> str:
    chain = entry.order_id
    if entry.type is EntryType.CREATED:
        return "order.submitted"
    if entry.type is EntryType.STATE_CHANGE:
        return "order.stage_changed"
    if entry.type is EntryType.EXCEPTION:
        return "order.exception"
    if entry.type is EntryType.POLICY_CHANGE:
        return "policy.changed"
    return "stock.changed" if chain.startswith("stock/") else "order.fields_changed"


def event_for(entry: AuditEntry, *, link_token: str | None = None) -> OutboxEvent:
    """The event of one audit entry."""
    chain = entry.order_id
    key = f"{entry.at:020d}/{chain}/{entry.seq:010d}"
    changed: dict[str, Any] = {}
    for change in entry.changes:
        # an order's whole payload stays in the log; the event names what changed
        changed[change.field] = None if change.field == "order" else change.new
    body = {
        "chain": chain,
        "seq": entry.seq,
        "at_us": entry.at,
        "actor": entry.actor,
        "from": entry.from_state,
        "to": entry.to_state,
        "changed": changed,
        "context": dict(entry.context),
    }
    return OutboxEvent(f"{entry.origin}/{chain}/{entry.seq}", _type(entry), SCHEMA_VERSION,
                       key, body, link_token)  # fmt: skip


def alert_event(alert: Any, key: str) -> OutboxEvent:
    """The ``purchasing.alert`` event of a stored purchasing alert (R6)."""
    body = {"component": alert.component, "available": str(alert.available),
            "safety_stock": str(alert.safety_stock), "at_us": alert.at_us, "actor": alert.actor,
            "device": alert.device, "batch": alert.batch}  # fmt: skip
    return OutboxEvent(f"alert/{key}", "purchasing.alert", SCHEMA_VERSION, key, body)


def write(tx: StoreTx, event: OutboxEvent) -> None:
    """Keep ``event`` for the relay, in the caller's transaction."""
    tx.put_doc(OUTBOX, event.key, to_json(event))


def pending(tx: StoreTx, limit: int | None = None) -> list[OutboxEvent]:
    """Undelivered events in key order (time order; ``seq`` order within an order)."""
    rows = tx.docs(OUTBOX)
    return [from_json(body, OutboxEvent) for _, body in rows[:limit]]
