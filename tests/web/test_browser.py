"""The web in a real headless Chromium: customer page at 360 and 1280 px, the printable
slip, a staff login and one staff action. Screenshots are kept under pytest's tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderflow.service import OrderService
from orderflow.testing.contracts import draft
from orderflow.testing.webserver import running_server
from orderflow.web import WebConfig, create_app
from tests.web.conftest import PASSWORD, USERS, make_service

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[OrderService, str, str]]:
    """A served plant with one order fired once; ``(service, base url, query code)``."""
    svc = make_service()
    submitted = svc.submit(draft(), actor="s")
    svc.fire(submitted.order.id, "lock_kitting", actor="planner")
    assert submitted.query_token is not None
    with running_server(create_app(svc, config=WebConfig(users=USERS))) as url:
        yield svc, url, submitted.query_token


def _artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "web-screenshots"


@pytest.mark.parametrize("width", [360, 1280])
def test_customer_page_reads_at_phone_and_desktop_width(
    driver: Any, site: tuple[OrderService, str, str], width: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    from selenium.webdriver.common.by import By

    _, url, token = site
    # headless Chromium will not make a window narrower than about 500 px: emulate the
    # phone's viewport instead, as its devtools do
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.get(f"{url}/t/{token}")
    assert driver.execute_script("return window.innerWidth;") == width
    stage = driver.find_element(By.ID, "stage")
    assert stage.text == "齐套锁定 Kitting locked"
    # nothing wider than the screen: no sideways scrolling on a phone
    scroll, inner = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth];"
    )
    assert scroll <= inner
    # the stylesheet applied (CSP allows 'self'): the card has its white background
    assert (
        driver.execute_script(
            "return getComputedStyle(document.getElementById('status')).backgroundColor;"
        )
        == "rgb(255, 255, 255)"
    )
    assert stage.rect["x"] >= 0 and stage.rect["x"] + stage.rect["width"] <= inner
    out = _artefacts(tmp_path_factory)
    out.mkdir(exist_ok=True)
    driver.save_screenshot(str(out / f"customer-{width}.png"))
    assert (out / f"customer-{width}.png").stat().st_size > 5000
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _submit(driver: Any, button: Any) -> None:
    """Click a form's button and wait for the page it posts to.

    A click returns once the browser has the event, not once the POST is
    answered: reading the store straight after raced the server (seen in CI).
    """
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    button.click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(button))
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def test_login_dashboard_action_and_print_view(
    driver: Any, site: tuple[OrderService, str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    svc, url, _ = site
    order = next(iter(svc.store.orders()))
    driver.set_window_size(1280, 1000)
    driver.get(f"{url}/dashboard")
    assert "/login" in driver.current_url
    driver.find_element(By.ID, "user").send_keys(USERS[0].id)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    _submit(driver, driver.find_element(By.ID, "sign-in"))
    assert driver.current_url.endswith("/dashboard")
    ring = driver.execute_script(
        "return document.querySelector('#chart-status').getBoundingClientRect().width;"
    )
    assert ring > 100
    driver.save_screenshot(str(_artefacts(tmp_path_factory) / "dashboard.png"))

    driver.get(f"{url}/orders/{order.number}")
    Select(driver.find_element(By.ID, "event")).select_by_value("dispatch_production")
    driver.find_element(By.ID, "reason").send_keys("line 2 free")
    _submit(driver, driver.find_element(By.ID, "fire"))
    stage = svc.get(order.id).stage
    assert stage != "kitting_locked"
    assert driver.find_element(By.ID, "stage").text == str(svc.workflow.definition.label(stage))
    last = svc.history(order.id)[-1]
    assert (last.actor, last.context["reason"]) == ("li", "line 2 free")

    driver.get(f"{url}/orders/{order.number}/slip")
    code = driver.find_element(By.ID, "code")
    slip = driver.find_element(By.ID, "slip")
    assert code.text == svc.slip_code(order.id, actor="s")
    # the code sits top right on the slip
    assert code.rect["y"] - slip.rect["y"] < 40
    assert code.rect["x"] + code.rect["width"] > slip.rect["x"] + slip.rect["width"] * 0.7
    qr = driver.execute_script("return document.querySelector('#qr svg').getBBox().width;")
    assert qr > 50
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        background = driver.execute_script(
            "return getComputedStyle(document.body).backgroundColor;"
        )
        assert background == "rgb(255, 255, 255)"  # the screen-only grey is gone on paper
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    driver.save_screenshot(str(_artefacts(tmp_path_factory) / "slip.png"))
