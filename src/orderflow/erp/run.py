"""One sync run's batch application: what each mapped ERP document does in orderflow (R7).

For each document whose content hash changed (or that waits for a delivery):

- a new document that is not an open order (a draft, cancelled or closed) is skipped;
- a new open document is imported;
- a known document un-audited in the ERP is quarantined (reported, not silently kept);
- field changes (header fields, lines; a line closed in the ERP leaves the lines, so it
  stops counting as open demand) become one ``field_update``;
- cancelled in the ERP: the workflow's cancel event;
- covered by outbound bills (returns subtracted): the deliver event, with the covering
  bill's date as when it happened; before the stage deliver leaves, the row *waits*
  and is looked at again on every run;
- closed in the ERP without being covered: the cancel event, naming the closing.

What the ERP says about the order (currency, exchange rate, lines in their order unit,
shipped quantities) is kept with the sync state (:meth:`SyncStateStore.save_facts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from orderflow.clock import Clock
from orderflow.domain import Order
from orderflow.erp.changes import order_changes
from orderflow.erp.convert import plant_zone
from orderflow.erp.documents import ErpOrder, ErpRecord
from orderflow.erp.mapping import ErpMapping
from orderflow.erp.ports import (
    ErpKey,
    ErpSyncStore,
    ErpUnitOfWork,
    QuarantineEntry,
    RowState,
    RowStatus,
    SyncCursor,
)
from orderflow.erp.records import MappedRow, RowMapper
from orderflow.exceptions import AccessDenied, InputError, MappingError, WorkflowError

__all__ = ["BatchRun", "SyncReport"]

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
    skipped: int = 0
    delivered: int = 0
    closed: int = 0
    waiting: int = 0
    unaudited: int = 0
    deleted: int = 0
    watermark: ErpKey | None = None
    seconds: float = 0.0
    new_quarantine: list[QuarantineEntry] = attrs.field(factory=list)

    @property
    def changed(self) -> int:
        """Orders created, updated, cancelled, delivered or closed in this run."""
        return self.imported + self.updated + self.cancelled + self.delivered + self.closed

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-safe builtins (for ``orderflow erp sync --json``)."""
        counts = attrs.asdict(self, filter=lambda a, v: isinstance(v, int) and a.name != "seconds")
        return {
            "stream": self.stream,
            **counts,
            "watermark": self.watermark,
            "seconds": round(self.seconds, 3),
            "quarantine": [
                {"erp_id": q.erp_id, "errors": [dict(e) for e in q.errors]}
                for q in self.new_quarantine
            ],
        }

    def summary(self) -> str:
        """One line for a terminal."""
        extra = ", ".join(
            f"{n} {what}"
            for what, n in (
                ("delivered", self.delivered),
                ("closed", self.closed),
                ("skipped (not open in the ERP)", self.skipped),
                ("waiting for their deliver stage", self.waiting),
                ("un-audited in the ERP", self.unaudited),
                ("gone from the ERP", self.deleted),
            )
            if n
        )
        return (
            f"{self.stream}: {self.imported} imported, {self.updated} updated, "
            f"{self.cancelled} cancelled, {self.unchanged} unchanged, "
            f"{self.quarantined} quarantined, {self.released} released"
            + (f", {extra}" if extra else "")
            + f" ({self.reconciled} reconciled, watermark {self.watermark}, {self.seconds:.2f} s)"
        )


