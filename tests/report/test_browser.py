"""The rendered report in a real headless Chromium: title, charts drawn, drill-down works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orderflow.report import order_anchor, render_html
from tests.report.fixtures import sample_report

pytestmark = pytest.mark.browser


def test_report_renders_and_drills_down(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    report = sample_report()
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    driver.get(page.as_uri())

    assert driver.title == f"{report.title} 2026-01"
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg')).map(s => {"
        " const r = s.getBoundingClientRect(); return [s.id, r.width, r.height]; });"
    )
    assert {s[0] for s in sizes} == {
        "chart-status",
        "chart-heatmap",
        "chart-funnel",
        "chart-closure",
    }
    for name, width, height in sizes:
        assert width > 100 and height > 50, name
    # The ring really drew its segments (non-zero painted geometry).
    ring = driver.execute_script(
        "return document.querySelector('#chart-status circle:nth-of-type(2)').getBBox().width;"
    )
    assert ring > 0

    anchor = order_anchor("late-1")
    link = driver.find_element(By.CSS_SELECTOR, f'a.order[href="#{anchor}"]')
    link.click()
    assert driver.current_url.endswith(f"#{anchor}")
    section = driver.find_element(By.ID, anchor)
    assert "late-1" in section.text
    assert driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= -1 && r.top < window.innerHeight;",
        section,
    )
    assert driver.execute_script("return arguments[0].matches(':target');", section)
