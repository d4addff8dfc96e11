"""What customers and paper slips are answered (R9, R11).

Neither lookup reveals whether an order exists: an unknown query code, an unknown slip
number and a wrong slip code all get the same :class:`~orderflow.NotFound` message.
Stage names come from the workflow definition's one label table.
"""

from __future__ import annotations

import datetime as dt
import hmac

from orderflow.clock import from_micros, to_micros
from orderflow.domain import Component, Order, Product
from orderflow.domain.order import query_token_hash
from orderflow.exceptions import InputError, NotFound, SlipLocked
from orderflow.ports import StoreTx
from orderflow.service import records
from orderflow.service.codec import decoded_chain, status_timeline
from orderflow.service.logmeta import slip_code, slip_key
from orderflow.service.runtime import ActorLike, Runtime
from orderflow.service.views import CustomerStatus, Shortage, SlipStatus, StageVisit
from orderflow.workflow import Workflow, kitting_requirements
from orderflow.workflow.facts import Facts

__all__ = [
    "NO_SUCH_CODE",
    "NO_SUCH_SLIP",
    "SLIP_FAILURES",
    "customer_status",
    "order_slip_code",
    "slip_status",
]

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


def _shortages(rt: Runtime, tx: StoreTx, order: Order, today: dt.date) -> list[Shortage]:
    workflow = rt.workflow
    products = {}
    for line in order.lines:
        product = records.get_typed(tx, Product, line.product)
        if product is not None:
            products[product.code] = product
    facts = Facts(today=today, products=products)
    shortages = []
    warehouse = records.warehouse_of(tx, order.factory_id)
    for component, (_, required) in sorted(
        kitting_requirements(order, facts, workflow.policy).items()
    ):
        available = records.read_stock(tx, component, warehouse).position.available
        if order.stage == workflow.definition.initial and available < required:
            master = records.get_typed(tx, Component, component)
            shortages.append(
                Shortage(component, master.label if master else component, available,
                         required, _alternative(tx, master, component, rt, today))
            )  # fmt: skip
    return shortages


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


SLIP_FAILURES = "slip_failures"
"""Document kind of wrong-code counts (key ``number/<number>`` or ``caller/<caller>``)."""


def _failures(tx: StoreTx, key: str, now_us: int, window_us: int) -> tuple[int, int]:
    """``(wrong codes, since)`` for a key within the lock window (reset once it passed)."""
    body = tx.get_doc(SLIP_FAILURES, key, for_update=True)
    if body is not None:
        count, first = (int(part) for part in body.split("|"))
        if now_us - first < window_us:
            return count, first
    return 0, now_us


def slip_status(rt: Runtime, number: str, code: str, *, caller: str = "") -> SlipStatus:
    """The three key facts behind a scanned paper slip (R11): shortages, the latest
    failed QC batch of the order's products (any order's) and a recommended alternative
    supplier.

    A wrong code or an unknown number gets :data:`NO_SUCH_SLIP` after the same work (the
    code is derived and compared in constant time either way) and counts against the
    number and, if given, the ``caller`` (a device or client id); past the policy's
    ``slip_max_failures`` / ``slip_caller_max_failures`` within ``slip_lock_minutes``,
    :class:`~orderflow.SlipLocked` says until when. A right code clears the number's count.
    """
    if not isinstance(number, str) or not isinstance(code, str) or not isinstance(caller, str):
        raise InputError("a slip lookup takes the order number and the 6-digit code as text")
    if len(number) > 64 or len(caller) > 128:
        raise InputError("an order number has at most 64 characters, a caller id 128")
    policy = rt.policy
    now = rt.now()
    today = rt.local_date(now)
    now_us, window_us = to_micros(now), policy.slip_lock_minutes * 60_000_000
    limits = [("number", f"number/{number}", policy.slip_max_failures)]
    if caller:
        limits.append(("caller", f"caller/{caller}", policy.slip_caller_max_failures))
    workflow: Workflow = rt.workflow
    with rt.store.transaction() as tx:
        for scope, key, limit in limits:
            count, first = _failures(tx, key, now_us, window_us)
            if count >= limit:
                raise SlipLocked(from_micros(first + window_us), scope)
        order_id = tx.find_order_id("number", number)
        order: Order | None = None if order_id is None else tx.get_order(order_id)
        expected = slip_code(slip_key(tx), order.id if order else "-")
        if order is None or not hmac.compare_digest(expected.encode(), code.encode()):
            for _, key, _ in limits:
                count, first = _failures(tx, key, now_us, window_us)
                tx.put_doc(SLIP_FAILURES, key, f"{count + 1}|{first}")
            order = None
        else:
            tx.delete_doc(SLIP_FAILURES, limits[0][1])
            shortages = _shortages(rt, tx, order, today)
            failed_batch = records.latest_failed_batch(tx, {ln.product for ln in order.lines})
    if order is None:  # after the commit: the failure counts stay
        raise NotFound("order", "", NO_SUCH_SLIP)
    recommended = next((s.alternative_supplier for s in shortages if s.alternative_supplier), None)
    label = str(workflow.definition.label(order.stage))
    return SlipStatus(order.number, order.stage, label, tuple(shortages), failed_batch, recommended)
