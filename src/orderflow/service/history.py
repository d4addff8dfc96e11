"""The workflow history read back from the audit log, as metrics want it (R8)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from orderflow.adapters.rows import from_micros
from orderflow.ports import Store
from orderflow.workflow import ChangeRecord

__all__ = ["change_records"]


def change_records(store: Store, *, chunk: int = 50_000) -> Iterator[ChangeRecord]:
    """Every state change in the log as a :class:`~orderflow.workflow.ChangeRecord`.

    Entries are parsed as plain JSON (verification is :meth:`AuditReader.verify`'s job),
    streamed in chunks so a year of entries never sits in memory twice.
    """
    size = store.audit_size()
    for start in range(0, size, chunk):
        for data in store.audit_entries(start, min(start + chunk, size)):
            if b'"type":"state_change"' not in data:
                continue
            e = json.loads(data)
            if e["type"] != "state_change":
                continue
            ctx = e["ctx"]
            at = from_micros(e["at"])
            occurred = from_micros(int(ctx["occurred"])) if "occurred" in ctx else at
            yield ChangeRecord(
                e["order"],
                e["seq"],
                ctx.get("event", ""),
                e["from"],
                e["to"],
                e["actor"],
                at,
                ctx.get("reason"),
                int(ctx.get("policy", "0")),
                (),
                occurred,
            )
