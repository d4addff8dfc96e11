"""Render a :class:`~orderflow.report.HealthReport` as one self-contained HTML file.

No external assets and no JavaScript: the CSS is inline and the four charts are inline
SVG drawn here (status ring, exception heatmap, query funnel, closure-time histogram).
The output is well-formed XML as well as HTML (every tag closed, every attribute quoted,
only XML's five entities), so it can be checked with any XML parser.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from html import escape
from urllib.parse import quote

import pendulum

from orderflow.domain.incident import Incident
from orderflow.metrics.calculators import ExceptionClosure, ExceptionHeatmap, QueryFunnel
from orderflow.metrics.calculators import StatusDistribution as _Dist
from orderflow.policy.model import ExceptionCategory
from orderflow.report.model import HealthReport, OrderDrill, RowStatus
from orderflow.workflow.definition import DEFAULT_DEFINITION
from orderflow.workflow.machine import ChangeRecord

__all__ = ["STAGE_LABELS", "order_anchor", "render_html"]

STAGE_LABELS = {stage: str(label) for stage, label in DEFAULT_DEFINITION.label_table().items()}
"""Bilingual labels of the default workflow's stages, from its definition's label table
(the one the customer page and the slip view use); other stages show their code."""

_CATEGORY_ZH = {
    "stock_shortage": "缺料",
    "drawing_change": "图纸变更",
    "logistics": "物流",
    "drawing_version_conflict": "图纸版本冲突",
    "mould_maintenance": "模具维修停机",
    "qc_failure": "质检不合格",
    "customer_change": "客户变更",
}

_STAGE_COLOURS = {
    "pending_review": "#9ecae1",
    "kitting_locked": "#4292c6",
    "production_dispatched": "#f2a541",
    "qc_released": "#74c476",
    "delivered": "#238b45",
    "cancelled": "#969696",
    "on_hold": "#de6b48",
}
_PALETTE = ("#6a51a3", "#e7298a", "#66a61e", "#a6761d", "#1b9e77", "#d95f02", "#7570b3")
_GOOD, _BAD, _MUTED = "#2e7d32", "#c62828", "#6b7280"
_FUNNEL_LABELS = {
    "sent": "已发送 Link sent",
    "opened": "已打开 Opened",
    "viewed": "已查看 Viewed",
    "no_call": "未来电 No follow-up call",
}

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC",
  "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; color: #1f2937;
  background: #f6f7f9; }
header { background: #1f3a5f; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header p { margin: 0; opacity: .85; }
main { padding: 20px 32px 40px; max-width: 1280px; }
h2 { font-size: 17px; margin: 26px 0 10px; }
h3 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e5e7eb;
  vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { font-weight: 600; white-space: nowrap; }
.status.ok { color: #2e7d32; } .status.miss { color: #c62828; } .status.info { color: #6b7280; }
.basis { color: #6b7280; font-size: 12.5px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid #e5e7eb; border-radius: 6px;
  padding: 12px 14px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
figure svg { display: block; max-width: 100%; height: auto; }
.lists { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
.lists section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px;
  padding: 12px 14px; }
.empty { color: #6b7280; font-style: italic; }
a.order { color: #1d4ed8; text-decoration: none; font-family: ui-monospace, monospace; }
a.order:hover { text-decoration: underline; }
.order-detail { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px;
  padding: 12px 14px; margin: 0 0 12px; scroll-margin-top: 12px; }
.order-detail:target { outline: 3px solid #f2a541; }
.order-detail small { color: #6b7280; font-weight: 400; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; vertical-align: baseline; }
footer { color: #6b7280; font-size: 12px; padding: 0 32px 24px; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def order_anchor(order_id: str) -> str:
    """The HTML id of an order's drill-down section (safe for any order id).

    Letters, digits, ``_`` and ``-`` are kept; any other character becomes ``.`` plus
    its hex code point, so distinct ids never share an anchor.
    """
    return "order-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}", order_id)


class _Ctx:
    def __init__(self, report: HealthReport) -> None:
        self.report = report
        self.zone = pendulum.timezone(report.timezone)
        self.numbers = {o.order_id: o.number for o in report.orders}
        self.sections = {o.order_id for o in report.orders}

    def href(self, order_id: str) -> str:
        template = self.report.order_url
        if template is not None:
            return template.format(order_id=quote(order_id, safe=""))
        return "#" + order_anchor(order_id)

    def link(self, order_id: str) -> str:
        number = self.numbers.get(order_id) or order_id
        return (
            f'<a class="order" href="{_e(self.href(order_id))}" title="{_e(order_id)}">'
            f"{_e(number)}</a>"
        )

    def local(self, instant: dt.datetime | None) -> str:
        if instant is None:
            return ""
        return dt.datetime.astimezone(instant, self.zone).strftime("%Y-%m-%d %H:%M")


def _category_label(cat: ExceptionCategory) -> str:
    zh = _CATEGORY_ZH.get(cat.code)
    return f"{zh} {cat.label}" if zh else cat.label


def _text_width(text: str, size: float) -> float:
    """A generous estimate of rendered text width in px (wide CJK glyphs count double)."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return size * (wide + 0.62 * (len(text) - wide))


