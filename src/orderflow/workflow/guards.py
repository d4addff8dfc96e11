"""Pure, named guards that explain themselves (R2, R3).

A guard is any callable ``(order, facts, policy) -> GuardResult``. Each result carries a
stable ``code``, a message a plant engineer understands and the measured numbers behind
it, so a refusal can say "seal ring Q23-7: available 104 < required 105 = 100 x 1 x 1.05".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any, NamedTuple

from orderflow.domain.order import Order
from orderflow.exceptions import DefinitionError
from orderflow.policy.model import Policy
from orderflow.workflow.facts import Facts

__all__ = [
    "BUILTIN_GUARDS",
    "Guard",
    "GuardRegistry",
    "GuardResult",
    "bom_kitting",
    "capacity_slot",
    "credit_limit",
    "inbound_po_overdue",
    "kitting_requirements",
]

_NO_VALUES: Mapping[str, Any] = MappingProxyType({})
_ZERO = Decimal(0)
_ONE = Decimal(1)


class GuardResult(NamedTuple):
    """The verdict of one guard: ``ok``, a stable ``code``, a message and measured values.

    A named tuple rather than an attrs class: guards run on the hot path of every
    transition and a tuple is built several times faster. Treat ``measured`` as read-only.
    """

    ok: bool
    code: str
    message: str
    measured: Mapping[str, Any] = _NO_VALUES


Guard = Callable[[Order, Facts, Policy], GuardResult]


def _fmt(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (105.00 -> 105, 1.050 -> 1.05)."""
    return format(value.normalize(), "f")


_last_needs: tuple[object, object, object, dict[str, tuple[Decimal, Decimal]]] = (
    None,
    None,
    None,
    {},
)


def kitting_requirements(
    order: Order, facts: Facts, policy: Policy
) -> dict[str, tuple[Decimal, Decimal]]:
    """Per component: ``(base need, need x safety factor)`` for the whole order.

    Base need is qty x qty-per-unit summed over lines (what kitting reserves); the
    factored need is what must be available for the kitting guard to pass. The result
    for the latest (order lines, facts, policy) is remembered, since two guards of the
    same transition ask for it; treat it as read-only.
    """
    global _last_needs
    memo = _last_needs
    if memo[0] is order.lines and memo[1] is facts and memo[2] is policy:
        return memo[3]
    out: dict[str, tuple[Decimal, Decimal]] = {}
    products = facts.products
    safety = policy.safety
    for line in order.lines:
        product = products.get(line.product)
        if product is None:
            continue
        factor = safety.factor(product.kind, facts.on_time_streak.get(product.code, 0))
        for bom in product.bom:
            base = line.qty * bom.qty_per_unit
            prev = out.get(bom.component)
            if prev is None:
                out[bom.component] = (base, base * factor)
            else:
                out[bom.component] = (prev[0] + base, prev[1] + base * factor)
    _last_needs = (order.lines, facts, policy, out)
    return out


def credit_limit(order: Order, facts: Facts, policy: Policy) -> GuardResult:
    """R2a: the customer's open exposure plus this order's amount is within the limit."""
    customer = facts.customer
    if customer is None:
        return GuardResult(False, "credit_limit", f"customer {order.customer_id} is unknown")
    amount = Decimal(0)
    for line in order.lines:
        amount += line.qty * line.unit_price
    total = customer.open_exposure + amount
    measured = {
        "open_exposure": customer.open_exposure,
        "order_amount": amount,
        "credit_limit": customer.credit_limit,
    }
    if total <= customer.credit_limit:
        return GuardResult(True, "credit_limit", "within credit limit", measured)
    return GuardResult(
        False,
        "credit_limit",
        f"customer {customer.id}: open exposure {_fmt(customer.open_exposure)} + order "
        f"{_fmt(amount)} = {_fmt(total)} > credit limit {_fmt(customer.credit_limit)}",
        measured,
    )


