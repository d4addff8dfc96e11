"""How service operations become audit entries, and how entries replay into orders (R5).

The *created* entry carries every field of the new order, so an order can be rebuilt
from its chain alone; later entries carry only what changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from orderflow.adapters.rows import (
    COLUMNS,
    decode_lines,
    encode_lines,
    from_micros,
    order_from_row,
    order_to_row,
)
from orderflow.audit import AuditEntry, EntryType, decode
from orderflow.domain.order import Order
from orderflow.exceptions import TamperDetected

__all__ = ["created_changes", "replay_entries", "status_timeline"]

# module-level encoders: json.dumps with non-default options builds a new one per call
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_FINGERPRINT = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)

EDITABLE = ("requested_date", "delivery_address", "lines")
"""Fields an edit (``field_update``) may change."""


def created_changes(order: Order) -> dict[str, tuple[None, Any]]:
    """The field changes of a *created* entry: the whole new order as one ``order``
    field (its row as compact JSON), from nothing."""
    return {"order": (None, _COMPACT.encode(order_to_row(order)))}


def field_value(name: str, value: Any) -> Any:
    """A field value as stored in an entry (dates ISO text, lines compact JSON)."""
    if name == "requested_date":
        return value.isoformat()
    if name == "lines":
        return encode_lines(value)
    return value


_ORDER_FIELDS = frozenset(a.name for a in attrs.fields(Order))


def _apply_field(fields: dict[str, Any], name: str, value: Any) -> None:
    if name not in _ORDER_FIELDS:
        return  # a detail such as "lines[0].qty" next to the whole new "lines" value
    if name == "requested_date":
        fields[name] = dt.date.fromisoformat(value)
    elif name == "lines":
        fields[name] = decode_lines(value)
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
            row = entry.changes_map.get("order", (None, None))[1]
            if not isinstance(row, str):
                raise TamperDetected(
                    index, "diverged", f"order {order_id}'s created entry has no order"
                )
            fields.update(order_from_row(json.loads(row)).__dict__)
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
                _apply_field(fields, change.field, change.new)
    if not seen:
        raise TamperDetected(0, "missing", f"order {order_id} has no audit entries")
    order = object.__new__(Order)
    order.__dict__.update(fields)
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
            row = json.loads(str(entry.changes_map["order"][1]))
            out.append((at, str(row[COLUMNS.index("stage")])))
        elif entry.type is EntryType.STATE_CHANGE and entry.to_state:
            out.append((at, entry.to_state))
    return out


def fingerprint(operation: str, args: Mapping[str, Any]) -> str:
    """A stable text fingerprint of a request, to recognise a retried idempotent call."""
    return operation + ":" + _FINGERPRINT.encode(args)
