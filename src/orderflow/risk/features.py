"""The delivery-risk model's features: what orderflow knows when an order is submitted.

One :class:`SubmissionRecord` per order, built from a store's audit log
(:mod:`~orderflow.risk.dataset`) or by the simulated history
(:mod:`~orderflow.risk.history`); :func:`vector` turns it into the model's row, in the
order of :data:`FEATURES`. Nothing here looks past the submission: the customer's late
deliveries count only those delivered before it. ``late`` is the outcome (``None``
while unknown) and never a feature.

:data:`FEATURE_HASH` fingerprints the names and their order; a saved model carries it
and refuses to score with another feature set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zlib

import attrs

from orderflow.policy.model import RiskThresholds
from orderflow.risk.flags import RiskInputs
from orderflow.risk.rules import evaluate_rules

__all__ = [
    "DESCRIPTIONS",
    "FEATURES",
    "FEATURE_HASH",
    "SubmissionRecord",
    "describe",
    "rule_inputs",
    "rules_score",
    "vector",
]

_NAN = float("nan")


@attrs.frozen
class SubmissionRecord:
    """What is known about one order at submission, and (for training) its outcome."""

    order_id: str
    submitted: dt.date
    factory_id: str
    customer_id: str
    lead_days: int
    """Calendar days between submission and the requested date."""
    kitting_rate: float
    """R2b: share of components covered by available stock at submission."""
    wip_days: float
    """Capacity load: open orders in the factory over its average daily arrivals (7 days)."""
    customer_orders: int
    """The customer's earlier orders."""
    customer_late_share: float
    """Late share of the customer's orders delivered before this submission (NaN: none)."""
    drawing_changes: int
    """The customer's drawing changes in the rule's window (rule 1's input)."""
    imported: int
    """Distinct imported components (rule 2's input)."""
    imported_share: float
    rate_move_pct: float
    """Largest exchange-rate move in the rule's window (NaN: not measured)."""
    typhoon_zone: bool
    backup_route: bool | None
    product_kind: int
    """Most demanding product kind: 0 regular, 1 custom, 2 new."""
    lines: int
    qty: float
    late: bool | None = None
    """The outcome: delivered after the requested date (``None``: unknown yet)."""


FEATURES: tuple[str, ...] = (
    "lead_days",
    "kitting_rate",
    "wip_days",
    "customer_orders",
    "customer_late_share",
    "drawing_changes",
    "imported",
    "imported_share",
    "rate_move_pct",
    "typhoon_zone",
    "backup_route",
    "month",
    "factory",
    "product_kind",
    "lines",
    "qty",
)
"""The model's features, in column order."""

CATEGORICAL = ("product_kind",)
"""Features LightGBM treats as categories."""

FEATURE_HASH = hashlib.sha256(("risk-features/1:" + ",".join(FEATURES)).encode()).hexdigest()[:16]
"""Fingerprint of :data:`FEATURES` (names and order) kept in every saved model."""

DESCRIPTIONS: dict[str, str] = {
    "lead_days": "lead time asked {v:g} days / 要求交期{v:g}天",
    "kitting_rate": "kitting rate {v:.0%} / 齐套率{v:.0%}",
    "wip_days": "capacity load {v:.1f} days of open orders / 在制负荷{v:.1f}天",
    "customer_orders": "customer's earlier orders {v:g} / 客户历史订单{v:g}",
    "customer_late_share": "customer's late share {v:.0%} / 客户历史延期率{v:.0%}",
    "drawing_changes": "drawing changes by the customer {v:g} / 客户图纸变更{v:g}次",
    "imported": "imported materials {v:g} / 进口物料{v:g}种",
    "imported_share": "imported share {v:.0%} / 进口物料占比{v:.0%}",
    "rate_move_pct": "exchange rate moved {v:.1f}% / 汇率波动{v:.1f}%",
    "typhoon_zone": "typhoon-prone delivery zone {v:g} / 台风区{v:g}",
    "backup_route": "carrier backup route {v:g} / 承运商备用路线{v:g}",
    "month": "month {v:g} / {v:g}月",
    "factory": "factory / 工厂",
    "product_kind": "product kind {v:g} (0 regular, 1 custom, 2 new) / 产品类别{v:g}",
    "lines": "order lines {v:g} / 订单行{v:g}",
    "qty": "quantity {v:g} / 数量{v:g}",
}
"""How each feature reads in an explanation (English / Chinese); ``v`` is its value."""


def _factory_code(factory_id: str) -> int:
    # a stable small integer per factory (trees split on it; its size means nothing)
    return zlib.crc32(factory_id.encode()) % 1009


def vector(r: SubmissionRecord) -> list[float]:
    """The model's row for ``r``, in :data:`FEATURES` order (NaN for unknown values)."""
    backup = _NAN if r.backup_route is None else float(r.backup_route)
    return [
        float(r.lead_days),
        r.kitting_rate,
        r.wip_days,
        float(r.customer_orders),
        r.customer_late_share,
        float(r.drawing_changes),
        float(r.imported),
        r.imported_share,
        r.rate_move_pct,
        float(r.typhoon_zone),
        backup,
        float(r.submitted.month),
        float(_factory_code(r.factory_id)),
        float(r.product_kind),
        float(r.lines),
        r.qty,
    ]


def describe(feature: str, value: float, contribution: float) -> str:
    """One contribution in words: ``lead time asked 3 days / 要求交期3天: raises risk +0.85``."""
    template = DESCRIPTIONS.get(feature, feature)
    text = feature + " unknown" if math.isnan(value) else template.format(v=value)
    way = "raises risk / 增加风险" if contribution > 0 else "lowers risk / 降低风险"
    return f"{text}: {way} {contribution:+.2f}"


def rule_inputs(r: SubmissionRecord) -> RiskInputs:
    """The rules' inputs as the record measured them (for the rules-alone baseline)."""
    from decimal import Decimal

    pct = None if math.isnan(r.rate_move_pct) else Decimal(str(r.rate_move_pct))
    return RiskInputs(
        r.customer_id,
        r.drawing_changes,
        tuple(f"imported-{i}" for i in range(r.imported)),
        pct,
        "USD",
        "",
        "zone" if r.typhoon_zone else None,
        None,
        r.backup_route,
    )


def rules_score(r: SubmissionRecord, limits: RiskThresholds | None = None) -> int:
    """How many of the three rules flag the record (the rules-alone risk score, 0-3)."""
    return len(evaluate_rules(rule_inputs(r), limits or RiskThresholds()))
