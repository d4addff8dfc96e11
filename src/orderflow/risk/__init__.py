"""Delivery-risk notices at submission and a delivery-risk model that explains itself (R13).

The rules (core, no extra) flag an order when it is submitted, without changing its
flow: :mod:`~orderflow.risk.rules` over :class:`RiskInputs` gathered by
:mod:`~orderflow.risk.sources` from the audit log (drawing changes), a
:class:`~orderflow.risk.rates.RateSource` (exchange rates), the shipped typhoon zones
(:mod:`~orderflow.risk.zones`) and carrier master data (:mod:`~orderflow.risk.carriers`).

The model (``pip install "orderflow[risk]"``, LightGBM) lives in
:mod:`orderflow.risk.model`, its features in :mod:`orderflow.risk.features` and its
simulated training history in :mod:`orderflow.risk.history`.
"""

from __future__ import annotations

from orderflow.risk.carriers import Carrier
from orderflow.risk.flags import RiskFlag, RiskInputs, Severity
from orderflow.risk.rates import CsvRates, EcbRates, RateSource, SeriesRates, rate_move
from orderflow.risk.rules import (
    DEFAULT_RULES,
    DrawingChangeRule,
    ImportedRateRule,
    RiskRule,
    TyphoonRouteRule,
    evaluate_rules,
)
from orderflow.risk.sources import RiskSources
from orderflow.risk.zones import TyphoonZone, TyphoonZones

__all__ = [
    "DEFAULT_RULES",
    "Carrier",
    "CsvRates",
    "DrawingChangeRule",
    "EcbRates",
    "ImportedRateRule",
    "RateSource",
    "RiskFlag",
    "RiskInputs",
    "RiskRule",
    "RiskSources",
    "SeriesRates",
    "Severity",
    "TyphoonRouteRule",
    "TyphoonZone",
    "TyphoonZones",
    "evaluate_rules",
    "rate_move",
]
