"""Draw synthetic contract pages with Pillow and a CJK font (see :mod:`.synthetic`)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from orderflow._extras import require
from orderflow.exceptions import InputError

__all__ = ["FONT_CANDIDATES", "PAGE_SIZE", "Page", "find_font", "money"]

#: A4 at 150 dpi.
PAGE_SIZE = (1240, 1754)
#: Debian CJK fonts tried in order (``fonts-wqy-microhei`` is what CI installs).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
_INK = (25, 25, 30)
_SEAL = (218, 32, 36)


def find_font(path: str | None = None) -> str:
    """A CJK font file: ``path`` if given, else the first Debian candidate present."""
    for candidate in (path,) if path else FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    raise InputError(
        "no CJK font found for synthetic contracts; install one: "
        "apt-get install fonts-wqy-microhei (or pass font=PATH)"
    )


def money(value: Decimal, commas: bool) -> str:
    """``1250.5`` -> ``1,250.50`` (or ``1250.50``)."""
    return f"{value:,.2f}" if commas else f"{value:.2f}"


class Page:
    """One white A4 page with a text cursor."""

    def __init__(self, font_path: str) -> None:
        image = require("PIL.Image", "ocr")
        self._draw_mod = require("PIL.ImageDraw", "ocr")
        self._font_mod = require("PIL.ImageFont", "ocr")
        self.image: Any = image.new("RGB", PAGE_SIZE, (250, 250, 247))
        self.draw: Any = self._draw_mod.Draw(self.image)
        self.font_path = font_path
        self.y = 90
        self._fonts: dict[int, Any] = {}

    def font(self, size: int) -> Any:
        """The font at ``size`` pixels (cached)."""
        if size not in self._fonts:
            self._fonts[size] = self._font_mod.truetype(self.font_path, size)
        return self._fonts[size]

    def text(self, x: int, text: str, size: int = 28, *, y: int | None = None) -> int:
        """Draw ``text`` at ``x`` (on the cursor row unless ``y``); returns its right edge."""
        font = self.font(size)
        top = self.y if y is None else y
        self.draw.text((x, top), text, font=font, fill=_INK)
        return int(x + self.draw.textlength(text, font=font))

    def line(self, text: str, size: int = 28, x: int = 90, gap: int = 26) -> None:
        """Draw ``text`` and move the cursor one line down."""
        self.text(x, text, size)
        self.y += size + gap

    def centred(self, text: str, size: int) -> None:
        """A centred title line."""
        width = self.draw.textlength(text, font=self.font(size))
        self.line(text, size, x=int((PAGE_SIZE[0] - width) / 2), gap=40)

    def labelled(self, label: str, value: str, split: bool, x: int = 90) -> None:
        """``label value`` on one line; ``split`` leaves a gap so OCR sees two boxes."""
        right = self.text(x, label)
        self.text(right + (70 if split else 0), value)
        self.y += 54

    def table(self, columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[str]]) -> None:
        """A ruled table: ``columns`` are (header, width) pairs."""
        x0, row_h = 90, 56
        xs = [x0]
        for _, width in columns:
            xs.append(xs[-1] + width)
        top = self.y
        for r, cells in enumerate([[c for c, _ in columns], *rows]):
            y = top + r * row_h
            for i, cell in enumerate(cells):
                self.text(xs[i] + 12, cell, 26, y=y + 13)
        bottom = top + (len(rows) + 1) * row_h
        for r in range(len(rows) + 2):
            self.draw.line([(x0, top + r * row_h), (xs[-1], top + r * row_h)], fill=_INK, width=2)
        for x in xs:
            self.draw.line([(x, top), (x, bottom)], fill=_INK, width=2)
        self.y = bottom + 30


def draw_seal(
    img: Any, centre: tuple[int, int], name: str, font_path: str, rng: random.Random
) -> Any:
    """A red company seal (ring, star, company name and 合同专用章) blended over ``img``."""
    image = require("PIL.Image", "ocr")
    draw_mod = require("PIL.ImageDraw", "ocr")
    font_mod = require("PIL.ImageFont", "ocr")
    radius = 105
    layer = image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = draw_mod.Draw(layer)
    cx, cy = centre
    colour = (*_SEAL, rng.randint(170, 215))  # seal ink lets the print show through
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=colour, width=7)
    star = []
    for k in range(10):
        r = 34 if k % 2 == 0 else 14
        a = -math.pi / 2 + k * math.pi / 5
        star.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.polygon(star, fill=colour)
    small = font_mod.truetype(font_path, 22)
    chars = name[:14]
    for i, ch in enumerate(chars):  # the company name runs round the upper arc
        a = math.pi * (1.15 + 0.7 * i / max(len(chars) - 1, 1))
        draw.text(
            (cx + 78 * math.cos(a) - 11, cy + 78 * math.sin(a) - 11), ch, font=small, fill=colour
        )
    label = font_mod.truetype(font_path, 20)
    draw.text((cx - 50, cy + 42), "合同专用章", font=label, fill=colour)
    return image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")