class BatchRun:
    """Applies mapped batches of one run to a store (see the module docstring)."""

    def __init__(
        self,
        store: ErpSyncStore,
        mapping: ErpMapping,
        lookups: Mapping[str, Mapping[str, str]],
        *,
        actor: str,
        clock: Clock,
        cancelled_stage: str,
        delivered_stage: str,
        deliver_from: str,
        report: SyncReport,
    ) -> None:
        self.store = store
        self.mapping = mapping
        self.mapper = RowMapper(mapping, lookups)
        self.actor = actor
        self.clock = clock
        self.cancelled_stage = cancelled_stage
        self.delivered_stage = delivered_stage
        self.deliver_from = deliver_from
        self.report = report
        self.stream = mapping.stream
        self.seen: set[str] = set()

    def apply_batch(self, records: Sequence[ErpRecord], cursor: SyncCursor) -> None:
        """Apply the changed ``records`` and ``cursor`` in one unit of work.

        Content hashes are compared first (a short read), and only changed rows are
        mapped, before the writing transaction opens: an unchanged row costs a hash.
        """
        hashes = {r.erp_id: self.mapper.content_hash(r) for r in records}
        self.seen.update(hashes)
        with self.store.unit_of_work() as uow:
            known = uow.state.row_states(self.stream, list(hashes))
        mapped = {
            r.erp_id: self.mapper.map(r, hashes[r.erp_id])  # pure; before the transaction
            for r in records
            if not _unchanged(known.get(r.erp_id), hashes[r.erp_id])
        }
        with self.store.unit_of_work() as uow:
            known = uow.state.row_states(self.stream, list(hashes))
            states: list[RowState] = []
            for record in records:
                before = known.get(record.erp_id)
                if _unchanged(before, hashes[record.erp_id]):
                    self.report.unchanged += 1
                    continue
                row = mapped.get(record.erp_id) or self.mapper.map(record, hashes[record.erp_id])
                states.append(self._apply(uow, row, before))
            uow.state.save_row_states(self.stream, states)
            uow.state.save_cursor(self.stream, cursor)
        self.report.batches += 1

    def quarantine(
        self,
        uow: ErpUnitOfWork,
        erp_id: str,
        content_hash: str,
        errors: Sequence[MappingError],
        order_id: str | None,
    ) -> RowState:
        """Quarantine a document with every error; the state to save for it."""
        entry = QuarantineEntry(
            erp_id, content_hash, tuple(e.as_dict() for e in errors), self.clock.now()
        )
        uow.state.quarantine(self.stream, entry)
        self.report.quarantined += 1
        self.report.new_quarantine.append(entry)
        return RowState(erp_id, content_hash, "quarantined", order_id)

    def _column(self, *names: str) -> str:
        fields = self.mapping.header.fields
        return next((fields[n].column for n in names if n in fields), self.mapping.header.key)

    def _apply(self, uow: ErpUnitOfWork, row: MappedRow, before: RowState | None) -> RowState:
        m = self.mapping
        order = uow.orders.find_by_erp_id(row.erp_id)
        if order is None and row.inactive:
            self.report.skipped += 1  # a draft, cancelled or closed document: not demand
            self._release(uow, before, row.erp_id)  # nothing left to fix
            return RowState(row.erp_id, row.content_hash, "skipped", None)
        order_id = order.id if order is not None else None
        hkey = f"{m.header.key}={row.erp_id}"
        idem = f"erp:{self.stream}:{row.erp_id}"
        if row.draft is None:
            if order is None or row.inactive != "cancelled":
                return self.quarantine(uow, row.erp_id, row.content_hash, row.errors, order_id)
            # cancelled in the ERP: the header says all that matters, bad lines or not
            try:
                order = self._cancel(uow, order, hkey, idem)
            except _REFUSALS as exc:
                error = MappingError(m.header.table, hkey, self._column("cancelled"), str(exc))
                return self.quarantine(uow, row.erp_id, row.content_hash, [error], order_id)
            self._release(uow, before, row.erp_id)
            return RowState(row.erp_id, row.content_hash, "synced", order.id)
        draft = row.draft
        status: RowStatus = "synced"
        try:
            if order is None:
                order = uow.orders.import_order(
                    draft, actor=self.actor, idempotency_key=f"{idem}:import"
                )
                self.report.imported += 1
            elif not draft.audited:
                self.report.unaudited += 1
                raise MappingError(
                    m.header.table,
                    hkey,
                    self._column("checker", "erp_status"),
                    f"order {order.number} was un-audited in the ERP after orderflow imported "
                    f"it; orderflow keeps it in stage {order.stage!r}: audit it again in the "
                    "ERP, or cancel it in orderflow",
                )
            elif order.stage == self.cancelled_stage and not draft.cancelled:
                raise MappingError(
                    m.header.table,
                    hkey,
                    self._column("cancelled"),
                    f"order {order.number} is cancelled in orderflow but not in the ERP; "
                    "un-cancelling is not supported: enter the order again",
                )
            else:
                changes = order_changes(order, draft, lines=not draft.closed)
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
            order, status = self._stage(uow, draft, order, hkey, idem)
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
            return self.quarantine(uow, row.erp_id, row.content_hash, [error], order_id)
        uow.state.save_facts(self.stream, row.erp_id, draft.facts())
        self._release(uow, before, row.erp_id)
        return RowState(row.erp_id, row.content_hash, status, order.id)

    def _release(self, uow: ErpUnitOfWork, before: RowState | None, erp_id: str) -> None:
        if before is not None and before.status == "quarantined":
            uow.state.release(self.stream, erp_id)
            self.report.released += 1

    def _cancel(self, uow: ErpUnitOfWork, order: Order, hkey: str, idem: str) -> Order:
        if order.stage == self.cancelled_stage:
            return order
        column = self._column("cancelled")
        cancelled = uow.orders.cancel_order(
            order.id,
            f"cancelled in the ERP ({self.mapping.header.table} {hkey}, {column})",
            actor=self.actor,
            idempotency_key=f"{idem}:cancel",
        )
        self.report.cancelled += 1
        return cancelled

    def _stage(
        self, uow: ErpUnitOfWork, draft: ErpOrder, order: Order, hkey: str, idem: str
    ) -> tuple[Order, RowStatus]:
        """Cancellation, delivery and closing: the stage changes an ERP document drives."""
        m = self.mapping
        done = (self.cancelled_stage, self.delivered_stage)
        if draft.cancelled and order.stage != self.cancelled_stage:
            order = self._cancel(uow, order, hkey, idem)
        elif draft.shipped and order.stage not in done:
            if order.stage != self.deliver_from:
                self.report.waiting += 1
                return order, "waiting"
            now = self.clock.now().astimezone(plant_zone(m.timezone))
            day = draft.delivered_on or dt.date(now.year, now.month, now.day)
            bills = sorted({b for ln in draft.erp_lines for b in ln.bills})
            table = m.shipments.table if m.shipments is not None else "ERP"
            order = uow.orders.deliver_order(
                order.id,
                f"shipped in the ERP ({table} {', '.join(bills)}) on {day.isoformat()}",
                delivered_at=_midnight(day, m.timezone),
                actor=self.actor,
                idempotency_key=f"{idem}:deliver",
            )
            self.report.delivered += 1
        elif draft.closed and order.stage not in done:
            order = uow.orders.cancel_order(
                order.id,
                f"closed in the ERP without being fully shipped ({m.header.table} {hkey}, "
                f"{self._column('erp_status', 'closed')})",
                actor=self.actor,
                idempotency_key=f"{idem}:close",
            )
            self.report.closed += 1
        return order, "synced"

    def report_gone(self, upto: ErpKey) -> None:
        """Quarantine synced documents at or below ``upto`` the full pass did not see."""
        m = self.mapping
        where = "; ".join(c.describe() for c in m.header.where) or "none"
        with self.store.unit_of_work() as uow:
            known = [i for i in uow.state.known_ids(self.stream) if i not in self.seen]
            limit = _key(upto)
            ids = [i for i in known if _key(i) <= limit]
            states: list[RowState] = []
            for erp_id, state in uow.state.row_states(self.stream, ids).items():
                if state.status not in ("synced", "waiting") or state.content_hash == "gone":
                    continue
                order = uow.orders.find_by_erp_id(erp_id)
                if order is None or order.stage in (self.cancelled_stage, self.delivered_stage):
                    continue
                self.report.deleted += 1
                error = MappingError(
                    m.header.table,
                    f"{m.header.key}={erp_id}",
                    m.header.key,
                    f"the document is gone from {m.header.table} (deleted in the ERP, or now "
                    f"outside the mapping's where: {where}); orderflow keeps order "
                    f"{order.number} in stage {order.stage!r}: cancel it in orderflow if that "
                    "was intended",
                )
                states.append(self.quarantine(uow, erp_id, "gone", [error], order.id))
            uow.state.save_row_states(self.stream, states)


def _unchanged(before: RowState | None, content_hash: str) -> bool:
    # a waiting row is looked at again even when unchanged: its order's stage may not be
    return before is not None and before.content_hash == content_hash and before.status != "waiting"


def _midnight(day: dt.date, zone: str) -> dt.datetime:
    local = dt.datetime(day.year, day.month, day.day, tzinfo=plant_zone(zone))
    return local.astimezone(dt.UTC)


def _key(value: object) -> tuple[int, Any]:
    text = str(value)
    return (0, int(text)) if text.lstrip("-").isdigit() else (1, text)


def _columns_of(mapping: ErpMapping, fields: frozenset[str]) -> str:
    cols = [spec.column for name, spec in mapping.header.fields.items() if name in fields]
    return ",".join(cols) or mapping.header.key
