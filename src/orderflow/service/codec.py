"""How orders live in audit entries, and how entries replay into orders (R5).

An entry's payload describes itself: the ``created`` entry carries the new order as
named fields, unstructured by the one cattrs converter (:mod:`orderflow.serialization`),
so no reader depends on any adapter's row layout. Later entries carry only what changed.
The entry's ``v`` field versions the payload (see the audit guide's payload table):

* ``v`` 2: the ``order`` change of a ``created`` entry is the JSON object of the order's
  fields; ``lines`` values are JSON lists of ``{product, qty, unit_price}`` objects.
* ``v`` 1 (orderflow 0.1.0): the ``order`` change is a JSON array in the column order of
  0.1.0's SQL table (:data:`V1_COLUMNS`, frozen here), ``lines`` values are
  ``[[product, qty, unit_price], ...]``; it included the slip code, which is ignored.

Neither the query token nor the slip code is ever part of a payload.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from orderflow.audit import AuditEntry, EntryType, decode
from orderflow.clock import from_micros
from orderflow.domain.order import Order, OrderLine
from orderflow.exceptions import TamperDetected
from orderflow.serialization import converter

__all__ = [
    "EDITABLE",
    "V1_COLUMNS",
    "created_changes",
    "decoded_chain",
    "field_value",
    "fingerprint",
    "order_payload",
    "replay_entries",
    "status_timeline",
]

# module-level encoders: json.dumps with non-default options builds a new one per call
# no sort_keys: the converter gives attrs field order, fixed by the class (a payload is a
# text value inside the canonical entry, so its own key order is free to be that)
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_FINGERPRINT = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)
_QUOTE = json.encoder.encode_basestring  # what that encoder quotes text with

EDITABLE = ("requested_date", "delivery_address", "lines")
"""Fields an edit (``field_update``) may change."""

V1_COLUMNS = (
    "id", "number", "customer_id", "factory_id", "stage", "version", "requested_date",
    "created_at", "stage_entered_at", "held_from", "query_token_hash", "verification_code",
    "delivery_address", "erp_id", "erp_number", "deadline", "lines",
)  # fmt: skip
"""The positional layout of a version-1 ``created`` payload (orderflow 0.1.0). Frozen:
it describes entries already written, whatever the SQL tables look like today."""

_unstructure_order = converter.get_unstructure_hook(Order)
_unstructure_lines = converter.get_unstructure_hook(tuple[OrderLine, ...])
_ORDER_FIELDS = frozenset(a.name for a in attrs.fields(Order))


def order_payload(order: Order) -> str:
    """The order as the compact JSON object of its named fields (a ``created`` payload)."""
    return _COMPACT.encode(_unstructure_order(order))


def created_changes(order: Order) -> dict[str, tuple[None, Any]]:
    """The field changes of a *created* entry: the whole new order, from nothing."""
    return {"order": (None, order_payload(order))}


@functools.lru_cache(maxsize=4096)
def _lines_text(lines: tuple[OrderLine, ...]) -> str:
    # cached: an order's lines are immutable and written with every edit
    return _COMPACT.encode(_unstructure_lines(lines))


def field_value(name: str, value: Any) -> Any:
    """A field value as stored in an entry (dates ISO text, lines compact JSON)."""
    if name == "requested_date":
        return value.isoformat()
    if name == "lines":
        return _lines_text(value)
    return value


@functools.lru_cache(maxsize=4096)
def _read_lines(text: str, version: int) -> tuple[OrderLine, ...]:
    data = json.loads(text)
    if version == 1:
        return tuple(OrderLine(p, Decimal(q), Decimal(u)) for p, q, u in data)
    return converter.structure(data, tuple[OrderLine, ...])


def _order_from_v1(text: str) -> dict[str, Any]:
    row = dict(zip(V1_COLUMNS, json.loads(text), strict=True))
    row.pop("verification_code")
    deadline = row["deadline"]
    return {
        **row,
        "lines": _read_lines(row["lines"], 1),
        "requested_date": dt.date.fromisoformat(row["requested_date"]),
        "created_at": from_micros(row["created_at"]),
        "stage_entered_at": from_micros(row["stage_entered_at"]),
        "deadline": None if deadline is None else from_micros(deadline),
    }


def _order_fields(text: str, version: int) -> dict[str, Any]:
    if version == 1:
        return _order_from_v1(text)
    return dict(converter.structure(json.loads(text), Order).__dict__)


def _apply_field(fields: dict[str, Any], name: str, value: Any, version: int) -> None:
    if name not in _ORDER_FIELDS:
        return  # a detail such as "lines[0].qty" next to the whole new "lines" value
    if name == "requested_date":
        fields[name] = dt.date.fromisoformat(value)
    elif name == "lines":
        fields[name] = _read_lines(value, version)
    elif name in ("created_at", "deadline"):
        fields[name] = None if value is None else from_micros(value)
    else:
        fields[name] = value


def replay_entries(order_id: str, entries: Iterable[tuple[int, AuditEntry]]) -> Order:
    """Rebuild an order from its chain's decoded entries (``(global index, entry)``)."""
    fields: dict[str, Any] = {"id": order_id, "held_from": None, "deadline": None}
    seen = False
    for index, entry in entries:
        if not seen:
            if entry.type is not EntryType.CREATED:
                raise TamperDetected(
                    index, "diverged", f"order {order_id}'s chain does not start with 'created'"
                )
            payload = entry.changes_map.get("order", (None, None))[1]
            if not isinstance(payload, str):
                raise TamperDetected(
                    index, "diverged", f"order {order_id}'s created entry has no order"
                )
            try:
                fields.update(_order_fields(payload, entry.version))
            except (ValueError, TypeError, KeyError) as exc:
                raise TamperDetected(
                    index, "diverged", f"order {order_id}'s created entry is unreadable: {exc}"
                ) from None
            fields["stage_entered_at"] = from_micros(entry.at)
            fields["version"] = entry.seq
            seen = True
            continue
        fields["version"] = entry.seq
        ctx = entry.context_map
        if entry.type is EntryType.STATE_CHANGE:
            fields["stage"] = entry.to_state
            fields["stage_entered_at"] = from_micros(entry.at)
            fields["held_from"] = ctx.get("held_from") or None
            deadline = ctx.get("deadline")
            fields["deadline"] = from_micros(int(deadline)) if deadline else None
        elif entry.type is EntryType.FIELD_UPDATE:
            for change in entry.changes:
                _apply_field(fields, change.field, change.new, entry.version)
    if not seen:
        raise TamperDetected(0, "missing", f"order {order_id} has no audit entries")
    order = object.__new__(Order)
    order.__dict__.update({k: v for k, v in fields.items() if k in _ORDER_FIELDS})
    return order