def _stage_colour(stage: str, i: int) -> str:
    return _STAGE_COLOURS.get(stage, _PALETTE[i % len(_PALETTE)])


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- charts


def status_ring_svg(dist: _Dist) -> str:
    """A donut chart of the status distribution with its legend."""
    width, height, cx, cy, r, w = 520, 240, 120, 120, 82, 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-status" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        "<title>订单状态分布 Order status distribution</title>",
        f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="#e5e7eb" stroke-width="{w}"/>',
    ]
    circumference = 2 * math.pi * r
    offset = 0.0
    total = dist.total
    for i, c in enumerate(dist.stages):
        if not c.count:
            continue
        length = circumference * c.count / total
        parts.append(
            f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" '
            f'stroke="{_stage_colour(c.key, i)}" stroke-width="{w}" '
            f'stroke-dasharray="{_f(length)} {_f(circumference - length)}" '
            f'stroke-dashoffset="{_f(-offset)}" transform="rotate(-90 {cx} {cy})">'
            f"<title>{_e(STAGE_LABELS.get(c.key, c.key))}: {c.count:,}</title></circle>"
        )
        offset += length
    parts.append(
        f'<text x="{cx}" y="{cy - 4}" text-anchor="middle" font-size="26" '
        f'font-weight="600" fill="#1f2937">{total:,}</text>'
        f'<text x="{cx}" y="{cy + 18}" text-anchor="middle" font-size="12" '
        f'fill="{_MUTED}">订单 orders</text>'
    )
    y = 28
    for i, c in enumerate(dist.stages):
        share = f"{100 * c.count / total:.1f} %" if total else "–"
        parts.append(
            f'<rect x="250" y="{y - 11}" width="12" height="12" rx="2" '
            f'fill="{_stage_colour(c.key, i)}"/>'
            f'<text x="270" y="{y}" font-size="13" fill="#1f2937">'
            f"{_e(STAGE_LABELS.get(c.key, c.key))}</text>"
            f'<text x="{width - 8}" y="{y}" font-size="13" text-anchor="end" '
            f'fill="#1f2937">{c.count:,} · {share}</text>'
        )
        y += 26
    parts.append("</svg>")
    return "".join(parts)


def heatmap_svg(heatmap: ExceptionHeatmap, categories: Sequence[ExceptionCategory]) -> str:
    """Incidents by category (rows, in the category's colour) and ISO week (columns)."""
    by_code = {c.code: c for c in categories}
    cell_w, cell_h, top = 56, 28, 34
    # wide enough for the longest label (policies may add categories with long names)
    labels = {code: _category_label(by_code.get(code, ExceptionCategory(code, code, "#7f7f7f")))
              for code in heatmap.categories}  # fmt: skip
    label_w = math.ceil(max([272.0, *(_text_width(t, 12.5) + 28 for t in labels.values())]))
    width = label_w + cell_w * max(1, len(heatmap.weeks)) + 10
    height = top + cell_h * max(1, len(heatmap.categories)) + 26
    peak = heatmap.max_count or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-heatmap" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        "<title>异常类型热力图 Exception types by week</title>",
    ]
    for j, week in enumerate(heatmap.weeks):
        x = label_w + j * cell_w + cell_w / 2
        parts.append(
            f'<text x="{_f(x)}" y="{top - 10}" font-size="12" text-anchor="middle" '
            f'fill="{_MUTED}">{_e(week.rpartition("-")[2])}<title>{_e(week)}</title></text>'
        )
    for i, code in enumerate(heatmap.categories):
        cat = by_code.get(code, ExceptionCategory(code, code, "#7f7f7f"))
        y = top + i * cell_h
        parts.append(
            f'<rect x="0" y="{y + 8}" width="12" height="12" rx="2" fill="{_e(cat.colour)}"/>'
            f'<text x="18" y="{y + cell_h / 2 + 5}" font-size="12.5" fill="#1f2937">'
            f"{_e(labels[code])}</text>"
        )
        for j, week in enumerate(heatmap.weeks):
            n = heatmap.counts[i][j]
            x = label_w + j * cell_w
            if n:
                opacity = 0.18 + 0.82 * n / peak
                fill = f'fill="{_e(cat.colour)}" fill-opacity="{opacity:.2f}"'
            else:
                fill = 'fill="#f3f4f6"'
            ink = "#ffffff" if n and n / peak > 0.55 else "#1f2937"
            parts.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'rx="3" {fill}><title>{_e(cat.label)} {_e(week)}: {n}</title></rect>'
            )
            if n:
                parts.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 5}" font-size="12" '
                    f'text-anchor="middle" fill="{ink}">{n}</text>'
                )
    parts.append(
        f'<text x="0" y="{height - 6}" font-size="12" fill="{_MUTED}">'
        f"合计 total: {heatmap.total:,}</text></svg>"
    )
    return "".join(parts)


