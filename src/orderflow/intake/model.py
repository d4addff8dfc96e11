"""Value objects of contract intake: OCR lines in, a parsed contract out (R12).

Everything here is an attrs frozen value, serialisable through
:mod:`orderflow.serialization`. Coordinates are image pixels (x right, y down)
of the page the text came from; confidences are the engine's 0..1 scores.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Generic, TypeVar

import attrs

__all__ = ["Contract", "ContractLine", "Field", "OcrLine", "Region"]

T = TypeVar("T")


@attrs.frozen
class Region:
    """An axis-aligned rectangle on one page (0-based page index), in pixels."""

    page: int
    x0: int
    y0: int
    x1: int
    y1: int

    def union(self, other: Region) -> Region:
        """The smallest region holding both (same page as ``self``)."""
        return Region(
            self.page,
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )


def _quad(value: object) -> tuple[tuple[float, float], ...]:
    points = tuple((float(p[0]), float(p[1])) for p in value)  # type: ignore[attr-defined]
    if len(points) != 4:
        raise ValueError(f"an OCR box needs 4 corner points, got {len(points)}")
    return points


def _floats(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


@attrs.frozen
class OcrLine:
    """One text line as an OCR engine reported it.

    ``box`` holds the four corners clockwise from top-left (engines report
    skewed lines as rotated quadrilaterals, which the parser uses to deskew).
    """

    text: str
    box: tuple[tuple[float, float], ...] = attrs.field(converter=_quad)
    confidence: float
    page: int = 0
    chars: tuple[float, ...] = attrs.field(default=(), converter=_floats)
    """Per-character confidences aligned with ``text``, when the engine reports them
    (a value's confidence is then that of its own characters, not of its label's)."""

    def char_confidences(self) -> tuple[float, ...]:
        """One confidence per character of ``text`` (the line's own when not reported)."""
        if len(self.chars) == len(self.text):
            return self.chars
        return (self.confidence,) * len(self.text)

    @property
    def region(self) -> Region:
        """The bounding rectangle of the box."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return Region(self.page, int(min(xs)), int(min(ys)), math.ceil(max(xs)), math.ceil(max(ys)))

    @property
    def angle(self) -> float:
        """Slope angle of the top edge in radians (positive: descending to the right)."""
        (x0, y0), (x1, y1) = self.box[0], self.box[1]
        return math.atan2(y1 - y0, x1 - x0)

    @property
    def height(self) -> float:
        """Length of the left edge (the text height)."""
        (x0, y0), (x3, y3) = self.box[0], self.box[3]
        return math.hypot(x3 - x0, y3 - y0)

    @property
    def centre(self) -> tuple[float, float]:
        """Mean of the four corners."""
        return (sum(p[0] for p in self.box) / 4, sum(p[1] for p in self.box) / 4)


@attrs.frozen
class Field(Generic[T]):
    """One value read from the contract, with how sure the reading is and where it came from.

    ``value`` is ``None`` when the contract did not yield the field;
    ``source`` is the OCR text the value was taken from (verbatim), and
    ``region`` where that text sits in the photo.
    """

    value: T | None
    confidence: float
    source: str = ""
    region: Region | None = None

    @classmethod
    def missing(cls) -> Field[T]:
        """A field the contract did not yield (confidence 0)."""
        return cls(None, 0.0)


@attrs.frozen
class ContractLine:
    """One ordered product line: model, quantity with its unit, unit price and amount."""

    model: Field[str]
    qty: Field[Decimal]
    unit: Field[str]
    unit_price: Field[Decimal]
    amount: Field[Decimal]

    @property
    def amount_consistent(self) -> bool | None:
        """``amount == qty x unit price`` (to the cent); ``None`` if a number is missing."""
        qty, price, amount = self.qty.value, self.unit_price.value, self.amount.value
        if qty is None or price is None or amount is None:
            return None
        return abs(qty * price - amount) < Decimal("0.01")


@attrs.frozen
class Contract:
    """What the parser read from the pages of one contract (no master-data lookups yet)."""

    buyer: Field[str]
    seller: Field[str]
    number: Field[str]
    delivery_address: Field[str]
    requested_date: Field[dt.date]
    lines: tuple[ContractLine, ...]
    signature: Field[bool]
    """True when a signature/seal block (签字/盖章 labels) was found; its confidence is high
    only when a red seal was found too (a seal alone reads as False, uncertain)."""
