"""The sync engine: ERP documents into orderflow orders, incremental and idempotent (R7, R5).

A run has two passes over an :class:`~orderflow.erp.ports.ErpSource`:

1. **New rows** — documents whose key is above the stream's watermark, in key order.
2. **Reconciliation** — documents synced by earlier runs (at or below the watermark the
   run started with), re-mapped and compared by
   content hash with what was last applied; a changed document becomes a
   ``field_update`` (each changed field with old and new value) or a cancellation.
   ``reconcile=True`` checks every document, an integer checks that many per run
   and continues where the previous run stopped (a rolling pass, for ``follow``).

Each batch is applied in one unit of work: orders, audit entries, content hashes,
quarantine entries and the cursor commit together, so a crash leaves either the whole
batch or none of it. A row that cannot be mapped (or that orderflow refuses) is
quarantined with every :class:`~orderflow.MappingError` (table, row, column, reason)
and the run goes on. Running twice creates nothing new: unchanged hashes are skipped
and every write carries an idempotency key.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from orderflow.clock import Clock, SystemClock
from orderflow.erp.convert import key_text
from orderflow.erp.mapping import ErpMapping
from orderflow.erp.ports import (
    ErpKey,
    ErpSource,
    ErpSyncStore,
    ErpUnitOfWork,
    QuarantineEntry,
    RowState,
    SyncCursor,
)
from orderflow.erp.records import ErpRecord, MappedRow, RowMapper, order_changes
from orderflow.exceptions import (
    AccessDenied,
    InputError,
    MappingError,
    WorkflowError,
)

__all__ = [
    "SyncReport",
    "follow",
    "load_lookups",
    "parse_interval",
    "sync_once",
]

_REFUSALS = (WorkflowError, InputError, AccessDenied, MappingError)
"""Refusals of one row that quarantine it; anything else aborts the batch."""


@attrs.define
class SyncReport:
    """What one sync run did. Counts are documents (orders), not lines."""

    stream: str
    imported: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    quarantined: int = 0
    released: int = 0
    reconciled: int = 0
    batches: int = 0
    watermark: ErpKey | None = None
    seconds: float = 0.0
    new_quarantine: list[QuarantineEntry] = attrs.field(factory=list)

    @property
    def changed(self) -> int:
        """Orders created, updated or cancelled in this run."""
        return self.imported + self.updated + self.cancelled

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-safe builtins (for ``orderflow erp sync --json``)."""
        return {
            "stream": self.stream,
            "imported": self.imported,
            "updated": self.updated,
            "cancelled": self.cancelled,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "released": self.released,
            "reconciled": self.reconciled,
            "batches": self.batches,
            "watermark": self.watermark,
            "seconds": round(self.seconds, 3),
            "quarantine": [
                {"erp_id": q.erp_id, "errors": [dict(e) for e in q.errors]}
                for q in self.new_quarantine
            ],
        }

    def summary(self) -> str:
        """One line for a terminal."""
        return (
            f"{self.stream}: {self.imported} imported, {self.updated} updated, "
            f"{self.cancelled} cancelled, {self.unchanged} unchanged, "
            f"{self.quarantined} quarantined, {self.released} released "
            f"({self.reconciled} reconciled, watermark {self.watermark}, {self.seconds:.2f} s)"
        )


def load_lookups(source: ErpSource, mapping: ErpMapping) -> dict[str, Mapping[str, str]]:
    """Read every code table the mapping names, once."""
    return {name: source.read_lookup(spec) for name, spec in mapping.lookups.items()}


def _cursor_key(raw: object) -> ErpKey:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = key_text(raw)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