def bom_kitting(order: Order, facts: Facts, policy: Policy) -> GuardResult:
    """R2b/R3: every component has available >= required x safety factor.

    ``measured`` holds the kitting rate (share of components covered) and, per short
    component, available and required quantities.
    """
    needs = kitting_requirements(order, facts, policy)
    products = facts.products
    missing_products = [ln.product for ln in order.lines if ln.product not in products]
    if missing_products:
        return GuardResult(
            False,
            "bom_kitting",
            f"no bill of material for product(s) {', '.join(missing_products)}",
        )
    available = facts.available
    short: list[str] = []
    shortages: dict[str, dict[str, Decimal]] = {}
    zero = _ZERO
    for component, (base, required) in needs.items():
        have = available.get(component, zero)
        if have < required:
            shortages[component] = {"available": have, "required": required}
            factor = required / base if base else Decimal(1)
            short.append(
                f"{facts.label(component)}: available {_fmt(have)} < required "
                f"{_fmt(required)} = {_fmt(base)} x {_fmt(factor)}"
            )
    total = len(needs)
    rate = Decimal(total - len(shortages)) / total if shortages else _ONE
    measured = {"kitting_rate": rate, "components": total, "short": shortages}
    if not short:
        return GuardResult(True, "bom_kitting", "all components available", measured)
    return GuardResult(False, "bom_kitting", "; ".join(short), measured)


def inbound_po_overdue(order: Order, facts: Facts, policy: Policy) -> GuardResult:
    """R3: no pending purchase order for the order's components is too late.

    "Too late" is more than ``policy.po_overdue_days`` days past due (7 by default:
    8 days late blocks, 7 does not).
    """
    limit = policy.po_overdue_days
    today = facts.today
    late: list[str] = []
    worst = 0
    for component in kitting_requirements(order, facts, policy):
        for po in facts.inbound.get(component, ()):
            days = po.days_late(today)
            worst = max(worst, days)
            if days > limit:
                late.append(
                    f"PO {po.number} for {facts.label(component)} is {days} days past due "
                    f"(limit {limit})"
                )
    measured = {"max_days_late": worst, "limit_days": limit}
    if not late:
        return GuardResult(True, "inbound_po_overdue", "no purchase order too late", measured)
    return GuardResult(False, "inbound_po_overdue", "; ".join(late), measured)


def capacity_slot(order: Order, facts: Facts, policy: Policy) -> GuardResult:
    """R2c: a production line has a free slot for the order before its requested date."""
    units = Decimal(0)
    for line in order.lines:
        units += line.qty
    schedule = facts.capacity
    slot = schedule.first_fit(units, facts.today, order.requested_date) if schedule else None
    measured: dict[str, Any] = {"units": units, "requested_date": order.requested_date}
    if slot is None:
        return GuardResult(
            False,
            "capacity_slot",
            f"no production line has {_fmt(units)} free units between {facts.today} and "
            f"the requested date {order.requested_date}",
            measured,
        )
    measured["line"] = slot.line
    measured["slot_start"] = slot.start
    measured["slot_end"] = slot.end
    return GuardResult(True, "capacity_slot", "a production slot is free", measured)


BUILTIN_GUARDS: Mapping[str, Guard] = MappingProxyType(
    {
        "credit_limit": credit_limit,
        "bom_kitting": bom_kitting,
        "inbound_po_overdue": inbound_po_overdue,
        "capacity_slot": capacity_slot,
    }
)

ENTRY_POINT_GROUP = "orderflow.guards"


class GuardRegistry:
    """Guards by name: the built-ins, those registered in code, and entry points.

    Third-party packages publish guards in the ``orderflow.guards`` entry-point group;
    ``GuardRegistry.default()`` loads them.
    """

    def __init__(self, guards: Mapping[str, Guard] | None = None) -> None:
        self._guards: dict[str, Guard] = dict(BUILTIN_GUARDS if guards is None else guards)

    @classmethod
    def default(cls) -> GuardRegistry:
        """The built-in guards plus every guard published under ``orderflow.guards``."""
        registry = cls()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            registry.register(ep.name, ep.load())
        return registry

    def guard(self, name: str) -> Callable[[Guard], Guard]:
        """Decorator form of :meth:`register`: ``@registry.guard("drawing_signed")``."""

        def decorator(fn: Guard) -> Guard:
            return self.register(name, fn)

        return decorator

    def register(self, name: str, guard: Guard) -> Guard:
        """Register ``guard`` under ``name`` (replacing any guard of that name)."""
        if not name or not name.replace("_", "").replace(".", "").isalnum():
            raise DefinitionError([f"guard name {name!r} must be letters, digits, _ or ."])
        if not callable(guard):
            raise DefinitionError([f"guard {name!r} is not callable"])
        self._guards[name] = guard
        return guard

    def __getitem__(self, name: str) -> Guard:
        return self._guards[name]

    def __contains__(self, name: object) -> bool:
        return name in self._guards

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._guards))

    def names(self) -> tuple[str, ...]:
        """All registered guard names, sorted."""
        return tuple(sorted(self._guards))