def decoded_chain(stored: Iterable[tuple[int, bytes]]) -> list[tuple[int, AuditEntry]]:
    """Decode a chain's stored bytes, reporting undecodable bytes as tampering."""
    out = []
    for index, data in stored:
        try:
            out.append((index, decode(data)))
        except ValueError as exc:
            raise TamperDetected(index, "edited", str(exc)) from None
    return out


def created_stage(entry: AuditEntry) -> str:
    """The stage a ``created`` entry's order started in (either payload version)."""
    payload = json.loads(str(entry.changes_map["order"][1]))
    if entry.version == 1:
        return str(payload[V1_COLUMNS.index("stage")])
    return str(payload["stage"])


def status_timeline(entries: Iterable[tuple[int, AuditEntry]]) -> list[tuple[dt.datetime, str]]:
    """``(instant, stage)`` each time the order entered a stage, oldest first.

    The instant is when the change happened on the floor (``occurred`` in the entry's
    context) when known, else when it was recorded.
    """
    out: list[tuple[dt.datetime, str]] = []
    for _, entry in entries:
        ctx = entry.context_map
        at = from_micros(int(ctx["occurred"])) if "occurred" in ctx else from_micros(entry.at)
        if entry.type is EntryType.CREATED:
            out.append((at, created_stage(entry)))
        elif entry.type is EntryType.STATE_CHANGE and entry.to_state:
            out.append((at, entry.to_state))
    return out


def fingerprint(operation: str, args: Mapping[str, Any]) -> str:
    """A stable text fingerprint of a request, to recognise a retried idempotent call.

    Stored beside every idempotency key, so its text never changes: ``json`` with sorted
    keys. A flat map of text, ``None`` and integers (a fired event's arguments) is
    written here directly, as ``json`` writes it, without building an encoder per call.
    """
    parts = []
    for name in sorted(args):
        value = args[name]
        kind = type(value)
        if kind is str:
            parts.append(f"{_QUOTE(name)}: {_QUOTE(value)}")
        elif value is None:
            parts.append(f"{_QUOTE(name)}: null")
        elif kind is int:
            parts.append(f"{_QUOTE(name)}: {int.__repr__(value)}")
        else:
            return operation + ":" + _FINGERPRINT.encode(args)
    return operation + ":{" + ", ".join(parts) + "}"
