"""What customers and paper slips are answered (R9, R11).

Neither lookup reveals whether an order exists: an unknown query code, an unknown slip
number and a wrong slip code all get the same :class:`~orderflow.NotFound` message.
Stage names come from the workflow definition's one label table.
"""

from __future__ import annotations

import datetime as dt
import hmac

from orderflow.audit import EntryType
from orderflow.domain import Component, Order, Product
from orderflow.domain.order import query_token_hash
from orderflow.exceptions import InputError, NotFound
from orderflow.ports import StoreTx
from orderflow.service import records
from orderflow.service.codec import decoded_chain, status_timeline
from orderflow.service.logmeta import slip_code, slip_key
from orderflow.service.runtime import ActorLike, Runtime
from orderflow.service.views import CustomerStatus, Shortage, SlipStatus, StageVisit
from orderflow.workflow import Workflow, kitting_requirements
from orderflow.workflow.facts import Facts

__all__ = ["NO_SUCH_CODE", "NO_SUCH_SLIP", "customer_status", "order_slip_code", "slip_status"]

NO_SUCH_CODE = "no order for this query code / 查询码无对应订单"
"""The one answer to an unknown or wrong customer query code."""
NO_SUCH_SLIP = "no order for this slip number and code / 单号与验证码不匹配"
"""The one answer to an unknown slip number or a wrong slip code."""


def customer_status(rt: Runtime, token: str) -> CustomerStatus:
    """The customer view for a secret query token (R9)."""
    if not isinstance(token, str):
        raise InputError(f"a query code is text, not {type(token).__name__}")
    store = rt.store
    with store.transaction() as tx:
        order_id = tx.find_order_id("query_token_hash", query_token_hash(token))
        order = None if order_id is None else tx.get_order(order_id)
    if order is None:
        raise NotFound("order", "", NO_SUCH_CODE)
    timeline = status_timeline(decoded_chain(store.audit_chain(order.id)))
    definition = rt.workflow.definition
    expected = None if order.stage in definition.terminal else order.requested_date
    return CustomerStatus(
        number=order.number,
        stage=order.stage,
        stage_label=str(definition.label(order.stage)),
        since=timeline[-1][0] if timeline else order.stage_entered_at,
        expected_departure=expected,
        history=tuple(StageVisit(stage, at) for at, stage in timeline),
    )


def order_slip_code(rt: Runtime, order_id: str, *, actor: ActorLike) -> str:
    """The 6-digit code to print on an order's paper slip (staff only; R10 scope checked)."""
    with rt.store.transaction() as tx:
        order = rt.load(tx, order_id)
        rt.who(actor, order.factory_id, "read")
        return slip_code(slip_key(tx), order.id)


def _alternative(tx: StoreTx, master: Component | None, component: str, rt: Runtime,
                 today: dt.date) -> str | None:  # fmt: skip
    # a listed supplier with no pending PO for this component, else one whose POs are
    # not late; never the one already failing to deliver
    pos = records.inbound_pos(tx, component)
    limit = rt.policy.po_overdue_days
    busy = {po.supplier for po in pos if po.status.pending}
    late = {po.supplier for po in pos if po.days_late(today) > limit}
    listed = master.suppliers if master is not None else ()
    return next((s for s in listed[1:] if s not in busy), None) or next(
        (s for s in listed if s not in late and s not in busy), None
    )


def slip_status(rt: Runtime, number: str, code: str) -> SlipStatus:
    """The three key facts behind a scanned paper slip (R11): shortages, the latest
    failed QC batch and a recommended alternative supplier."""
    if not isinstance(number, str) or not isinstance(code, str):
        raise InputError("a slip lookup takes the order number and the 6-digit code as text")
    today = rt.local_date(rt.now())
    workflow: Workflow = rt.workflow
    with rt.store.transaction() as tx:
        order_id = tx.find_order_id("number", number)
        order: Order | None = None if order_id is None else tx.get_order(order_id)
        expected = slip_code(slip_key(tx), order.id if order else "-")
        if order is None or not hmac.compare_digest(expected.encode(), code.encode()):
            raise NotFound("order", "", NO_SUCH_SLIP)
        products = {}
        for line in order.lines:
            product = records.get_typed(tx, Product, line.product)
            if product is not None:
                products[product.code] = product
        facts = Facts(today=today, products=products)
        shortages = []
        for component, (_, required) in sorted(
            kitting_requirements(order, facts, workflow.policy).items()
        ):
            available = records.read_stock(tx, component).position.available
            if order.stage == workflow.definition.initial and available < required:
                master = records.get_typed(tx, Component, component)
                shortages.append(
                    Shortage(component, master.label if master else component, available,
                             required, _alternative(tx, master, component, rt, today))
                )  # fmt: skip
    failed_batch = None
    for _, entry in reversed(decoded_chain(rt.store.audit_chain(order.id))):
        if (
            entry.type is EntryType.STATE_CHANGE
            and entry.from_state == "qc_released"
            and entry.to_state == "production_dispatched"
        ):
            ctx = entry.context_map
            failed_batch = ctx.get("batch") or ctx.get("reason")
            break
    recommended = next((s.alternative_supplier for s in shortages if s.alternative_supplier), None)
    label = str(workflow.definition.label(order.stage))
    return SlipStatus(order.number, order.stage, label, tuple(shortages), failed_batch, recommended)
