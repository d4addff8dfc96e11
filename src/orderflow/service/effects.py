"""What a workflow event does besides moving the stage: stock, exposure, capacity (R6).

An effect is a function of one :class:`EffectContext`, run inside the transaction that
records the stage change: what it writes commits with the change and its audit entry,
or not at all. The service maps event names to effects (``effects=`` of
:class:`~orderflow.service.OrderService`); an integrator adds one by writing a function
and passing ``{**DEFAULT_EFFECTS, "my_event": my_effect}``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs

from orderflow.clock import to_micros
from orderflow.domain import Order
from orderflow.policy import Policy
from orderflow.ports import StoreTx
from orderflow.service import inventory, records
from orderflow.workflow import Facts, kitting_requirements

__all__ = ["DEFAULT_EFFECTS", "EFFECT_LOCKS", "Effect", "EffectContext"]


@attrs.frozen(slots=True)
class EffectContext:
    """Everything an effect may read or write, for one fired event.

    ``tx`` is the open transaction; ``before`` and ``after`` the order on either side
    of the change; ``facts`` what the guards saw; ``at`` when the change is recorded
    (UTC); ``actor`` who made it; ``reason`` and ``context`` what the caller gave
    (device, batch, ...).
    """

    tx: StoreTx
    event: str
    before: Order
    after: Order
    facts: Facts
    policy: Policy
    at: dt.datetime
    actor: str
    reason: str | None = None
    context: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def at_us(self) -> int:
        """``at`` as integer microseconds since the epoch (how stores keep instants)."""
        return to_micros(self.at)

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The calendar date of ``instant`` in the factory time zone of the policy."""
        zone = zoneinfo.ZoneInfo(self.policy.timezone)
        return dt.datetime.fromtimestamp(to_micros(instant) / 1e6, zone).date()

    def add_exposure(self, customer_id: str, delta: Decimal) -> None:
        """Book ``delta`` onto a customer's open exposure (the R2 credit check reads it)."""
        records.add_exposure(self.tx, customer_id, delta)


Effect = Callable[[EffectContext], None]
"""An effect: a function of the :class:`EffectContext` of one fired event."""


def reserve_kitting(ctx: EffectContext) -> None:
    """Kitting locked: reserve the order's base need and book its amount as exposure."""
    needs = {
        c: base for c, (base, _) in kitting_requirements(ctx.before, ctx.facts, ctx.policy).items()
    }
    warehouse = records.warehouse_of(ctx.tx, ctx.after.factory_id)
    inventory.reserve(ctx.tx, ctx.after, needs, at_us=ctx.at_us, actor=ctx.actor,
                      warehouse=warehouse)  # fmt: skip
    ctx.add_exposure(ctx.after.customer_id, ctx.after.amount)


def dispatch(ctx: EffectContext) -> None:
    """Released to production: issue the reserved stock and take the capacity slot."""
    after = ctx.after
    inventory.issue(ctx.tx, after)
    capacity = ctx.facts.capacity
    if capacity is not None:
        slot = capacity.first_fit(after.total_qty, ctx.facts.today, after.requested_date)
        if slot is not None:
            records.write_slot(ctx.tx, after.factory_id, slot, slot.free_units - after.total_qty)


def cancel(ctx: EffectContext) -> None:
    """Cancelled: give reserved stock back and, if it was booked, the exposure."""
    if inventory.release(ctx.tx, ctx.after):
        ctx.add_exposure(ctx.after.customer_id, -ctx.after.amount)


def deliver(ctx: EffectContext) -> None:
    """Delivered: the exposure ends; on time or late moves each product's streak (R4)."""
    after = ctx.after
    ctx.add_exposure(after.customer_id, -after.amount)
    on_time = ctx.local_date(after.stage_entered_at) <= after.requested_date
    products = {line.product for line in after.lines}
    records.bump_streaks(ctx.tx, after.factory_id, products, on_time=on_time)


def qc_failed(ctx: EffectContext) -> None:
    """QC failed: remember the batch as its products' latest failed batch (R11 slips)."""
    batch = ctx.context.get("batch") or ctx.reason or ""
    for code in {line.product for line in ctx.after.lines}:
        records.put_failed_batch(ctx.tx, code, batch, ctx.at_us)


EFFECT_LOCKS: Mapping[Effect, frozenset[str]] = {
    reserve_kitting: frozenset({"stock", "exposure"}),
    dispatch: frozenset({"reservation"}),
    cancel: frozenset({"reservation"}),
    deliver: frozenset({"exposure", "streak"}),
}
"""What a built-in effect reads for update (:data:`~orderflow.service.facts.LOCK_GROUPS`),
so that the facts of its event are read with those locks in one round trip. ``cancel``
and ``dispatch`` then lock the stock their reservation names, which only it says."""

DEFAULT_EFFECTS: Mapping[str, Effect] = {
    "lock_kitting": reserve_kitting,
    "dispatch_production": dispatch,
    "fail_qc": qc_failed,
    "cancel": cancel,
    "deliver": deliver,
}
"""What each event of the default workflow does besides moving the stage."""