def funnel_svg(funnel: QueryFunnel) -> str:
    """The customer query funnel as centred bars, each with its count and share of sent."""
    width, bar_h, gap, top, max_w = 520, 34, 10, 10, 240
    steps = funnel.steps
    height = top + len(steps) * (bar_h + gap) + 4
    base = funnel.sent or 1
    colours = ("#1f3a5f", "#2f5f8f", "#4a86c5", "#2e7d32")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-funnel" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        "<title>客户查询漏斗 Customer query funnel</title>",
    ]
    cx = 178 + max_w / 2
    for k, (name, n) in enumerate(steps):
        bar = max(2.0, max_w * n / base)
        y = top + k * (bar_h + gap)
        share = f"{100 * n / funnel.sent:.1f} %" if funnel.sent else "–"
        parts.append(
            f'<text x="0" y="{y + bar_h / 2 + 5}" font-size="13" fill="#1f2937">'
            f"{_e(_FUNNEL_LABELS[name])}</text>"
            f'<rect x="{_f(cx - bar / 2)}" y="{y}" width="{_f(bar)}" height="{bar_h}" rx="3" '
            f'fill="{colours[k % len(colours)]}"><title>{_e(name)}: {n:,}</title></rect>'
            f'<text x="{_f(cx)}" y="{y + bar_h / 2 + 5}" font-size="12.5" '
            f'text-anchor="middle" fill="#ffffff" stroke="#1f2937" stroke-width="0.6" '
            f'paint-order="stroke">{n:,}</text>'
            f'<text x="{width - 4}" y="{y + bar_h / 2 + 5}" font-size="12.5" '
            f'text-anchor="end" fill="{_MUTED}">{share}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _dec(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places)))


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"


def histogram_svg(closure: ExceptionClosure) -> str:
    """Closure times of resolved incidents by bin; bars past the target are red."""
    bins = closure.histogram
    width, height, left, bottom, top = 520, 240, 40, 44, 16
    plot_w = width - left - 10
    plot_h = height - top - bottom
    bar_w = plot_w / max(1, len(bins))
    peak = max((b.count for b in bins), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-closure" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        "<title>异常闭环时长分布 Exception closure time histogram</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        f'stroke="#9ca3af"/>',
        f'<text x="{left - 6}" y="{top + 10}" font-size="11" text-anchor="end" '
        f'fill="{_MUTED}">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="11" text-anchor="end" '
        f'fill="{_MUTED}">0</text>',
    ]
    target_x = None
    for k, b in enumerate(bins):
        x = left + k * bar_w
        h = plot_h * b.count / peak
        over = b.upper_hours is None or b.upper_hours > closure.target_hours
        colour = _BAD if over else _GOOD
        label = (
            f"{_num(b.lower_hours)}+"
            if b.upper_hours is None
            else f"{_num(b.lower_hours)}–{_num(b.upper_hours)}"
        )
        parts.append(
            f'<rect x="{_f(x + 3)}" y="{_f(top + plot_h - h)}" width="{_f(bar_w - 6)}" '
            f'height="{_f(h)}" fill="{colour}" fill-opacity="0.85">'
            f"<title>{_e(label)} h: {b.count}</title></rect>"
            f'<text x="{_f(x + bar_w / 2)}" y="{top + plot_h + 15}" font-size="10.5" '
            f'text-anchor="middle" fill="{_MUTED}">{_e(label)}</text>'
        )
        if b.count:
            parts.append(
                f'<text x="{_f(x + bar_w / 2)}" y="{_f(top + plot_h - h - 4)}" '
                f'font-size="11" text-anchor="middle" fill="#1f2937">{b.count}</text>'
            )
        if b.upper_hours == closure.target_hours:
            target_x = x + bar_w
    if target_x is not None:
        parts.append(
            f'<line x1="{_f(target_x)}" y1="{top - 4}" x2="{_f(target_x)}" '
            f'y2="{top + plot_h}" stroke="#1f2937" stroke-dasharray="4 3"/>'
            f'<text x="{_f(target_x + 4)}" y="{top + 8}" font-size="11" fill="#1f2937">'
            f"目标 target {_num(closure.target_hours)} h</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" font-size="11.5" '
        f'text-anchor="middle" fill="{_MUTED}">小时 hours, alert to resolution '
        f"({closure.resolved:,} resolved, {closure.still_open:,} open)</text></svg>"
    )
    return "".join(parts)


# --------------------------------------------------------------------------- tables


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    body = ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    if not body:
        return f'<p class="empty">{_e(empty)}</p>'
    cols = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{cols}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _headline(report: HealthReport) -> str:
    marks = {RowStatus.OK: "✔ 达标 met", RowStatus.MISS: "✘ 未达标 missed", RowStatus.INFO: "–"}
    rows = "".join(
        f'<tr id="metric-{_e(r.key)}"><td>{_e(r.label)}</td><td class="num">{_e(r.value)}</td>'
        f'<td class="num">{_e(r.target)}</td>'
        f'<td class="status {r.status.value}">{_e(marks[r.status])}</td>'
        f'<td class="basis">{_e(r.basis)}</td></tr>'
        for r in report.headline
    )
    return (
        '<table id="headline"><thead><tr><th>指标 Metric</th><th>本月 Value</th>'
        "<th>目标 Target</th><th>状态 Status</th><th>依据 Counts</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _lists(report: HealthReport, ctx: _Ctx) -> str:
    s = report.snapshot
    cats = {c.code: c for c in report.categories}

    def cat(code: str) -> str:
        c = cats.get(code, ExceptionCategory(code, code, "#7f7f7f"))
        return f'<span class="swatch" style="background:{_e(c.colour)}"></span>{_e(c.label)}'

    blocks = [
        (
            "最迟录入的状态变更 · Latest-recorded status changes",
            _table(
                ("Order", "Change", "Occurred", "Recorded", "Delay (min)"),
                (
                    (
                        ctx.link(u.order_id),
                        _e(f"#{u.seq} {u.event} → {u.to_stage}"),
                        ctx.local(u.occurred_at),
                        ctx.local(u.recorded_at),
                        _e(_dec(u.delay_minutes, "1")),
                    )
                    for u in s.timeliness.worst
                ),
                "Every change was recorded within the tolerance.",
            ),
        ),
        (
            "未关闭异常 · Open incidents (oldest first)",
            _table(
                ("Order", "Category", "Opened", "Age (h)"),
                (
                    (
                        ctx.link(r.order_id),
                        cat(r.category),
                        ctx.local(r.opened_at),
                        _e(_dec(r.hours, "0.1")),
                    )
                    for r in s.closure.oldest_open
                ),
                "No incident of the period is still open.",
            ),
        ),
        (
            "闭环最慢的异常 · Slowest closed incidents",
            _table(
                ("Order", "Category", "Opened", "Closure (h)", "Root cause"),
                (
                    (
                        ctx.link(r.order_id),
                        cat(r.category),
                        ctx.local(r.opened_at),
                        _e(_dec(r.hours, "0.01")),
                        _e(r.root_cause or ""),
                    )
                    for r in s.closure.slowest
                ),
                "No incident was resolved in the period.",
            ),
        ),
        (
            "根因分布 · Root causes",
            _table(
                ("Root cause", "Incidents"),
                ((_e(c.key), f"{c.count:,}") for c in s.root_causes.root_causes),
                "No resolved incident in the period.",
            ),
        ),
        (
            "延期交付 · Late deliveries",
            _table(
                ("Order", "Requested", "Delivered", "Days late"),
                (
                    (
                        ctx.link(d.order_id),
                        _e(d.requested_date.isoformat()),
                        _e(d.delivered_on.isoformat()),
                        str(d.days_late),
                    )
                    for d in s.on_time.late
                ),
                "Every delivery of the period was on time.",
            ),
        ),
        (
            "客户所见与实际偏差最大 · Largest status gaps seen by customers",
            _table(
                ("Order", "Viewed", "Shown", "Real", "Gap (h)"),
                (
                    (
                        ctx.link(g.order_id),
                        ctx.local(g.viewed_at),
                        _e(STAGE_LABELS.get(g.shown_stage, g.shown_stage)),
                        _e(STAGE_LABELS.get(g.real_stage, g.real_stage)),
                        _e(_dec(g.gap_hours, "0.01")),
                    )
                    for g in s.accuracy.worst
                ),
                "Every measured view showed the real stage.",
            ),
        ),
        (
            "审计链未通过校验的订单 · Orders whose audit chain did not verify",
            _table(
                ("Order",),
                ((ctx.link(oid),) for oid in s.traceability.unverified),
                "Every order's audit chain is complete and verifies.",
            ),
        ),
    ]
    return "".join(f"<section><h3>{_e(title)}</h3>{body}</section>" for title, body in blocks)


def _order_section(drill: OrderDrill, ctx: _Ctx, cats: dict[str, ExceptionCategory]) -> str:
    def change_row(r: ChangeRecord) -> Sequence[str]:
        occurred = r.occurred_at or r.at
        delay = dt.datetime.__sub__(r.at, occurred)
        minutes = f"{delay.total_seconds() / 60:.0f}"
        return (
            str(r.seq),
            _e(r.event),
            _e(f"{r.from_stage} → {r.to_stage}"),
            _e(r.actor),
            ctx.local(occurred),
            ctx.local(r.at),
            minutes,
            _e(r.reason or ""),
        )

    def incident_row(i: Incident) -> Sequence[str]:
        c = cats.get(i.category)
        label = c.label if c else i.category
        return (
            _e(label),
            ctx.local(i.opened_at),
            _e(" / ".join(x for x in (i.operator, i.device, i.batch) if x)),
            ctx.local(i.resolved_at) or "open",
            _e(i.root_cause or ""),
        )

    title = drill.number or drill.order_id
    return (
        f'<section class="order-detail" id="{_e(order_anchor(drill.order_id))}">'
        f"<h3>订单 Order {_e(title)} <small>{_e(drill.order_id)}</small></h3>"
        + _table(
            ("Seq", "Event", "Stage", "By", "Occurred", "Recorded", "Delay (min)", "Reason"),
            (change_row(r) for r in drill.changes),
            "No change records were supplied for this order.",
        )
        + (
            "<h4>异常 Incidents</h4>"
            + _table(
                ("Category", "Opened", "Operator / device / batch", "Resolved", "Root cause"),
                (incident_row(i) for i in drill.incidents),
                "",
            )
            if drill.incidents
            else ""
        )
        + "</section>"
    )


def render_html(report: HealthReport) -> str:
    """The report as one self-contained UTF-8 HTML document (a ``str``).

    Every text is escaped. Every order named in the report links to its drill-down
    section (or to ``report.order_url``), and each section lists the order's changes and
    incidents.
    """
    ctx = _Ctx(report)
    s = report.snapshot
    period = s.period
    cats = {c.code: c for c in report.categories}
    sub = " · ".join(
        x
        for x in (
            _e(report.factory),
            f"{_e(period.label)} ({_e(report.timezone)})",
            f"生成 generated {_e(ctx.local(report.generated_at))}",
            f"policy v{s.policy_version}",
        )
        if x
    )
    charts = (
        f'<figure id="fig-status"><figcaption>订单状态分布 · Order status at month end'
        f"</figcaption>{status_ring_svg(s.distribution)}</figure>"
        f'<figure id="fig-funnel"><figcaption>客户查询漏斗 · Customer query funnel'
        f"</figcaption>{funnel_svg(s.funnel)}</figure>"
        f'<figure id="fig-heatmap"><figcaption>异常类型热力图 · Exceptions by type and week'
        f"</figcaption>{heatmap_svg(s.heatmap, report.categories)}</figure>"
        f'<figure id="fig-closure"><figcaption>异常闭环时长 · Exception closure time'
        f"</figcaption>{histogram_svg(s.closure)}</figure>"
    )
    extra = "".join(
        f'<h2 id="{_e(sec.id)}">{_e(sec.title)}</h2><p>{_e(sec.summary)}</p>'
        + _table(sec.columns, [[_e(c) for c in row] for row in sec.rows], "No discrepancy.")
        for sec in report.sections
    )
    orders = "".join(_order_section(d, ctx, cats) for d in report.orders)
    if not orders:
        orders = '<p class="empty">No order needs attention this month.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{_e(report.title)} {_e(period.label)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(report.title)}</h1><p>{sub}</p></header><main>"
        f"<h2>核心指标 · Headline metrics</h2>{_headline(report)}"
        f'<h2>图表 · Charts</h2><div class="charts">{charts}</div>'
        f'<h2>需关注 · Needs attention</h2><div class="lists">{_lists(report, ctx)}</div>'
        f"{extra}"
        f'<h2 id="orders">订单明细 · Order drill-down</h2>{orders}'
        "</main><footer>orderflow · R8 monthly order fulfilment health report</footer>"
        "</body></html>\n"
    )
