"""From the audit log to events and objects: what each entry becomes, and what is left out.

Streamed: :func:`log_entries` reads the log in chunks of ``store.audit_entries(start,
stop)``, so a year of entries is never in memory at once. Every entry becomes exactly one
event (:func:`event_of`); a ``created`` entry also yields its order and order lines
(:func:`order_objects`); customers, products (with their BOM) and components come from
the store's master data (:func:`master_objects`).

No secret leaves: payload fields and context keys are *allow-listed*, so the query
token's hash in a ``created`` payload, the slip code a 0.1.0 payload carried, and any
field added later stay out unless named here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal

import attrs

from orderflow.audit import AuditEntry, EntryType
from orderflow.clock import from_micros
from orderflow.domain import Component, Customer, Product
from orderflow.export.model import OcelAttribute, OcelEvent, OcelObject, Relationship
from orderflow.logstream import decoded
from orderflow.ports import Store
from orderflow.serialization import from_json
from orderflow.service.codec import V1_COLUMNS

__all__ = [
    "CHUNK",
    "POLICY_OBJECT",
    "OrderFacts",
    "activity",
    "event_of",
    "log_entries",
    "master_objects",
    "order_facts",
    "order_objects",
]

CHUNK = 20_000
"""Entries read per query while streaming the log."""

# context keys exported as event attributes (anything else, e.g. a future secret, stays)
_CONTEXT_KEYS = (
    "action", "batch", "category", "device", "direction", "held_from", "incident",
    "note", "reason", "root_cause", "stage",
)  # fmt: skip
# changed fields that are never exported, whatever chain they are on
_SECRET_FIELDS = frozenset({"query_token_hash", "query_token", "verification_code", "slip_code"})
_STOCK = "stock/"
POLICY_OBJECT = "policy"
"""The one object the policy changes relate to."""


def order_id_of(order_id: str) -> str:
    """The OCEL object id of an order."""
    return f"order:{order_id}"


def log_entries(store: Store, *, chunk: int = CHUNK) -> Iterator[tuple[int, AuditEntry]]:
    """Every audit entry with its global index, oldest first, read ``chunk`` at a time.

    An entry that does not decode is :class:`~orderflow.TamperDetected` (an export of a
    damaged log would silently drop evidence).
    """
    return decoded(store, chunk=chunk)


@attrs.frozen
class OrderFacts:
    """The exportable facts of a ``created`` payload: number, customer, factory, the
    requested date (ISO text) and the lines as ``(product, qty, unit price)`` text."""

    number: str
    customer_id: str
    factory_id: str
    requested_date: str
    lines: tuple[tuple[str, str, str], ...]


def order_facts(entry: AuditEntry) -> OrderFacts:
    """The :class:`OrderFacts` of a ``created`` entry (either payload version)."""
    data = json.loads(str(entry.changes_map["order"][1]))
    if entry.version == 1:
        # 0.1.0 kept a positional row, slip code included: read only what is exported
        row = dict(zip(V1_COLUMNS, data, strict=True))
        lines = tuple((p, str(q), str(u)) for p, q, u in json.loads(row["lines"]))
    else:
        row = data
        lines = tuple((x["product"], str(x["qty"]), str(x["unit_price"])) for x in row["lines"])
    return OrderFacts(
        row["number"], row["customer_id"], row["factory_id"], str(row["requested_date"]), lines
    )


def _time(entry: AuditEntry) -> dt.datetime:
    occurred = entry.context_map.get("occurred")
    return from_micros(int(occurred) if occurred else entry.at)


def activity(entry: AuditEntry) -> str:
    """The activity name of an entry (what an analyst sees on a process map)."""
    ctx = entry.context_map
    if entry.type is EntryType.CREATED:
        return "submit order"
    if entry.type is EntryType.STATE_CHANGE:
        return ctx.get("event") or f"{entry.from_state} to {entry.to_state}"
    if entry.type is EntryType.EXCEPTION:
        action = ctx.get("action", "")
        if action in ("opened", "resolved"):
            return f"incident {action}"
        return action.replace("_", " ") or "exception"
    if entry.type is EntryType.POLICY_CHANGE:
        return "change policy"
    if entry.order_id.startswith(_STOCK):
        return f"stock scan {ctx.get('direction', '')}".strip()
    return "edit order"


def event_of(index: int, entry: AuditEntry, facts: OrderFacts | None = None) -> OcelEvent:
    """The one event of an audit entry; ``facts`` (of a ``created`` entry) add its
    customer, factory, lines and products to the relations."""
    ctx = entry.context_map
    attributes = [
        OcelAttribute("actor", entry.actor),
        OcelAttribute("recorded_at", from_micros(entry.at)),
        OcelAttribute("log_index", index),
        OcelAttribute("seq", entry.seq),
    ]
    if "policy" in ctx:
        attributes.append(OcelAttribute("policy_version", int(ctx["policy"])))
    if entry.from_state is not None:
        attributes.append(OcelAttribute("from_stage", entry.from_state))
    if entry.to_state is not None:
        attributes.append(OcelAttribute("to_stage", entry.to_state))
    attributes += [OcelAttribute(k, ctx[k]) for k in _CONTEXT_KEYS if k in ctx]
    if entry.type is not EntryType.CREATED:
        for change in entry.changes:
            if change.field in _SECRET_FIELDS:
                continue
            attributes.append(OcelAttribute(change.field, _text(change.new)))
            attributes.append(OcelAttribute(f"{change.field}_before", _text(change.old)))
    relations: list[Relationship] = []
    chain = entry.order_id
    if chain.startswith(_STOCK):
        relations.append(Relationship(f"component:{chain[len(_STOCK) :]}", "component"))
    elif entry.type is EntryType.POLICY_CHANGE:
        # the plant's policy is an object of its own: an event without any object is
        # legal OCEL, but tools drop it, and a policy change is worth seeing on the map
        relations.append(Relationship(POLICY_OBJECT, "policy"))
    else:
        relations.append(Relationship(order_id_of(chain), "order"))
    if facts is not None:
        relations.append(Relationship(f"customer:{facts.customer_id}", "customer"))
        relations.append(Relationship(f"factory:{facts.factory_id}", "factory"))
        for n, _ in enumerate(facts.lines, 1):
            relations.append(Relationship(f"line:{chain}#{n}", "line"))
        for product in sorted({p for p, _, _ in facts.lines}):
            relations.append(Relationship(f"product:{product}", "product"))
    return OcelEvent(
        f"e{index}", activity(entry), _time(entry), tuple(attributes), tuple(relations)
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def order_objects(
    entry: AuditEntry, facts: OrderFacts, later_dates: Sequence[tuple[dt.datetime, str]] = ()
) -> list[OcelObject]:
    """The order and its lines from a ``created`` entry; ``later_dates`` are the
    requested dates agreed later (when, which), exported as the attribute's history."""
    oid = order_id_of(entry.order_id)
    dates = [OcelAttribute("requested_date", facts.requested_date)]
    dates += [OcelAttribute("requested_date", value, at) for at, value in later_dates]
    lines = [
        OcelObject(
            f"line:{entry.order_id}#{n}",
            "order_line",
            (
                OcelAttribute("line_no", n),
                OcelAttribute("qty", _decimal(qty)),
                OcelAttribute("unit_price", _decimal(price)),
            ),
            (Relationship(f"product:{product}", "product"),),
        )
        for n, (product, qty, price) in enumerate(facts.lines, 1)
    ]
    order = OcelObject(
        oid,
        "order",
        (OcelAttribute("number", facts.number), *dates),
        (
            Relationship(f"customer:{facts.customer_id}", "placed by"),
            Relationship(f"factory:{facts.factory_id}", "made at"),
            *(Relationship(line.id, "contains") for line in lines),
        ),
    )
    return [order, *lines]


