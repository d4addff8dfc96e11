"""Fixtures for the real OCR engine: skipped without the ``ocr`` extra, failed under ``CI=true``."""

from __future__ import annotations

import importlib.util
import os

import pytest

from orderflow.intake.matching import MasterData


def _require_ocr() -> None:
    missing = [m for m in ("rapidocr", "onnxruntime", "PIL") if importlib.util.find_spec(m) is None]
    try:
        from orderflow.intake._render import find_font

        find_font()
    except Exception as exc:
        missing.append(str(exc))
    if missing:
        reason = f"real OCR tests need the ocr extra and a CJK font: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + ' (CI must run them: pip install -e ".[ocr]", .ci/services.sh)')
        pytest.skip(reason)


@pytest.fixture(scope="session")
def engine() -> object:
    """One RapidOcrEngine for the session (loading the models takes a moment)."""
    _require_ocr()
    from orderflow.adapters.ocr_rapid import RapidOcrEngine

    return RapidOcrEngine()


@pytest.fixture(scope="session")
def master() -> MasterData:
    """The synthetic contracts' master data."""
    _require_ocr()
    from orderflow.intake.synthetic import demo_master

    return demo_master()
