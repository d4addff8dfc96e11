"""The OCR port: what contract intake needs from a text-recognition engine (R12).

The bundled adapter is :class:`orderflow.adapters.ocr_rapid.RapidOcrEngine`
(``pip install "orderflow[ocr]"``); a plant can plug in any other engine that
returns text lines with their boxes and confidences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from orderflow.intake.model import OcrLine

__all__ = ["OcrEngine"]


@runtime_checkable
class OcrEngine(Protocol):
    """Port: recognise the text lines of one page image.

    ``image`` is the encoded file (JPEG, PNG, ...) exactly as photographed.
    Returned lines carry ``page=0``; the caller renumbers them. Engines must
    work offline: models ship with the engine, nothing is fetched at run time.
    """

    def read(self, image: bytes) -> Sequence[OcrLine]:
        """Every text line found on the page, in any order."""
        ...
