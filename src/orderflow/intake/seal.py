"""Red-seal detection: does a page carry a company seal (公章/合同专用章)?

Chinese contracts are sealed in red ink. A page counts as sealed when enough
of its pixels are saturated red (hue within ~15 degrees of red); black text,
blue ink and paper shading do not qualify. Pillow comes with the ``ocr`` extra.
"""

from __future__ import annotations

import io

import numpy as np

from orderflow._extras import require

__all__ = ["SEAL_MIN_SHARE", "has_red_seal", "red_share"]

#: Share of the page's pixels that must be seal-red; a 4 cm seal on A4 is about 1.5%.
SEAL_MIN_SHARE = 0.002


def red_share(image: bytes) -> float:
    """The share (0..1) of the page's pixels that are saturated red."""
    pil = require("PIL.Image", "ocr")
    with pil.open(io.BytesIO(image)) as img:
        small = img.convert("RGB")
        small.thumbnail((480, 480))
        hsv = np.asarray(small.convert("HSV"), dtype=np.int16)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    # PIL hue runs 0..255 for 0..360 degrees: red is near both ends
    red = ((hue <= 11) | (hue >= 244)) & (sat >= 90) & (val >= 90)
    return float(red.mean())


def has_red_seal(image: bytes, min_share: float = SEAL_MIN_SHARE) -> bool:
    """True if at least ``min_share`` of the page is seal-red."""
    return red_share(image) >= min_share
