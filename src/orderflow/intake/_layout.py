"""Page geometry for the parser: deskew OCR boxes and group them into rows.

A phone photo is rotated by a few degrees, which over a table's width moves
a row by more than the row pitch; the parser therefore works in *deskewed*
coordinates: every box is rotated back by the page's median text angle.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import attrs

from orderflow.intake._text import normalise
from orderflow.intake.model import OcrLine

__all__ = ["Item", "layout_page", "right_neighbour", "row_of"]


@attrs.frozen
class Item:
    """An OCR line in deskewed page coordinates, with its matching form of the text."""

    line: OcrLine
    text: str
    conf: tuple[float, ...]
    """Confidence of each character of ``text``."""
    x0: float
    x1: float
    y: float
    h: float

    @property
    def xc(self) -> float:
        """Horizontal centre."""
        return (self.x0 + self.x1) / 2


def _skew(lines: Sequence[OcrLine]) -> float:
    # only long lines give a trustworthy angle; a short box's corners are noise
    angles = [ln.angle for ln in lines if ln.region.x1 - ln.region.x0 > 4 * max(ln.height, 1.0)]
    return statistics.median(angles) if angles else 0.0


def layout_page(lines: Sequence[OcrLine]) -> list[Item]:
    """The page's lines deskewed and sorted top to bottom, then left to right."""
    angle = _skew(lines)
    cos, sin = math.cos(-angle), math.sin(-angle)
    items = []
    for ln in lines:
        # normalise character by character so each keeps its own confidence
        chars: list[str] = []
        conf: list[float] = []
        for ch, p in zip(ln.text, ln.char_confidences(), strict=True):
            n = normalise(ch)
            chars.append(n)
            conf.extend([p] * len(n))
        text = "".join(chars)
        if not text:
            continue
        pts = [(x * cos - y * sin, x * sin + y * cos) for x, y in ln.box]
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        items.append(
            Item(
                ln,
                text,
                tuple(conf),
                min(xs),
                max(xs),
                sum(ys) / 4,
                max(ln.height, max(ys) - min(ys), 1.0),
            )
        )
    items.sort(key=lambda it: (it.y, it.x0))
    return items


def row_of(anchor: Item, items: Sequence[Item], tolerance: float = 0.6) -> list[Item]:
    """Items whose vertical centre lies within ``tolerance`` text heights of ``anchor``'s."""
    limit = tolerance * anchor.h
    row = [it for it in items if abs(it.y - anchor.y) <= limit]
    return sorted(row, key=lambda it: it.x0)


def right_neighbour(anchor: Item, items: Sequence[Item]) -> Item | None:
    """The nearest item to the right of ``anchor`` on its row, if any."""
    right = [it for it in row_of(anchor, items) if it.x0 >= anchor.x1 - anchor.h / 2]
    right = [it for it in right if it is not anchor]
    return min(right, key=lambda it: it.x0) if right else None
