"""The RapidOCR adapter of the OCR port (extra ``ocr``): PP-OCR models on onnxruntime, offline.

The ``rapidocr`` 3.x wheel ships its Chinese PP-OCR detection, recognition and
orientation models in ``rapidocr/models``. :class:`RapidOcrEngine` passes
their paths explicitly, so rapidocr never resolves a model name to a download
URL; the recognition model carries its character table inside the ONNX file,
so no dictionary is fetched either; and a local font path is passed for the
result visualiser (which would otherwise download one; orderflow never calls it).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orderflow._extras import require
from orderflow.exceptions import InputError
from orderflow.intake.model import OcrLine

__all__ = ["MODEL_FILES", "RapidOcrEngine", "bundled_models"]

#: The models used, by rapidocr task: file name in the rapidocr 3.10 wheel and its SHA-256.
#: Pinning the hashes means a different wheel cannot silently change what is recognised.
MODEL_FILES: dict[str, tuple[str, str]] = {
    "Det": (
        "PP-OCRv6_det_small.onnx",
        "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    ),
    "Rec": (
        "PP-OCRv6_rec_small.onnx",
        "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    ),
    "Cls": (
        "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
    ),
}

#: Debian's CJK font (fonts-wqy-microhei); any local TTF/TTC path works.
DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

_FIX = 'reinstall the pinned engine: pip install --force-reinstall "orderflow[ocr]"'


@functools.cache
def bundled_models() -> dict[str, Path]:
    """Paths of the pinned models inside the installed rapidocr wheel.

    Raises :class:`~orderflow.exceptions.MissingExtra` when rapidocr is not
    installed and :class:`~orderflow.exceptions.InputError` when a model file
    is missing or differs from the pinned hash (the fix is named in the message).
    """
    rapidocr = require("rapidocr", "ocr")
    root = Path(str(rapidocr.__file__)).parent / "models"
    paths = {}
    for task, (name, sha256) in MODEL_FILES.items():
        path = root / name
        if not path.is_file():
            raise InputError(f"rapidocr model {path} is missing; {_FIX}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != sha256:
            raise InputError(f"rapidocr model {path} has SHA-256 {digest}, not {sha256}; {_FIX}")
        paths[task] = path
    return paths


class RapidOcrEngine:
    """:class:`~orderflow.intake.ports.OcrEngine` over RapidOCR (PP-OCR, onnxruntime, CPU).

    ``max_side`` caps the longer image side fed to text detection (pixels): a
    phone photo is scaled down to it, which sets the speed (about linear in the
    pixel count) against small-text accuracy; 1280 reads 10.5 pt print on an A4
    photo (about 20 px text height after scaling) and costs about a third less
    than 1600. ``threads`` limits onnxruntime's threads (``None``: all cores).
    A line's confidence is its *lowest* character confidence (an average would
    hide one misread character), and each character's own confidence is passed
    on where rapidocr reports it.
    """

    def __init__(
        self, *, max_side: int = 1280, threads: int | None = None, font_path: str | None = None
    ) -> None:
        if max_side < 320:
            raise InputError(f"max_side must be at least 320 pixels, got {max_side}")
        require("onnxruntime", "ocr")
        rapidocr = require("rapidocr", "ocr")
        models = bundled_models()
        font = font_path or (DEFAULT_FONT if Path(DEFAULT_FONT).is_file() else None)
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,  # ±8° skew needs no 180° classifier; saves ~10%
            "Global.max_side_len": max_side,
            "Global.font_path": font,
            "Det.limit_type": "max",
            "Det.limit_side_len": max_side,
            **{f"{task}.model_path": str(path) for task, path in models.items()},
        }
        if threads is not None:
            for key in ("intra_op_num_threads", "inter_op_num_threads"):
                params[f"EngineConfig.onnxruntime.{key}"] = threads
        self._ocr: Any = rapidocr.RapidOCR(params=params)
        # rapidocr logs every call at INFO through its own logger; keep CLIs quiet
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    def read(self, image: bytes) -> Sequence[OcrLine]:
        """Every text line of the page, with its rotated box and lowest character confidence."""
        if not isinstance(image, bytes) or not image:
            raise InputError("an OCR page must be the non-empty bytes of an image file")
        try:
            out = self._ocr(image, return_word_box=True, return_single_char_box=True)
        except Exception as exc:  # rapidocr raises bare errors for undecodable input
            raise InputError(f"cannot read the page image: {exc}") from exc
        if out.boxes is None or out.txts is None:
            return []
        words = out.word_results if len(out.word_results) == len(out.txts) else None
        lines = []
        for i, (box, text, score) in enumerate(zip(out.boxes, out.txts, out.scores, strict=True)):
            confidence = float(score)
            chars: list[float] = []
            if words is not None and words[i]:
                chars = [float(w[1]) for w in words[i]]
                confidence = min([confidence, *chars])
            if len(chars) != len(text):
                chars = []  # not aligned with the text: the line's confidence stands for all
            lines.append(OcrLine(str(text), box.tolist(), confidence, chars=chars))
        return lines
