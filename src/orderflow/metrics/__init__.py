"""Health metrics (R8, R9): pure calculators over orders, change records, incidents and
customer query events, and :func:`compute_health` to get them all for a period in one pass.

No I/O and no clock: feed the calculators from any store, pass the period and the policy.
Shares are :class:`~decimal.Decimal` in [0, 1] inside a :class:`Ratio` that keeps the
counts; durations are :class:`~decimal.Decimal` hours.
"""

from __future__ import annotations

from orderflow.metrics.calculators import (
    SELF_SERVICE_TARGET,
    TIMELINESS_TARGET,
    AccuracyGap,
    ExceptionClosure,
    ExceptionHeatmap,
    HistogramBin,
    IncidentRef,
    LateDelivery,
    LateUpdate,
    OnTimeDelivery,
    QueryFunnel,
    RootCauseDistribution,
    SelfServiceShare,
    StatusAccuracy,
    StatusDistribution,
    StatusTimeliness,
    Traceability,
    exception_closure,
    exception_heatmap,
    on_time_delivery,
    period_weeks,
    query_funnel,
    root_cause_distribution,
    self_service_share,
    status_accuracy,
    status_distribution,
    status_timeliness,
    traceability,
)
from orderflow.metrics.health import HealthSnapshot, compute_health
from orderflow.metrics.timeline import Timeline, build_timelines
from orderflow.metrics.values import Count, Period, QueryEvent, QueryKind, Ratio

__all__ = [
    "SELF_SERVICE_TARGET",
    "TIMELINESS_TARGET",
    "AccuracyGap",
    "Count",
    "ExceptionClosure",
    "ExceptionHeatmap",
    "HealthSnapshot",
    "HistogramBin",
    "IncidentRef",
    "LateDelivery",
    "LateUpdate",
    "OnTimeDelivery",
    "Period",
    "QueryEvent",
    "QueryFunnel",
    "QueryKind",
    "Ratio",
    "RootCauseDistribution",
    "SelfServiceShare",
    "StatusAccuracy",
    "StatusDistribution",
    "StatusTimeliness",
    "Timeline",
    "Traceability",
    "build_timelines",
    "compute_health",
    "exception_closure",
    "exception_heatmap",
    "on_time_delivery",
    "period_weeks",
    "query_funnel",
    "root_cause_distribution",
    "self_service_share",
    "status_accuracy",
    "status_distribution",
    "status_timeliness",
    "traceability",
]