def _decimal(text: str) -> str:
    # normalised exact text: "197", "644.50"; a reader converts it, nothing rounds here
    return str(Decimal(text))


def master_objects(
    store: Store, factories: set[str], *, policy: bool = False
) -> Iterator[OcelObject]:
    """Customers, products (related to their BOM components), components, ``factories``
    and, if ``policy``, the policy object.

    Read from the store's master data documents; customers' credit figures stay out.
    """
    with store.transaction() as tx:
        customers = tx.docs("customer")
        products = tx.docs("product")
        components = tx.docs("component")
    for _, body in customers:
        c = from_json(body, Customer)
        yield OcelObject(f"customer:{c.id}", "customer", (OcelAttribute("name", c.name),))
    for _, body in products:
        p = from_json(body, Product)
        bom = tuple(Relationship(f"component:{b.component}", "bom") for b in p.bom)
        yield OcelObject(
            f"product:{p.code}",
            "product",
            (OcelAttribute("name", p.name), OcelAttribute("kind", p.kind.value)),
            bom,
        )
    for _, body in components:
        k = from_json(body, Component)
        yield OcelObject(
            f"component:{k.code}",
            "component",
            (
                OcelAttribute("name", k.name),
                OcelAttribute("imported", k.imported),
                OcelAttribute("lead_time_days", k.lead_time_days),
                OcelAttribute("safety_stock", str(k.safety_stock)),
            ),
        )
    for factory in sorted(factories):
        yield OcelObject(f"factory:{factory}", "factory")
    if policy:
        yield OcelObject(POLICY_OBJECT, "policy")
