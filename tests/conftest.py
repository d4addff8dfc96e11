"""Shared test configuration: Hypothesis profiles (CI is deterministic and bounded), and
the headless Chromium the browser tests share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("ORDERFLOW_NIGHTLY") == "1":
    settings.load_profile("nightly")
else:
    settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real headless Chromium for the browser tests (fails, never skips, under CI)."""
    from orderflow.testing.browser import headless_chromium, missing_browser

    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run on CI: {reason}")
        pytest.skip(reason)
    browser = headless_chromium(tmp_path_factory.mktemp("chromium-profile"))
    browser.set_page_load_timeout(20)
    try:
        yield browser
    finally:
        browser.quit()
