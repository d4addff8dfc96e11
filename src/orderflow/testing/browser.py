"""A real headless Chromium for page tests and screenshots (Debian chromium + chromedriver).

Nothing is downloaded: the browser and its driver come from the system (Debian's
``chromium`` and ``chromium-driver`` by default); Selenium comes with
``orderflow[testing]``. Other systems name their own: ``ORDERFLOW_CHROMIUM`` and
``ORDERFLOW_CHROMEDRIVER`` (paths or command names), or the ``browser=``/``driver=``
arguments; otherwise ``chromium``, ``chromium-browser`` or ``google-chrome`` and
``chromedriver`` are looked up on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from orderflow._extras import require
from orderflow.exceptions import InputError

__all__ = ["find_browser", "headless_chromium", "missing_browser"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _find(value: str | None, env: str, names: tuple[str, ...]) -> str | None:
    for name in (value, os.environ.get(env), *names):
        if name and (os.path.isfile(name) or shutil.which(name)):
            return name if os.path.isfile(name) else shutil.which(name)
    return None


def find_browser(browser: str | None = None, driver: str | None = None) -> tuple[str, str]:
    """``(browser, driver)`` paths, or :class:`~orderflow.InputError` saying what is missing."""
    found_browser = _find(browser, "ORDERFLOW_CHROMIUM", _BROWSERS)
    found_driver = _find(driver, "ORDERFLOW_CHROMEDRIVER", ("chromedriver",))
    if found_browser is None or found_driver is None:
        raise InputError(
            "no headless Chromium here: install Debian's chromium and chromium-driver, or "
            "set ORDERFLOW_CHROMIUM and ORDERFLOW_CHROMEDRIVER to the browser and its driver"
        )
    return found_browser, found_driver


def missing_browser(browser: str | None = None, driver: str | None = None) -> str | None:
    """Why a headless Chromium cannot start here (one line), or ``None`` if it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed (pip install "orderflow[testing]")'
    try:
        find_browser(browser, driver)
    except InputError as exc:
        return str(exc)
    return None


def headless_chromium(
    profile: Path,
    *,
    window: str = "1280,900",
    browser: str | None = None,
    driver: str | None = None,
) -> Any:
    """A Selenium driver for headless Chromium with a fresh profile in ``profile``.

    The flags keep it off the network (no background updates, sync or first-run calls),
    which a closed CI machine would refuse. Call ``quit()`` when done.
    """
    binary, chromedriver = find_browser(browser, driver)
    webdriver = require("selenium.webdriver", "testing")
    service = require("selenium.webdriver.chrome.service", "testing")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--window-size={window}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=service.Service(chromedriver), options=options)
