"""An order's history read back from the audit log: typed entries for people and tools
(R5), and the state changes as the metrics want them (R8)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

import attrs

from orderflow.audit import EntryType, FieldChange
from orderflow.clock import from_micros
from orderflow.logstream import entries
from orderflow.ports import Store
from orderflow.service.codec import decoded_chain
from orderflow.workflow import ChangeRecord

__all__ = ["HistoryEntry", "change_records", "change_records_of", "history"]


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class HistoryEntry:
    """One audit entry of an order (or of the ``policy`` chain), as a reader wants it.

    ``at`` is when it was recorded, ``occurred_at`` when it happened on the floor (the
    same unless the change was keyed in later); both are aware UTC datetimes.
    ``changes`` are the changed fields with their old and new values; ``context`` the
    rest (event, reason, device, batch, check results, ...).
    """

    index: int
    """The entry's position in the whole log."""
    seq: int
    """Its position in the order's chain (the order's version after it)."""
    type: EntryType
    at: dt.datetime
    occurred_at: dt.datetime
    actor: str
    from_stage: str | None
    to_stage: str | None
    changes: tuple[FieldChange, ...]
    context: Mapping[str, str] = attrs.field(converter=_frozen)


def history(store: Store, chain: str) -> list[HistoryEntry]:
    """Every entry of one chain (an order id, ``policy`` or ``stock/<component>``), oldest
    first; an undecodable entry is :class:`~orderflow.TamperDetected`."""
    out = []
    for index, entry in decoded_chain(store.audit_chain(chain)):
        ctx = entry.context_map
        at = from_micros(entry.at)
        occurred = from_micros(int(ctx["occurred"])) if "occurred" in ctx else at
        out.append(
            HistoryEntry(index, entry.seq, entry.type, at, occurred, entry.actor,
                         entry.from_state, entry.to_state, entry.changes, ctx)
        )  # fmt: skip
    return out


def change_records(store: Store, *, chunk: int = 50_000) -> Iterator[ChangeRecord]:
    """Every state change in the log as a :class:`~orderflow.workflow.ChangeRecord`.

    Entries are parsed as plain JSON (verification is :meth:`AuditReader.verify`'s job),
    streamed in chunks so a year of entries never sits in memory twice.
    """
    for data in entries(store, chunk=chunk):
        record = _record(data)
        if record is not None:
            yield record


def change_records_of(store: Store, order_ids: Iterable[str]) -> list[ChangeRecord]:
    """The state changes of a few orders, read from their own chains (no full scan)."""
    out = []
    for order_id in order_ids:
        for _, data in store.audit_chain(order_id):
            record = _record(data)
            if record is not None:
                out.append(record)
    return out


def _record(data: bytes) -> ChangeRecord | None:
    if b'"type":"state_change"' not in data:
        return None
    e = json.loads(data)
    if e["type"] != "state_change":
        return None
    ctx = e["ctx"]
    at = from_micros(e["at"])
    occurred = from_micros(int(ctx["occurred"])) if "occurred" in ctx else at
    return ChangeRecord(
        e["order"], e["seq"], ctx.get("event", ""), e["from"], e["to"], e["actor"], at,
        ctx.get("reason"), int(ctx.get("policy", "0")), (), occurred,
    )  # fmt: skip
