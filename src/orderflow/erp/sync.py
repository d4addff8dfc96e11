"""The sync engine: ERP documents into orderflow orders, incremental and idempotent (R7, R5).

A run has two passes over an :class:`~orderflow.erp.ports.ErpSource`:

1. **New rows** — documents whose key is above the stream's watermark, in key order.
2. **Reconciliation** — documents synced by earlier runs (at or below the watermark the
   run started with), re-mapped and compared by
   content hash with what was last applied; a changed document becomes a
   ``field_update`` (each changed field with old and new value), a cancellation, a
   delivery or a closing (see :mod:`orderflow.erp.run`).
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
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from orderflow.clock import Clock, SystemClock
from orderflow.erp.convert import key_text
from orderflow.erp.mapping import ErpMapping
from orderflow.erp.ports import ErpKey, ErpSource, ErpSyncStore
from orderflow.erp.run import BatchRun, SyncReport
from orderflow.exceptions import InputError

__all__ = [
    "SyncReport",
    "follow",
    "load_lookups",
    "parse_interval",
    "sync_once",
]


def load_lookups(source: ErpSource, mapping: ErpMapping) -> dict[str, Mapping[str, str]]:
    """Read every code table the mapping names, once."""
    return {name: source.read_lookup(spec) for name, spec in mapping.lookups.items()}


def _cursor_key(raw: object) -> ErpKey:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = key_text(raw)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _tqdm() -> Any:
    # tqdm ships no type hints; import it untyped rather than with a type: ignore.
    return importlib.import_module("tqdm").tqdm


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
    delivered_stage: str = "delivered",
    deliver_from: str = "qc_released",
) -> SyncReport:
    """Run one sync: import new documents, then reconcile changed ones.

    ``reconcile``: ``True`` re-checks every synced document, ``False`` none, an integer
    that many per run (rolling). ``max_batches`` stops the new-row pass early (the next
    run continues from the watermark). ``progress`` shows a tqdm bar on stderr
    (``None``: only for runs over 10,000 documents on a terminal). ``lookups``
    reuses code tables already loaded (:func:`load_lookups`). ``deliver_from`` is the
    stage the workflow's deliver event leaves: an order the ERP has shipped is delivered
    from there, and waits before it. A full reconciliation (``reconcile=True``) also
    reports synced documents that are gone from the ERP.
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    started = time.monotonic()
    report = SyncReport(mapping.stream)
    tables = lookups if lookups is not None else load_lookups(source, mapping)
    run = BatchRun(
        store,
        mapping,
        tables,
        actor=actor,
        clock=clock or SystemClock(),
        cancelled_stage=cancelled_stage,
        delivered_stage=delivered_stage,
        deliver_from=deliver_from,
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
        if budget is None:
            run.report_gone(synced_upto)
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
