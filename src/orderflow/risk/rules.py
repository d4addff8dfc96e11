"""The three delivery-risk rules of the seed's second phase, as named rules (R13).

Each rule is a function-like object with a ``code`` that reads :class:`RiskInputs`
and the policy's :class:`~orderflow.policy.RiskThresholds` and returns a
:class:`RiskFlag` or ``None``. Thresholds are strict where the seed says "more than":

* ``drawing_changes``: more than ``drawing_changes_max`` (2) drawing changes by the
  same customer within ``drawing_window_days`` (90): 3 flags, 2 does not;
* ``imported_rate``: at least ``imported_min`` (3) imported materials *and* an exchange
  rate move of more than ``rate_move_pct`` (2 %): 2.1 % flags, 2.0 % does not;
* ``typhoon_route``: a delivery address in a typhoon-prone zone and a carrier with no
  backup route (or no carrier on record, so no backup route known).

Rules are pure: no I/O, no clock. They never block or change an order's flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol, runtime_checkable

from orderflow.policy.model import RiskThresholds
from orderflow.risk.flags import RiskFlag, RiskInputs, Severity

__all__ = [
    "DEFAULT_RULES",
    "DrawingChangeRule",
    "ImportedRateRule",
    "RiskRule",
    "TyphoonRouteRule",
    "evaluate_rules",
]


@runtime_checkable
class RiskRule(Protocol):
    """A named delivery-risk rule: inputs and thresholds in, a flag or ``None`` out."""

    code: str

    def __call__(self, inputs: RiskInputs, limits: RiskThresholds) -> RiskFlag | None:
        """The flag this rule raises for ``inputs``, or ``None``."""
        ...


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}%"


class DrawingChangeRule:
    """(1) The same customer changed drawings more than N times in the window."""

    code = "drawing_changes"

    def __call__(self, inputs: RiskInputs, limits: RiskThresholds) -> RiskFlag | None:
        """A flag when ``drawing_changes > drawing_changes_max``."""
        n, most, days = (
            inputs.drawing_changes,
            limits.drawing_changes_max,
            limits.drawing_window_days,
        )
        if n <= most:
            return None
        return RiskFlag(
            self.code,
            Severity.WARNING,
            f"drawing changes in {days} days: {n} > {most} (customer {inputs.customer_id})",
            f"客户{days}天内图纸变更{n}次：投产前与客户书面确认图纸版本，冻结图纸后再备料",
            "confirm the drawing version with the customer in writing before kitting; "
            "freeze the drawing before buying material",
            {"drawing_changes": str(n), "limit": str(most), "window_days": str(days)},
        )


class ImportedRateRule:
    """(2) Many imported materials while the exchange rate moved."""

    code = "imported_rate"

    def __call__(self, inputs: RiskInputs, limits: RiskThresholds) -> RiskFlag | None:
        """A flag when imported >= ``imported_min`` and the move > ``rate_move_pct``."""
        count, move = len(inputs.imported_materials), inputs.rate_move_pct
        if count < limits.imported_min or move is None or move <= limits.rate_move_pct:
            return None
        spares = limits.spares_pct
        return RiskFlag(
            self.code,
            Severity.NOTICE,
            f"imported materials: {count} >= {limits.imported_min}; {inputs.rate_currency}/CNY "
            f"moved {_pct(move)} > {_pct(limits.rate_move_pct)} in {limits.rate_window_days} "
            f"days ({inputs.rate_detail})",
            f"建议增加{spares}%备品率，并与进口供应商确认交期与报价",
            f"add {spares}% spares and confirm lead time and price with the import suppliers",
            {
                "imported_materials": str(count),
                "imported": ",".join(inputs.imported_materials),
                "rate_move_pct": str(move),
                "currency": inputs.rate_currency,
                "limit_pct": str(limits.rate_move_pct),
            },
        )


class TyphoonRouteRule:
    """(3) Delivery into a typhoon-prone zone with a carrier that has no backup route."""

    code = "typhoon_route"

    def __call__(self, inputs: RiskInputs, limits: RiskThresholds) -> RiskFlag | None:
        """A flag when the address is in a zone and no backup route is known."""
        if inputs.zone is None or inputs.carrier_backup:
            return None
        carrier = inputs.carrier or "(none on record)"
        return RiskFlag(
            self.code,
            Severity.NOTICE,
            f"delivery address in typhoon-prone zone {inputs.zone}; carrier {carrier} "
            "has no backup route",
            f"启用{limits.bonded_warehouse.split(' ')[0]}直发，或改用有备用路线的承运商",
            f"ship from the {_english(limits.bonded_warehouse)}, or use a carrier with a "
            "backup route",
            {"zone": inputs.zone, "carrier": carrier, "backup_route": "no"},
        )


def _english(place: str) -> str:
    # "深圳保税仓 (Shenzhen bonded warehouse)" -> "Shenzhen bonded warehouse"
    if "(" in place and place.endswith(")"):
        return place[place.index("(") + 1 : -1]
    return place


DEFAULT_RULES: tuple[RiskRule, ...] = (DrawingChangeRule(), ImportedRateRule(), TyphoonRouteRule())
"""The three rules of R13, in the seed's order."""


def evaluate_rules(
    inputs: RiskInputs, limits: RiskThresholds, rules: Iterable[RiskRule] = DEFAULT_RULES
) -> tuple[RiskFlag, ...]:
    """Every flag the rules raise for ``inputs`` (none when the policy disables them)."""
    if not limits.enabled:
        return ()
    return tuple(flag for rule in rules if (flag := rule(inputs, limits)) is not None)
