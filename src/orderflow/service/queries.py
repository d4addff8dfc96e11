"""Read-side questions answered from the store and the audit log (R5, R9, R11).

Customer and slip lookups never reveal whether an order exists: an unknown or wrong
code gets the same :class:`~orderflow.NotFound` answer as any other.
"""

from __future__ import annotations

import datetime as dt
import hmac

from orderflow.audit import (
    AuditLog,
    Checkpoint,
    EntryType,
    MerkleTree,
    leaf_hash,
    verify_log,
)
from orderflow.domain import Component, Order, Product
from orderflow.domain.order import query_token_hash
from orderflow.exceptions import NotFound, TamperDetected
from orderflow.ports import Store
from orderflow.service import records
from orderflow.service.audit_codec import decoded_chain, replay_entries, status_timeline
from orderflow.service.views import CustomerStatus, Shortage, SlipStatus, StageVisit
from orderflow.workflow import Workflow, kitting_requirements
from orderflow.workflow.facts import Facts

__all__ = [
    "STAGE_LABELS",
    "AuditReader",
    "customer_status",
    "slip_status",
]

STAGE_LABELS = {
    "pending_review": "Order received, under review / 订单审核中",
    "kitting_locked": "Materials reserved / 物料已齐套锁定",
    "production_dispatched": "In production / 生产中",
    "qc_released": "Passed quality control / 质检放行",
    "delivered": "Delivered / 已签收",
    "cancelled": "Cancelled / 已取消",
    "on_hold": "On hold / 暂停",
}
_UNKNOWN = "query code"


def customer_status(store: Store, token: str) -> CustomerStatus:
    """The customer view for a secret query token (R9)."""
    with store.transaction() as tx:
        order_id = tx.find_order_id("query_token_hash", query_token_hash(token))
        order = None if order_id is None else tx.get_order(order_id)
    if order is None:
        raise NotFound("order", _UNKNOWN)
    timeline = status_timeline(decoded_chain(store.audit_chain(order.id)))
    expected = None if order.stage in ("delivered", "cancelled") else order.requested_date
    return CustomerStatus(
        number=order.number,
        stage=order.stage,
        stage_label=STAGE_LABELS.get(order.stage, order.stage),
        since=timeline[-1][0] if timeline else order.stage_entered_at,
        expected_departure=expected,
        history=tuple(StageVisit(stage, at) for at, stage in timeline),
    )


def slip_status(
    store: Store, workflow: Workflow, number: str, code: str, today: dt.date
) -> SlipStatus:
    """The three key facts behind a scanned paper slip (R11): shortages, the latest
    failed QC batch and a recommended alternative supplier."""
    with store.transaction() as tx:
        order_id = tx.find_order_id("number", number)
        order = None if order_id is None else tx.get_order(order_id)
        if order is None or not hmac.compare_digest(
            order.verification_code.encode(), code.encode()
        ):
            raise NotFound("order", _UNKNOWN)
        products = {}
        for line in order.lines:
            product = records.get_typed(tx, Product, line.product)
            if product is not None:
                products[product.code] = product
        facts = Facts(today=today, products=products)
        needs = kitting_requirements(order, facts, workflow.policy)
        shortages = []
        for component, (_, required) in sorted(needs.items()):
            available = records.read_stock(tx, component).position.available
            if order.stage == "pending_review" and available < required:
                master = records.get_typed(tx, Component, component)
                # an alternative: a listed supplier with no pending PO for this component,
                # else one whose POs are not late; never the one already failing to deliver
                pos = records.inbound_pos(tx, component)
                limit = workflow.policy.po_overdue_days
                busy = {po.supplier for po in pos if po.status.pending}
                late = {po.supplier for po in pos if po.days_late(today) > limit}
                listed = master.suppliers if master is not None else ()
                alternative = next((s for s in listed[1:] if s not in busy), None) or next(
                    (s for s in listed if s not in late and s not in busy), None
                )
                shortages.append(
                    Shortage(
                        component,
                        master.label if master else component,
                        available,
                        required,
                        alternative,
                    )
                )
    failed_batch = None
    for _, entry in reversed(decoded_chain(store.audit_chain(order.id))):
        ctx = entry.context_map
        if (
            entry.type is EntryType.STATE_CHANGE
            and entry.from_state == "qc_released"
            and entry.to_state == "production_dispatched"
        ):
            failed_batch = ctx.get("batch") or ctx.get("reason")
            break
    recommended = next((s.alternative_supplier for s in shortages if s.alternative_supplier), None)
    return SlipStatus(order.number, order.stage, tuple(shortages), failed_batch, recommended)


class AuditReader:
    """Verification, replay and proofs over a store's audit log (R5)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._tree = MerkleTree()

    def tree(self) -> MerkleTree:
        """The Merkle tree of the whole stored log (extended incrementally)."""
        size = self.store.audit_size()
        if size < self._tree.size:
            self._tree = MerkleTree()
        if size > self._tree.size:
            for data in self.store.audit_entries(self._tree.size, size):
                self._tree.append(leaf_hash(data))
        return self._tree

    def checkpoint(self) -> Checkpoint:
        """The current checkpoint (origin, size, root)."""
        tree = self.tree()
        return Checkpoint(self.store.origin, tree.size, tree.root())

    def verify(self, expected: Checkpoint | None = None, *, deep: bool = False) -> Checkpoint:
        """Verify every entry, chain and the root; with ``deep``, replay every order too.

        Raises :class:`~orderflow.TamperDetected` naming the first bad entry; a deep
        check also reports an order row that differs from its replayed history
        (kind ``diverged``).
        """
        checkpoint = verify_log(self.store.audit_entries(), expected, origin=self.store.origin)
        if deep:
            for order in self.store.orders():
                replayed = self.replay(order.id)
                if replayed != order:
                    first = self.store.audit_chain(order.id)[-1][0]
                    fields = [
                        f for f in order.__dict__ if order.__dict__[f] != replayed.__dict__.get(f)
                    ]
                    raise TamperDetected(
                        first,
                        "diverged",
                        f"order {order.number} row differs from its audit history in {fields}",
                    )
        return checkpoint

    def replay(self, order_id: str) -> Order:
        """Rebuild an order from its audit entries alone."""
        return replay_entries(order_id, decoded_chain(self.store.audit_chain(order_id)))

    def status_as_of(self, order_id: str, instant: dt.datetime) -> str | None:
        """The order's stage at ``instant`` (when things happened on the floor), or
        ``None`` before the order existed."""
        timeline = status_timeline(decoded_chain(self.store.audit_chain(order_id)))
        if not timeline:
            raise NotFound("order", order_id)
        stage = None
        for at, entered in timeline:
            if at <= instant:
                stage = entered
        return stage

    def log(self) -> AuditLog:
        """The stored log loaded into memory (each entry re-checked), e.g. for bundles."""
        return AuditLog.load(self.store.origin, self.store.audit_entries())
