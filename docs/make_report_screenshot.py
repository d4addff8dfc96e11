"""Render the example health report in headless Chromium and save ``_static/report.png``.

Run from the repository root: ``python docs/make_report_screenshot.py``; with
``--html report.html --out docs/_static/demo-report.png`` it captures a report already
written (the demo's: ``orderflow demo`` first). Needs the Debian
packages ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``), ``selenium`` and, for the Chinese labels, a CJK font such as
``fonts-wqy-microhei``. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from orderflow.testing.browser import headless_chromium

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "_static" / "report.png"


def _example() -> object:
    spec = importlib.util.spec_from_file_location(
        "health_report", ROOT / "examples" / "health_report.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Write (or take) a report, open it in headless Chromium, and capture the page top."""
    import argparse

    from orderflow.report import render_html

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="a report already written (default: example)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        if args.html is not None:
            page = args.html.resolve()
        else:
            report = _example().build_demo_report()  # type: ignore[attr-defined]
            page.write_text(render_html(report), encoding="utf-8")
        driver = headless_chromium(Path(tmp) / "profile", window="1280,1400")
        try:
            driver.get(page.as_uri())
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