class _Run:
    def __init__(
        self,
        source: ErpSource,
        store: ErpSyncStore,
        mapping: ErpMapping,
        lookups: Mapping[str, Mapping[str, str]],
        *,
        actor: str,
        clock: Clock,
        cancelled_stage: str,
        report: SyncReport,
    ) -> None:
        self.source = source
        self.store = store
        self.mapping = mapping
        self.mapper = RowMapper(mapping, lookups)
        self.actor = actor
        self.clock = clock
        self.cancelled_stage = cancelled_stage
        self.report = report
        self.stream = mapping.stream

    def apply_batch(self, records: Sequence[ErpRecord], cursor: SyncCursor) -> None:
        mapped = [self.mapper.map(r) for r in records]  # pure; before the transaction
        with self.store.unit_of_work() as uow:
            known = uow.state.row_states(self.stream, [m.erp_id for m in mapped])
            states: list[RowState] = []
            for row in mapped:
                before = known.get(row.erp_id)
                if before is not None and before.content_hash == row.content_hash:
                    self.report.unchanged += 1
                    continue
                states.append(self._apply(uow, row, before))
            uow.state.save_row_states(self.stream, states)
            uow.state.save_cursor(self.stream, cursor)
        self.report.batches += 1

    def _quarantine(
        self,
        uow: ErpUnitOfWork,
        row: MappedRow,
        errors: Sequence[MappingError],
        order_id: str | None,
    ) -> RowState:
        entry = QuarantineEntry(
            row.erp_id, row.content_hash, tuple(e.as_dict() for e in errors), self.clock.now()
        )
        uow.state.quarantine(self.stream, entry)
        self.report.quarantined += 1
        self.report.new_quarantine.append(entry)
        return RowState(row.erp_id, row.content_hash, "quarantined", order_id)

    def _apply(self, uow: ErpUnitOfWork, row: MappedRow, before: RowState | None) -> RowState:
        m = self.mapping
        order = uow.orders.find_by_erp_id(row.erp_id)
        order_id = order.id if order is not None else None
        if row.draft is None:
            return self._quarantine(uow, row, row.errors, order_id)
        draft = row.draft
        hkey = f"{m.header.key}={row.erp_id}"
        idem = f"erp:{self.stream}:{row.erp_id}"
        try:
            if order is None:
                order = uow.orders.import_order(
                    draft, actor=self.actor, idempotency_key=f"{idem}:import"
                )
                self.report.imported += 1
            elif order.stage == self.cancelled_stage and not draft.cancelled:
                column = (
                    m.header.fields["cancelled"].column
                    if "cancelled" in m.header.fields
                    else m.header.key
                )
                raise MappingError(
                    m.header.table,
                    hkey,
                    column,
                    f"order {order.number} is cancelled in orderflow but not in the ERP; "
                    "un-cancelling is not supported: enter the order again",
                )
            else:
                changes = order_changes(order, draft)
                if changes:
                    order = uow.orders.update_order_fields(
                        order.id,
                        changes.changes,
                        values=changes.values,
                        expected_version=order.version,
                        actor=self.actor,
                        idempotency_key=f"{idem}:v{order.version}:{row.content_hash[:16]}",
                    )
                    self.report.updated += 1
            if draft.cancelled and order.stage != self.cancelled_stage:
                column = m.header.fields["cancelled"].column
                order = uow.orders.cancel_order(
                    order.id,
                    f"cancelled in the ERP ({m.header.table} {hkey}, {column})",
                    actor=self.actor,
                    idempotency_key=f"{idem}:cancel",
                )
                self.report.cancelled += 1
        except _REFUSALS as exc:
            error = (
                exc
                if isinstance(exc, MappingError)
                else MappingError(
                    m.header.table,
                    hkey,
                    _columns_of(m, draft.mapped),
                    f"orderflow refused the change: {exc}",
                )
            )
            return self._quarantine(uow, row, [error], order_id)
        if before is not None and before.status == "quarantined":
            uow.state.release(self.stream, row.erp_id)
            self.report.released += 1
        return RowState(row.erp_id, row.content_hash, "synced", order.id)


def _tqdm() -> Any:
    # tqdm ships no type hints; import it untyped rather than with a type: ignore.
    return importlib.import_module("tqdm").tqdm


def _columns_of(mapping: ErpMapping, fields: frozenset[str]) -> str:
    cols = [spec.column for name, spec in mapping.header.fields.items() if name in fields]
    return ",".join(cols) or mapping.header.key


