"""A real headless Chromium for page tests and screenshots (Debian chromium + chromedriver).

Nothing is downloaded: the browser and its driver come from the system packages
``chromium`` and ``chromium-driver``; Selenium comes with ``orderflow[testing]``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from orderflow._extras import require

__all__ = ["CHROMEDRIVER", "CHROMIUM", "headless_chromium", "missing_browser"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing_browser() -> str | None:
    """Why a headless Chromium cannot start here (one line), or ``None`` if it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed (pip install "orderflow[testing]")'
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(path)):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


def headless_chromium(profile: Path, *, window: str = "1280,900") -> Any:
    """A Selenium driver for headless Chromium with a fresh profile in ``profile``.

    The flags keep it off the network (no background updates, sync or first-run calls),
    which a closed CI machine would refuse. Call ``quit()`` when done.
    """
    webdriver = require("selenium.webdriver", "testing")
    service = require("selenium.webdriver.chrome.service", "testing")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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
    return webdriver.Chrome(service=service.Service(CHROMEDRIVER), options=options)
