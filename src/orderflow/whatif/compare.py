"""Side by side: the recorded period, then the same demand replayed under each policy.

:func:`compare` measures the record and replays it once per :class:`Scenario`;
:func:`render_table` prints the comparison for a terminal, :func:`report_section` turns
it into a :class:`~orderflow.report.ReportSection` (what ``orderflow report --section``
reads) and :func:`write_section` writes it as an HTML page in the report's styles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import attrs

from orderflow.clock import to_micros
from orderflow.exceptions import InputError
from orderflow.metrics import Ratio
from orderflow.policy import Policy
from orderflow.report import ReportSection
from orderflow.service import OrderService
from orderflow.whatif.jobs import check_jobs, replay_all
from orderflow.whatif.measures import Outcome, months, outcome
from orderflow.whatif.recording import survey

__all__ = [
    "Comparison",
    "Scenario",
    "compare",
    "render_html",
    "render_table",
    "report_section",
    "write_section",
]


@attrs.frozen
class Scenario:
    """A policy to replay under, with the name its column gets."""

    name: str
    policy: Policy


@attrs.frozen
class Comparison:
    """The record (first) and each scenario's :class:`~orderflow.whatif.Outcome`."""

    period_label: str
    orders: int
    outcomes: tuple[Outcome, ...]


def compare(
    source: OrderService,
    year: int,
    month: int,
    count: int,
    scenarios: Sequence[Scenario],
    *,
    jobs: int = 1,
) -> Comparison:
    """Measure ``count`` months from ``year-month`` of ``source`` and replay them under
    each scenario (from the log's first entry: the months before the period set the
    stock, the open orders and the product streaks it starts from).

    ``jobs`` > 1 replays that many scenarios at once, each in a forked child process
    holding its own replayed store (``jobs`` times the memory); the comparison is
    the same whatever ``jobs`` is."""
    if not 1 <= count <= 24:
        raise InputError(f"replay between 1 and 24 months, not {count}")
    check_jobs(jobs)
    recorded_policy = source.policy
    period = months(year, month, count, recorded_policy.timezone)
    plan = survey(source)
    span = (to_micros(period.start), to_micros(period.end))
    if span[0] > plan.last_us:
        raise InputError(
            f"the log ends before {period.label}; choose a month it covers "
            "(see 'orderflow report --month')"
        )
    record, replays = replay_all(
        source, plan, [(s.name, s.policy) for s in scenarios], period, span, jobs=jobs,
        meanwhile=lambda: outcome("recorded", source, recorded_policy, period),
    )  # fmt: skip
    orders = replays[-1].orders if replays else 0
    return Comparison(period.label, orders, (record, *(r.outcome for r in replays)))


def _pct(r: Ratio) -> str:
    if r.share is None:
        return "-"
    return f"{r.share * 100:.1f}% ({r.numerator:,}/{r.denominator:,})"


def _rows(c: Comparison) -> list[tuple[str, ...]]:
    def hours(value: Decimal | None) -> str:
        return "-" if value is None else f"{value:.1f} h"

    o = c.outcomes
    return [
        ("On-time delivery", *(_pct(x.on_time) for x in o)),
        ("Kitting refusals", *(f"{x.kitting_refusals:,}" for x in o)),
        ("Mean wait for stock", *(hours(x.mean_wait_hours) for x in o)),
        ("Overdue warnings", *(f"{x.warnings:,}" for x in o)),
        ("Escalations", *(f"{x.escalations:,}" for x in o)),
        ("Stock held (value-days)", *(f"{x.value_days:,}" for x in o)),
        ("Exceptions closed in target", *(_pct(x.closure_within_target) for x in o)),
        ("Exception closure, median", *(hours(x.closure_median_hours) for x in o)),
        ("Notes", *(x.notes or "-" for x in o)),
    ]


def render_table(c: Comparison) -> str:
    """The comparison as a plain-text table (what ``orderflow whatif`` prints)."""
    head = (f"what-if {c.period_label}", *(x.label for x in c.outcomes))
    rows = [head, *_rows(c)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                  enumerate(zip(r, widths, strict=True))).rstrip()
        for r in rows
    ]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report_section(c: Comparison) -> ReportSection:
    """The comparison as a report section (``orderflow report --section FILE``)."""
    names = ", ".join(x.label for x in c.outcomes[1:])
    return ReportSection(
        id="whatif",
        title=f"What-if · {c.period_label}",
        summary=(
            f"The period's recorded demand ({c.orders:,} orders replayed from the start of "
            f"the log) under {names}, beside what was recorded. Arrivals, scans, incidents "
            "and floor steps are replayed as recorded; kitting, waits for stock and "
            "overdue warnings are decided again by each policy."
        ),
        columns=("Measure", *(x.label for x in c.outcomes)),
        rows=tuple(_rows(c)),
    )


def render_html(c: Comparison) -> str:
    """The comparison as a standalone HTML page in the monthly report's styles (one
    report section on a page of its own, through the report's autoescaped templates)."""
    from orderflow.report._html import chart_environment

    page = chart_environment().get_template("section_page.html")
    return page.render(section=report_section(c), footer="policy what-if") + "\n"


def write_section(c: Comparison, html: Path, section_json: Path | None = None) -> None:
    """Write the HTML page, and the report section as JSON if ``section_json``."""
    html.write_text(render_html(c), encoding="utf-8")
    if section_json is not None:
        section_json.write_text(
            json.dumps(attrs.asdict(report_section(c)), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
