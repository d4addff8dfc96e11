"""The monthly order fulfilment health report (R8): build it, render it as HTML or JSON.

:func:`build_report` turns a :class:`~orderflow.metrics.HealthSnapshot` into a frozen
:class:`HealthReport`; :func:`render_html` draws it as one self-contained HTML file with
inline SVG charts; :func:`render_json` / :func:`read_json` round-trip it as JSON.
"""

from __future__ import annotations

from orderflow.report._html import STAGE_LABELS, order_anchor, render_html
from orderflow.report._json import read_json, render_json
from orderflow.report.model import (
    ACCURACY_TARGET_HOURS,
    HeadlineRow,
    HealthReport,
    OrderDrill,
    ReportSection,
    RowStatus,
    build_report,
    headline_rows,
)

__all__ = [
    "ACCURACY_TARGET_HOURS",
    "STAGE_LABELS",
    "HeadlineRow",
    "HealthReport",
    "OrderDrill",
    "ReportSection",
    "RowStatus",
    "build_report",
    "headline_rows",
    "order_anchor",
    "read_json",
    "render_html",
    "render_json",
]