def sync_once(
    source: ErpSource,
    store: ErpSyncStore,
    mapping: ErpMapping,
    *,
    actor: str = "erp-sync",
    batch_size: int = 500,
    reconcile: bool | int = True,
    max_batches: int | None = None,
    progress: bool | None = None,
    lookups: Mapping[str, Mapping[str, str]] | None = None,
    clock: Clock | None = None,
    cancelled_stage: str = "cancelled",
) -> SyncReport:
    """Run one sync: import new documents, then reconcile changed ones.

    ``reconcile``: ``True`` re-checks every synced document, ``False`` none, an integer
    that many per run (rolling). ``max_batches`` stops the new-row pass early (the next
    run continues from the watermark). ``progress`` shows a tqdm bar on stderr
    (``None``: only for runs over 10,000 documents on a terminal). ``lookups``
    reuses code tables already loaded (:func:`load_lookups`).
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    started = time.monotonic()
    report = SyncReport(mapping.stream)
    tables = lookups if lookups is not None else load_lookups(source, mapping)
    run = _Run(
        source,
        store,
        mapping,
        tables,
        actor=actor,
        clock=clock or SystemClock(),
        cancelled_stage=cancelled_stage,
        report=report,
    )
    with store.unit_of_work() as uow:
        cursor = uow.state.load_cursor(mapping.stream)
    synced_upto = cursor.watermark  # documents above it are imported by this run

    total = None
    if progress is not False:
        total = source.count_orders(mapping, after=cursor.watermark)
        if progress is None:
            progress = total >= 10_000 and sys.stderr.isatty()
    bar = _tqdm()(
        total=total,
        unit="order",
        desc=f"erp sync {mapping.stream}",
        disable=not progress,
        file=sys.stderr,
        leave=False,
    )
    try:
        while max_batches is None or report.batches < max_batches:
            records = source.read_orders(mapping, after=cursor.watermark, limit=batch_size)
            if not records:
                break
            cursor = attrs.evolve(cursor, watermark=_cursor_key(records[-1].key))
            run.apply_batch(records, cursor)
            bar.update(len(records))
            if len(records) < batch_size:
                break
    finally:
        bar.close()

    if reconcile is not False and synced_upto is not None:
        budget = None if reconcile is True else int(reconcile)
        after = cursor.reconcile_after if budget is not None else None
        while budget is None or budget > 0:
            limit = batch_size if budget is None else min(batch_size, budget)
            records = source.read_orders(mapping, after=after, upto=synced_upto, limit=limit)
            done = len(records) < limit
            after = None if done or not records else _cursor_key(records[-1].key)
            cursor = attrs.evolve(cursor, reconcile_after=after)
            if records:
                run.apply_batch(records, cursor)
                report.reconciled += len(records)
            elif budget is not None:
                with store.unit_of_work() as uow:
                    uow.state.save_cursor(mapping.stream, cursor)
            if budget is not None:
                budget -= len(records)
            if done:
                break
    report.watermark = cursor.watermark
    report.seconds = time.monotonic() - started
    return report


_UNITS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}


def parse_interval(text: str) -> float:
    """Seconds in an interval such as ``1s``, ``500ms``, ``2m`` or ``0.5`` (seconds)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text)
    if match is None or Decimal(match.group(1)) <= 0:
        raise InputError(f"not an interval (expected like 1s, 500ms, 2m): {text!r}")
    return float(Decimal(match.group(1)) * _UNITS[match.group(2) or "s"])


def follow(
    source: ErpSource,
    store: ErpSyncStore,
    mapping: ErpMapping,
    *,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    max_runs: int | None = None,
    reconcile_rows: int = 2_000,
    lookup_ttl: float = 30.0,
    on_run: Callable[[SyncReport], None] | None = None,
    **options: Any,
) -> list[SyncReport]:
    """Sync every ``interval`` seconds until ``stop`` is set or ``max_runs`` ran.

    Each run imports new documents and reconciles ``reconcile_rows`` already-synced
    ones (a rolling pass over the whole table). Code tables are re-read every
    ``lookup_ttl`` seconds. ``on_run`` sees each run's report; ``options`` go to
    :func:`sync_once`. Returns the reports of runs that changed something or
    quarantined a row.
    """
    stop = stop or threading.Event()
    reports: list[SyncReport] = []
    lookups: Mapping[str, Mapping[str, str]] | None = None
    loaded_at = 0.0
    runs = 0
    while not stop.is_set() and (max_runs is None or runs < max_runs):
        began = time.monotonic()
        if lookups is None or began - loaded_at >= lookup_ttl:
            lookups, loaded_at = load_lookups(source, mapping), began
        report = sync_once(
            source, store, mapping, reconcile=reconcile_rows, lookups=lookups, **options
        )
        runs += 1
        if on_run is not None:
            on_run(report)
        if report.changed or report.quarantined:
            reports.append(report)
        if max_runs is not None and runs >= max_runs:
            break
        stop.wait(max(0.0, interval - (time.monotonic() - began)))
    return reports
