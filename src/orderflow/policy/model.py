"""The frozen, validated policy the core reads (R4). Built from documents by ``schema``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from orderflow.domain.master import ProductKind

__all__ = ["ExceptionCategory", "Policy", "RiskThresholds", "SafetyFactors", "StageTimeouts"]


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen
class SafetyFactors:
    """Safety factors applied to BOM requirements when kitting (R3, R4).

    A new product starts at ``new_ladder[0]`` and moves one rung down after every
    ``step_after`` consecutive on-time deliveries; a late delivery resets its streak.
    """

    regular: Decimal = Decimal("1.05")
    custom: Decimal = Decimal("1.3")
    new_ladder: tuple[Decimal, ...] = (Decimal("1.8"), Decimal("1.3"), Decimal("1.05"))
    step_after: int = 3

    def factor(self, kind: ProductKind, on_time_streak: int = 0) -> Decimal:
        """The factor for a product of ``kind`` with ``on_time_streak`` on-time deliveries."""
        if kind is ProductKind.REGULAR:
            return self.regular
        if kind is ProductKind.CUSTOM:
            return self.custom
        rung = min(on_time_streak // self.step_after, len(self.new_ladder) - 1)
        return self.new_ladder[rung]


@attrs.frozen
class StageTimeouts:
    """How long an order may stay in a stage before a warning (R4), with seasons.

    In a peak month a deadline is ``peak_multiplier`` times the base (0.7: 30 % shorter);
    in an off-season month ``off_multiplier`` times (1.5: 50 % longer).
    """

    base_hours: Mapping[str, Decimal] = attrs.field(
        factory=lambda: {"pending_review": Decimal(2), "kitting_locked": Decimal(4)},
        converter=_frozen_map,
    )
    peak_months: frozenset[int] = frozenset({10, 11, 12, 1})
    off_months: frozenset[int] = frozenset({2, 7, 8})
    peak_multiplier: Decimal = Decimal("0.7")
    off_multiplier: Decimal = Decimal("1.5")

    def multiplier(self, month: int) -> Decimal:
        """The seasonal multiplier for a calendar month (1-12)."""
        if month in self.peak_months:
            return self.peak_multiplier
        if month in self.off_months:
            return self.off_multiplier
        return Decimal(1)

    def limit(self, stage: str, month: int) -> dt.timedelta | None:
        """The allowed time in ``stage`` for an order that entered it in ``month``."""
        return self._limits.get((stage, month))

    @functools.cached_property
    def _limits(self) -> dict[tuple[str, int], dt.timedelta]:
        # every (stage, month) limit, computed once: limit() runs on every transition
        return {
            (stage, month): dt.timedelta(seconds=int(hours * self.multiplier(month) * 3600))
            for stage, hours in self.base_hours.items()
            for month in range(1, 13)
        }


@attrs.frozen
class ExceptionCategory:
    """One exception category with its dashboard colour (R4, R8)."""

    code: str
    label: str
    colour: str


DEFAULT_CATEGORIES = (
    ExceptionCategory("stock_shortage", "Stock shortage", "#d62728"),
    ExceptionCategory("drawing_change", "Drawing change", "#e6b800"),
    ExceptionCategory("logistics", "Logistics", "#1f77b4"),
    ExceptionCategory("drawing_version_conflict", "Drawing version conflict", "#ff7f0e"),
    ExceptionCategory("mould_maintenance", "Mould maintenance downtime", "#9467bd"),
    ExceptionCategory("qc_failure", "QC failure", "#8c564b"),
    ExceptionCategory("customer_change", "Customer change", "#7f7f7f"),
)


@attrs.frozen
class RiskThresholds:
    """Thresholds of the three delivery-risk rules (R13), hot-swappable like the rest.

    A flag never blocks or changes the flow; it is a notice with a recommendation.
    (1) more than ``drawing_changes_max`` drawing changes by the same customer within
    ``drawing_window_days``; (2) at least ``imported_min`` imported materials while a
    currency of ``currencies`` moved against CNY by more than ``rate_move_pct`` percent
    between ``rate_window_days`` days before submission and the submission date; (3) a
    delivery address in a typhoon-prone zone and a carrier without a backup route.
    """

    enabled: bool = True
    drawing_changes_max: int = 2
    drawing_window_days: int = 90
    imported_min: int = 3
    rate_move_pct: Decimal = Decimal(2)
    rate_window_days: int = 30
    currencies: tuple[str, ...] = ("USD", "EUR", "JPY")
    spares_pct: int = 10
    """The spares rate recommended when imported materials meet a moving rate."""
    bonded_warehouse: str = "深圳保税仓 (Shenzhen bonded warehouse)"
    """Where the typhoon recommendation ships from instead."""


@attrs.frozen
class Policy:
    """Every run-time adjustable parameter (R4). ``version`` increases with each change."""

    version: int = 1
    safety: SafetyFactors = SafetyFactors()
    po_overdue_days: int = 7
    timeouts: StageTimeouts = StageTimeouts()
    exception_categories: tuple[ExceptionCategory, ...] = DEFAULT_CATEGORIES
    query_latency_target_s: Decimal = Decimal("0.3")
    status_update_tolerance_minutes: int = 15
    exception_closure_target_hours: Decimal = Decimal(4)
    timezone: str = "Asia/Shanghai"
    checkpoint_every_entries: int = 10_000
    """Store a checkpoint of the audit log after this many new entries (R5) ..."""
    checkpoint_every_seconds: int = 3_600
    """... or when this many seconds passed since the last one and the log grew."""
    slip_max_failures: int = 5
    """Wrong slip codes allowed for one order number within ``slip_lock_minutes`` (R11)."""
    slip_caller_max_failures: int = 20
    """Wrong slip codes allowed from one caller (device, client) within the same window."""
    slip_lock_minutes: int = 15
    """How long a number or caller stays locked, counted from its first wrong code."""
    clock_skew_seconds: int = 300
    """How far in the future a reported floor time (``occurred_at``) may lie (R5, R8)."""
    notify_stages: frozenset[str] = frozenset({"production_dispatched", "delivered"})
    """Stages whose entry is news for the customer (a message through the notifier, R9)."""
    risk: RiskThresholds = RiskThresholds()
    """The delivery-risk rules' thresholds (R13)."""

    def category(self, code: str) -> ExceptionCategory:
        """The exception category with ``code``; :class:`~orderflow.PolicyError` if unknown."""
        for cat in self.exception_categories:
            if cat.code == code:
                return cat
        from orderflow.exceptions import PolicyError

        known = ", ".join(c.code for c in self.exception_categories)
        raise PolicyError([f"unknown exception category {code!r} (known: {known})"])
