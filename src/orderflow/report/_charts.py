"""Chart geometry for the report and the dashboard: numbers and texts, no markup.

The four charts (status ring, exception heatmap, query funnel, closure histogram) are
drawn by the macros in ``templates/charts.svg`` from what these functions compute, so
every text reaches the page through Jinja2's autoescaping.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from orderflow.metrics.calculators import (
    ExceptionClosure,
    ExceptionHeatmap,
    QueryFunnel,
    StatusDistribution,
)
from orderflow.policy.model import ExceptionCategory
from orderflow.workflow.definition import DEFAULT_DEFINITION

__all__ = ["STAGE_LABELS", "funnel", "heatmap", "histogram", "ring"]

STAGE_LABELS = {stage: str(label) for stage, label in DEFAULT_DEFINITION.label_table().items()}
"""Bilingual labels of the default workflow's stages, from its definition's label table
(the one the customer page and the slip view use); other stages show their code."""

CATEGORY_ZH = {
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
GOOD, BAD, MUTED = "#2e7d32", "#c62828", "#6b7280"
FUNNEL_LABELS = {
    "sent": "已发送 Link sent",
    "opened": "已打开 Opened",
    "viewed": "已查看 Viewed",
    "no_call": "未来电 No follow-up call",
}


def f(x: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def num(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros."""
    return f"{value.normalize():f}"


def category_label(cat: ExceptionCategory) -> str:
    """A category's label with its Chinese name first when known."""
    zh = CATEGORY_ZH.get(cat.code)
    return f"{zh} {cat.label}" if zh else cat.label


def _text_width(text: str, size: float) -> float:
    """A generous estimate of rendered text width in px (wide CJK glyphs count double)."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return size * (wide + 0.62 * (len(text) - wide))


def _stage_colour(stage: str, i: int) -> str:
    return _STAGE_COLOURS.get(stage, _PALETTE[i % len(_PALETTE)])


def ring(dist: StatusDistribution, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Donut segments (dash arrays on one circle) and legend rows of a status distribution."""
    names = labels or STAGE_LABELS
    width, height, cx, cy, r, w = 520, 240, 120, 120, 82, 34
    circumference = 2 * math.pi * r
    offset = 0.0
    total = dist.total
    segments, legend = [], []
    for i, c in enumerate(dist.stages):
        label = names.get(c.key, c.key)
        if c.count:
            length = circumference * c.count / total
            segments.append(
                {
                    "colour": _stage_colour(c.key, i),
                    "dash": f"{f(length)} {f(circumference - length)}",
                    "offset": f(-offset),
                    "title": f"{label}: {c.count:,}",
                }
            )
            offset += length
        share = f"{100 * c.count / total:.1f} %" if total else "–"
        legend.append(
            {
                "y": 28 + 26 * i,
                "colour": _stage_colour(c.key, i),
                "label": label,
                "value": f"{c.count:,} · {share}",
            }
        )
    return {
        "width": width,
        "height": height,
        "cx": cx,
        "cy": cy,
        "r": r,
        "w": w,
        "total": f"{total:,}",
        "segments": segments,
        "legend": legend,
        "muted": MUTED,
    }


