"""The transactional outbox: every committed audit entry's event, written in the same
transaction (R6, R9).

No event exists without its committed change and no committed change without its
events: :meth:`Runtime.append <orderflow.service.runtime.Runtime.append>` writes the
event beside the entry. A relay (``orderflow relay``) delivers them at least once, in
order per order, with :attr:`OutboxEvent.id` (derived from the entry: origin, chain,
seq) as the de-duplication key, and deletes a row once it is delivered.

Rows are store documents of kind ``outbox`` keyed ``<at µs, 20 digits>/<chain>/<seq, 10
digits>``: key order is time order, and within one chain (one order) it is ``seq`` order,
because a chain's entries are written under the order's row lock. A row points at its
audit entry (chain and seq) instead of copying it; :func:`pending` builds the events. A
transaction that commits late may land behind rows already delivered; the relay reads
every undelivered row on each pass, so nothing is skipped (there is no watermark).

The ``order.submitted`` event carries the customer's query token (``link_token``) so the
customer's link message can be sent: it is the only place the token is ever kept, and
only until the row is delivered and deleted. It never reaches a log line, an audit
entry or an export.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from orderflow.audit import AuditEntry, EntryType, decode
from orderflow.ports import Store, StoreTx
from orderflow.serialization import converter, from_json
from orderflow.service.records import ALERT, PurchasingAlert

__all__ = [
    "OUTBOX",
    "SCHEMA_VERSION",
    "OutboxEvent",
    "alert_event",
    "event_for",
    "pending",
    "write_alert",
    "write_entry",
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


def event_for(
    entry: AuditEntry, *, key: str | None = None, link_token: str | None = None
) -> OutboxEvent:
    """The event of one audit entry (``key``: where its outbox row is kept)."""
    chain = entry.order_id
    key = key or f"{entry.at:020d}/{chain}/{entry.seq:010d}"
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


def alert_event(alert: Any, alert_key: str, key: str) -> OutboxEvent:
    """The ``purchasing.alert`` event of the purchasing alert stored under ``alert_key``."""
    body = {"component": alert.component, "available": str(alert.available),
            "safety_stock": str(alert.safety_stock), "at_us": alert.at_us, "actor": alert.actor,
            "device": alert.device, "batch": alert.batch}  # fmt: skip
    return OutboxEvent(f"alert/{alert_key}", "purchasing.alert", SCHEMA_VERSION, key, body)


def _unstructure(event: OutboxEvent) -> dict[str, Any]:
    # the body is JSON-safe builtins already (it is built from an audit entry); the
    # converter's generic walk over Mapping[str, Any] is several times slower
    return {
        "id": event.id,
        "type": event.type,
        "schema_version": event.schema_version,
        "key": event.key,
        "body": event.body,
        "link_token": event.link_token,
    }


converter.register_unstructure_hook(OutboxEvent, _unstructure)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def write_entry(tx: StoreTx, entry: AuditEntry, *, link_token: str | None = None) -> None:
    """Queue the event of ``entry``, in the caller's transaction.

    The row points at the entry (chain, seq) rather than copying it: the entry is
    immutable and stored in the same transaction, so the relay builds the event from it
    (about 2 us a write instead of a serialised copy).
    """
    # "<seq>|<token>" (the chain is in the key): written after every entry, so no JSON
    body = f"{entry.seq}|{link_token or ''}"
    tx.put_doc(OUTBOX, f"{entry.at:020d}/{entry.order_id}/{entry.seq:010d}", body)


def write_alert(tx: StoreTx, alert_key: str) -> None:
    """Queue the ``purchasing.alert`` event of the alert stored under ``alert_key``."""
    at, component = alert_key.split("/", 1)
    tx.put_doc(OUTBOX, f"{at}/~alert/{component}", f"alert|{alert_key}")


def _row(key: str, body: str) -> dict[str, Any]:
    first, rest = body.split("|", 1)
    if first == "alert":
        return {"alert": rest}
    chain = key.split("/", 1)[1].rsplit("/", 1)[0]
    return {"chain": chain, "seq": int(first), "link_token": rest or None}


def pending(store: Store, limit: int | None = None) -> list[OutboxEvent]:
    """Undelivered events in key order (time order; ``seq`` order within an order),
    built from the audit entries (and alerts) their rows point at."""
    with store.transaction() as tx:
        rows = [(key, _row(key, body)) for key, body in tx.docs(OUTBOX, limit=limit)]
        alerts = {
            row["alert"]: tx.get_doc(ALERT, row["alert"]) for _, row in rows if "alert" in row
        }
    chains: dict[str, dict[int, bytes]] = {}
    for _, row in rows:
        chain = row.get("chain")
        if chain is not None and chain not in chains:
            chains[chain] = {decode(d).seq: d for _, d in store.audit_chain(chain)}
    out = []
    for key, row in rows:
        if "alert" in row:
            body = alerts.get(row["alert"])
            if body is not None:
                out.append(alert_event(from_json(body, PurchasingAlert), row["alert"], key))
            continue
        data = chains[row["chain"]].get(row["seq"])
        if data is not None:  # an entry not yet integrated (PostgreSQL) waits a pass
            out.append(event_for(decode(data), key=key, link_token=row.get("link_token")))
    return out
