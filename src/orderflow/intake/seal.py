"""Red-seal detection: where on a page is a company seal (公章/合同专用章)?

Chinese contracts are sealed in red ink. Pixels that are saturated red (hue within
~15 degrees of red) are found on a reduced copy of the page and grouped into
connected blobs; a blob covering at least :data:`SEAL_MIN_SHARE` of the page is a
seal. Black text, blue ink and paper shading do not qualify. The seals' regions
matter twice: a page with one has been sealed, and text under one is read less
reliably (the parser lowers the confidence of fields that overlap a seal).
Pillow comes with the ``ocr`` extra.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt

from orderflow._extras import require
from orderflow.intake.model import Region

__all__ = ["SEAL_MIN_SHARE", "find_seals", "has_red_seal"]

#: Share of the page a red blob must cover to count as a seal; a 4 cm seal on A4 is ~1.5%.
SEAL_MIN_SHARE = 0.002
_GRID = 8  # seal ink is broken by the print under it; blobs are joined on an 8 px grid


def _red_mask(image: bytes) -> tuple[npt.NDArray[np.bool_], float]:
    pil = require("PIL.Image", "ocr")
    with pil.open(io.BytesIO(image)) as img:
        rgb = img.convert("RGB")
        scale = max(rgb.size) / 480
        small = rgb.resize((max(1, round(rgb.width / scale)), max(1, round(rgb.height / scale))))
        hsv = np.asarray(small.convert("HSV"), dtype=np.int16)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    # PIL hue runs 0..255 for 0..360 degrees: red is near both ends
    mask: npt.NDArray[np.bool_] = ((hue <= 11) | (hue >= 244)) & (sat >= 90) & (val >= 90)
    return mask, scale


def _blobs(cells: npt.NDArray[np.bool_]) -> list[tuple[int, int, int, int, int]]:
    """(row0, col0, row1, col1, count) of each 8-connected blob of true cells."""
    seen = np.zeros_like(cells)
    out = []
    rows, cols = cells.shape
    for r0, c0 in zip(*np.nonzero(cells), strict=True):
        if seen[r0, c0]:
            continue
        stack = [(int(r0), int(c0))]
        seen[r0, c0] = True
        box = [int(r0), int(c0), int(r0), int(c0), 0]
        while stack:
            r, c = stack.pop()
            box[0], box[1] = min(box[0], r), min(box[1], c)
            box[2], box[3] = max(box[2], r), max(box[3], c)
            box[4] += 1
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < rows and 0 <= nc < cols and cells[nr, nc] and not seen[nr, nc]:
                        seen[nr, nc] = True
                        stack.append((nr, nc))
        out.append((box[0], box[1], box[2], box[3], box[4]))
    return out


def find_seals(image: bytes, page: int = 0, min_share: float = SEAL_MIN_SHARE) -> list[Region]:
    """The regions (in the image's pixels) of the red seals on the page."""
    mask, scale = _red_mask(image)
    h, w = mask.shape
    gh, gw = -(-h // _GRID) * _GRID, -(-w // _GRID) * _GRID
    padded = np.zeros((gh, gw), dtype=np.int32)
    padded[:h, :w] = mask
    counts = padded.reshape(gh // _GRID, _GRID, gw // _GRID, _GRID).sum(axis=(1, 3))
    regions = []
    for r0, c0, r1, c1, _ in _blobs(counts > 0):
        red = int(counts[r0 : r1 + 1, c0 : c1 + 1].sum())
        if red >= min_share * h * w:
            f = _GRID * scale
            regions.append(
                Region(page, int(c0 * f), int(r0 * f), int((c1 + 1) * f), int((r1 + 1) * f))
            )
    return regions


def has_red_seal(image: bytes, min_share: float = SEAL_MIN_SHARE) -> bool:
    """True if the page carries at least one red seal."""
    return bool(find_seals(image, min_share=min_share))
