"""Phone-photo degradations for synthetic contract pages (Pillow + numpy).

Each takes and returns a Pillow RGB image; they model what a salesperson's
phone does to a contract on a desk: a tilted shot, a slanted one
(perspective), focus blur, a lamp lighting one side, heavy JPEG compression.
"""

from __future__ import annotations

import io
import random
from typing import Any

import numpy as np

from orderflow._extras import require

__all__ = ["blur", "jpeg", "perspective", "rotate", "uneven_light"]

_DESK = (96, 92, 88)  # the desk around the sheet after rotating


def rotate(img: Any, degrees: float) -> Any:
    """Rotate counter-clockwise by ``degrees``, showing the desk in the corners."""
    image = require("PIL.Image", "ocr")
    return img.rotate(degrees, resample=image.Resampling.BILINEAR, expand=True, fillcolor=_DESK)


def _coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    # solve the 8 perspective coefficients mapping dst corners to src corners (PIL convention)
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = np.array([c for p in src for c in p], dtype=np.float64)
    result: list[float] = np.linalg.solve(a, b).tolist()
    return result


def perspective(img: Any, rng: random.Random, strength: float = 0.05) -> Any:
    """Move each corner inwards by up to ``strength`` of the side (a slanted shot)."""
    image = require("PIL.Image", "ocr")
    w, h = img.size
    src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
    dx, dy = w * strength, h * strength
    dst = [
        (rng.uniform(0, dx), rng.uniform(0, dy)),
        (w - rng.uniform(0, dx), rng.uniform(0, dy)),
        (w - rng.uniform(0, dx), h - rng.uniform(0, dy)),
        (rng.uniform(0, dx), h - rng.uniform(0, dy)),
    ]
    return img.transform(
        (w, h),
        image.Transform.PERSPECTIVE,
        _coeffs(src, dst),
        resample=image.Resampling.BILINEAR,
        fillcolor=_DESK,
    )


def blur(img: Any, radius: float) -> Any:
    """Gaussian focus blur of ``radius`` pixels."""
    image_filter = require("PIL.ImageFilter", "ocr")
    return img.filter(image_filter.GaussianBlur(radius))


def uneven_light(img: Any, rng: random.Random, darkest: float = 0.55) -> Any:
    """Darken the page towards one corner down to ``darkest`` of the original brightness."""
    image = require("PIL.Image", "ocr")
    arr = np.asarray(img, dtype=np.float32)
    h, w = arr.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.choice([(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)])
    dist = np.hypot(xx - cx, yy - cy) / float(np.hypot(w, h))
    gain = darkest + (1 - darkest) * np.clip(dist * 1.4, 0, 1)
    out = np.clip(arr * gain[..., None], 0, 255).astype(np.uint8)
    return image.fromarray(out)


def jpeg(img: Any, quality: int) -> bytes:
    """The page encoded as JPEG at ``quality`` (35 is a heavily compressed chat photo)."""
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