def heatmap(hm: ExceptionHeatmap, categories: Sequence[ExceptionCategory]) -> dict[str, Any]:
    """Cells of incidents by category (rows, in the category's colour) and ISO week."""
    by_code = {c.code: c for c in categories}
    cell_w, cell_h, top = 56, 28, 34
    cats = {
        code: by_code.get(code, ExceptionCategory(code, code, "#7f7f7f")) for code in hm.categories
    }
    labels = {code: category_label(cat) for code, cat in cats.items()}
    # wide enough for the longest label (policies may add categories with long names)
    label_w = math.ceil(max([272.0, *(_text_width(t, 12.5) + 28 for t in labels.values())]))
    width = label_w + cell_w * max(1, len(hm.weeks)) + 10
    height = top + cell_h * max(1, len(hm.categories)) + 26
    peak = hm.max_count or 1
    weeks = [
        {"x": f(label_w + j * cell_w + cell_w / 2), "short": week.rpartition("-")[2], "week": week}
        for j, week in enumerate(hm.weeks)
    ]
    rows = []
    for i, code in enumerate(hm.categories):
        cat, y = cats[code], top + i * cell_h
        cells = []
        for j, week in enumerate(hm.weeks):
            n = hm.counts[i][j]
            x = label_w + j * cell_w
            cells.append(
                {
                    "x": x + 1,
                    "y": y + 1,
                    "w": cell_w - 2,
                    "h": cell_h - 2,
                    "n": n,
                    "fill": cat.colour if n else "#f3f4f6",
                    "opacity": f"{0.18 + 0.82 * n / peak:.2f}" if n else None,
                    "title": f"{cat.label} {week}: {n}",
                    "tx": f"{x + cell_w / 2:.1f}",
                    "ty": y + cell_h / 2 + 5,
                    "ink": "#ffffff" if n and n / peak > 0.55 else "#1f2937",
                }
            )
        rows.append(
            {
                "y": y,
                "colour": cat.colour,
                "label": labels[code],
                "ty": y + cell_h / 2 + 5,
                "cells": cells,
            }
        )
    return {
        "width": width,
        "height": height,
        "top": top,
        "weeks": weeks,
        "rows": rows,
        "total": f"{hm.total:,}",
        "muted": MUTED,
    }


def funnel(fn: QueryFunnel) -> dict[str, Any]:
    """Centred bars of the customer query funnel, each with its share of links sent."""
    width, bar_h, gap, top, max_w = 520, 34, 10, 10, 240
    base = fn.sent or 1
    colours = ("#1f3a5f", "#2f5f8f", "#4a86c5", "#2e7d32")
    cx = 178 + max_w / 2
    bars = []
    for k, (name, n) in enumerate(fn.steps):
        bar = max(2.0, max_w * n / base)
        y = top + k * (bar_h + gap)
        bars.append(
            {
                "label": FUNNEL_LABELS[name],
                "name": name,
                "n": f"{n:,}",
                "x": f(cx - bar / 2),
                "y": y,
                "w": f(bar),
                "h": bar_h,
                "ty": y + bar_h / 2 + 5,
                "colour": colours[k % len(colours)],
                "share": f"{100 * n / fn.sent:.1f} %" if fn.sent else "–",
            }
        )
    height = top + len(fn.steps) * (bar_h + gap) + 4
    return {"width": width, "height": height, "cx": f(cx), "bars": bars, "muted": MUTED}


def histogram(closure: ExceptionClosure) -> dict[str, Any]:
    """Bars of closure times by bin (red past the target) and the target line."""
    bins = closure.histogram
    width, height, left, bottom, top = 520, 240, 40, 44, 16
    plot_w, plot_h = width - left - 10, height - top - bottom
    bar_w = plot_w / max(1, len(bins))
    peak = max((b.count for b in bins), default=0) or 1
    bars, target_x = [], None
    for k, b in enumerate(bins):
        x = left + k * bar_w
        h = plot_h * b.count / peak
        over = b.upper_hours is None or b.upper_hours > closure.target_hours
        label = (
            f"{num(b.lower_hours)}+"
            if b.upper_hours is None
            else f"{num(b.lower_hours)}–{num(b.upper_hours)}"
        )
        bars.append(
            {
                "x": f(x + 3),
                "y": f(top + plot_h - h),
                "w": f(bar_w - 6),
                "h": f(h),
                "colour": BAD if over else GOOD,
                "label": label,
                "count": b.count,
                "cx": f(x + bar_w / 2),
                "cy": f(top + plot_h - h - 4),
            }
        )
        if b.upper_hours == closure.target_hours:
            target_x = x + bar_w
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_h": plot_h,
        "base": top + plot_h,
        "peak": peak,
        "bars": bars,
        "label_y": top + plot_h + 15,
        "target_x": None if target_x is None else f(target_x),
        "target_tx": None if target_x is None else f(target_x + 4),
        "target": num(closure.target_hours),
        "caption_x": f"{left + plot_w / 2:.0f}",
        "resolved": f"{closure.resolved:,}",
        "open": f"{closure.still_open:,}",
        "muted": MUTED,
    }
