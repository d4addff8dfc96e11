"""The workflow history read back from the audit log, as metrics want it (R8)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from orderflow.adapters.rows import from_micros
from orderflow.ports import Store
from orderflow.workflow import ChangeRecord

__all__ = ["change_records", "change_records_of"]


def change_records(store: Store, *, chunk: int = 50_000) -> Iterator[ChangeRecord]:
    """Every state change in the log as a :class:`~orderflow.workflow.ChangeRecord`.

    Entries are parsed as plain JSON (verification is :meth:`AuditReader.verify`'s job),
    streamed in chunks so a year of entries never sits in memory twice.
    """
    size = store.audit_size()
    for start in range(0, size, chunk):
        for data in store.audit_entries(start, min(start + chunk, size)):
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
