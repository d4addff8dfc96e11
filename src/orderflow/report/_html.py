"""Render a :class:`~orderflow.report.HealthReport` as one self-contained HTML file.

The markup lives in Jinja2 templates (``templates/health_report.html``, the charts in
``templates/charts.svg``, shared with the staff dashboard of :mod:`orderflow.web`), every
text escaped by Jinja2's autoescaping. No external assets and no JavaScript: the CSS is
inlined and the four charts are inline SVG. The output is well-formed XML as well as HTML
(every tag closed, every attribute quoted), so it can be checked with any XML parser.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import quote

import jinja2
import pendulum

from orderflow.metrics.calculators import (
    ExceptionClosure,
    ExceptionHeatmap,
    QueryFunnel,
    StatusDistribution,
)
from orderflow.policy.model import ExceptionCategory
from orderflow.report import _charts
from orderflow.report._charts import STAGE_LABELS
from orderflow.report.model import HealthReport

__all__ = [
    "STAGE_LABELS",
    "TEMPLATES",
    "chart_environment",
    "funnel_svg",
    "heatmap_svg",
    "histogram_svg",
    "order_anchor",
    "render_html",
    "status_ring_svg",
]

TEMPLATES = Path(__file__).parent / "templates"
"""The report's templates folder (``health_report.html``, ``report.css``, ``charts.svg``)."""


def order_anchor(order_id: str) -> str:
    """The HTML id of an order's drill-down section (safe for any order id).

    Letters, digits, ``_`` and ``-`` are kept; any other character becomes ``.`` plus
    its hex code point, so distinct ids never share an anchor.
    """
    return "order-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}", order_id)


def install_chart_globals(env: jinja2.Environment) -> None:
    """Give ``env`` the chart geometry functions the ``charts.svg`` macros are fed with."""
    env.globals.update(
        ring_geometry=_charts.ring,
        heatmap_geometry=_charts.heatmap,
        funnel_geometry=_charts.funnel,
        histogram_geometry=_charts.histogram,
    )


@cache
def chart_environment() -> jinja2.Environment:
    """The report's Jinja2 environment: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    install_chart_globals(env)
    return env


def _chart(name: str, geometry: dict[str, object]) -> str:
    macro = getattr(chart_environment().get_template("charts.svg").module, name)
    return str(macro(geometry))


def status_ring_svg(dist: StatusDistribution) -> str:
    """A donut chart of the status distribution with its legend."""
    return _chart("status_ring", _charts.ring(dist))


def heatmap_svg(heatmap: ExceptionHeatmap, categories: Sequence[ExceptionCategory]) -> str:
    """Incidents by category (rows, in the category's colour) and ISO week (columns)."""
    return _chart("heatmap", _charts.heatmap(heatmap, categories))


def funnel_svg(funnel: QueryFunnel) -> str:
    """The customer query funnel as centred bars, each with its count and share of sent."""
    return _chart("funnel", _charts.funnel(funnel))


def histogram_svg(closure: ExceptionClosure) -> str:
    """Closure times of resolved incidents by bin; bars past the target are red."""
    return _chart("histogram", _charts.histogram(closure))


def render_html(report: HealthReport) -> str:
    """The report as one self-contained UTF-8 HTML document (a ``str``).

    Every text is escaped. Every order named in the report links to its drill-down
    section (or to ``report.order_url``), and each section lists the order's changes and
    incidents.
    """
    zone = pendulum.timezone(report.timezone)
    cats = {c.code: c for c in report.categories}
    s = report.snapshot
    period = s.period

    def local(instant: dt.datetime | None) -> str:
        if instant is None:
            return ""
        return dt.datetime.astimezone(instant, zone).strftime("%Y-%m-%d %H:%M")

    def href(order_id: str) -> str:
        if report.order_url is not None:
            return report.order_url.format(order_id=quote(order_id, safe=""))
        return "#" + order_anchor(order_id)

    def minutes(at: dt.datetime, occurred: dt.datetime) -> str:
        return f"{dt.datetime.__sub__(at, occurred).total_seconds() / 60:.0f}"

    subtitle = [
        x
        for x in (
            report.factory,
            f"{period.label} ({report.timezone})",
            f"生成 generated {local(report.generated_at)}",
            f"policy v{s.policy_version}",
        )
        if x
    ]
    context = {
        "report": report,
        "s": s,
        "period": period,
        "subtitle": subtitle,
        "marks": {"ok": "✔ 达标 met", "miss": "✘ 未达标 missed", "info": "–"},
        "numbers": {o.order_id: o.number for o in report.orders},
        "ring": _charts.ring(s.distribution),
        "funnel": _charts.funnel(s.funnel),
        "heatmap": _charts.heatmap(s.heatmap, report.categories),
        "histogram": _charts.histogram(s.closure),
        "local": local,
        "href": href,
        "anchor": order_anchor,
        "minutes": minutes,
        "stage": lambda code: STAGE_LABELS.get(code, code),
        "category": lambda code: cats.get(code, ExceptionCategory(code, code, "#7f7f7f")),
        "dec": lambda value, places: str(Decimal(value).quantize(Decimal(places))),
    }
    return chart_environment().get_template("health_report.html").render(context) + "\n"
