"""Build OCR-line fixtures the way an engine reports them: text, a (possibly skewed) box."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from orderflow.intake.model import OcrLine


def text_width(text: str, size: float = 28) -> float:
    """Rendered width: CJK and full-width characters are square, the rest about half."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.55 for c in text)


def line(
    text: str,
    x: float,
    y: float,
    *,
    confidence: float = 0.99,
    angle_deg: float = 0.0,
    page: int = 0,
    size: float = 28,
) -> OcrLine:
    """A line whose unrotated box starts at (x, y); the page is rotated by ``angle_deg``."""
    w, h = text_width(text, size), size * 1.2
    corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    a = math.radians(angle_deg)
    box = [
        (px * math.cos(a) - py * math.sin(a), px * math.sin(a) + py * math.cos(a))
        for px, py in corners
    ]
    return OcrLine(text, box, confidence, page)


def table_page(
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] = ("型号", "品名", "数量", "单位", "单价(元)", "金额(元)"),
    angle_deg: float = 0.0,
    top: float = 600,
) -> list[OcrLine]:
    """A ruled table as OCR sees it: one box per non-empty cell."""
    xs = [90 + 160 * i for i in range(len(header))]
    out = [line(h, x, top, angle_deg=angle_deg) for h, x in zip(header, xs, strict=True)]
    for r, cells in enumerate(rows, start=1):
        for cell, x in zip(cells, xs, strict=False):
            if cell:
                out.append(line(cell, x, top + 56 * r, angle_deg=angle_deg))
    return out


def labelled_page(
    fields: Sequence[str], *, angle_deg: float = 0.0, top: float = 100
) -> list[OcrLine]:
    """One OCR line per ``label：value`` string, 54 px apart."""
    return [line(text, 90, top + 54 * i, angle_deg=angle_deg) for i, text in enumerate(fields)]
