"""What a delivery-risk rule measures and what it answers: inputs and flags (R13).

A :class:`RiskFlag` is a notice for the staff, never a refusal: it names the rule
(``code``), how serious it is, the measured values in words
(``drawing changes in 90 days: 3 > 2``) and a recommendation in Chinese and English.
:class:`RiskInputs` are the measured facts the rules read, gathered once per order.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

__all__ = ["RiskFlag", "RiskInputs", "Severity"]


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


class Severity(enum.Enum):
    """How urgent a flag is: ``notice`` (plan for it) or ``warning`` (act before kitting)."""

    NOTICE = "notice"
    WARNING = "warning"


@attrs.frozen
class RiskFlag:
    """One delivery-risk notice on an order (R13); it never blocks or changes the flow."""

    code: str
    """The rule's name: ``drawing_changes``, ``imported_rate`` or ``typhoon_route``."""
    severity: Severity
    message: str
    """The measured values in words, e.g. ``drawing changes in 90 days: 3 > 2``."""
    recommendation_zh: str
    recommendation_en: str
    measured: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    """The measured values, as text (numbers keep their exact decimal form)."""

    def __str__(self) -> str:
        return (
            f"[{self.code}] {self.message} -> {self.recommendation_zh} / {self.recommendation_en}"
        )


@attrs.frozen
class RiskInputs:
    """What the rules read about one order, measured at one moment.

    ``rate_move_pct`` is the largest absolute move (percent) of a policy currency
    against CNY over the window, ``rate_currency`` which one and ``rate_detail`` the
    two rates; ``None`` when the rate source has no rate for the dates (the rule then
    cannot fire and says why in ``rate_detail``). ``zone`` is the typhoon-prone zone
    of the delivery address, if any; ``carrier_backup`` is ``None`` when no carrier
    is on record for the order.
    """

    customer_id: str
    drawing_changes: int = 0
    imported_materials: tuple[str, ...] = ()
    """Codes of the distinct imported components the order needs."""
    rate_move_pct: Decimal | None = None
    rate_currency: str = ""
    rate_detail: str = ""
    zone: str | None = None
    carrier: str | None = None
    carrier_backup: bool | None = None
