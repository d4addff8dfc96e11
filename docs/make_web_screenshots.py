"""Screenshots of the web for the docs: the customer page at 360 px and the dashboard.

Run from the repository root after ``orderflow demo`` (or ``orderflow simulate``):
``python docs/make_web_screenshots.py --db orderflow-demo.db``. A copy of the database
gets one new order modelled on the plant's own (query codes are stored only as hashes, so
the script makes one it knows) taken two stages on; the app is served on 127.0.0.1 in a
thread, a temporary group-admin user signs in, and the same headless Chromium as the
report screenshot (Debian ``chromium`` + ``chromium-driver``, ``selenium``, a CJK font such
as ``fonts-wqy-microhei``) captures ``docs/_static/web-customer.png`` and
``docs/_static/web-dashboard.png``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
from pathlib import Path

import orderflow
from orderflow.domain import OrderLine
from orderflow.exceptions import TransitionRefused
from orderflow.geo import Actor
from orderflow.service.orders import OrderDraft
from orderflow.testing.browser import headless_chromium
from orderflow.testing.webserver import running_server
from orderflow.web import StaffUser, WebConfig, create_app, hash_password

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "docs" / "_static"


def main() -> None:
    """Copy the database, add an order, serve it, and capture both pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("orderflow-demo.db"))
    parser.add_argument("--month", default="2026-11", help="dashboard month")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "plant.db"
        shutil.copy(args.db, db)
        svc = orderflow.connect(f"sqlite:///{db}")
        model = next(iter(svc.store.orders()))
        line = model.lines[0]
        submitted = svc.submit(
            OrderDraft(model.customer_id, (OrderLine(line.product, line.qty, line.unit_price),),
                       svc.local_date(svc.clock.now()) + dt.timedelta(days=21),
                       model.factory_id),
            actor="sales",
        )  # fmt: skip
        for event in ("lock_kitting", "dispatch_production"):
            try:
                svc.fire(submitted.order.id, event, actor="planner")
            except TransitionRefused:
                break
        user = StaffUser("docs", hash_password("docs-only"), Actor("docs", group_admin=True))
        app = create_app(svc, config=WebConfig(users=[user]))
        driver = headless_chromium(Path(tmp) / "profile", window="360,800")
        try:
            with running_server(app) as url:
                # a phone's viewport (headless windows stay wider than 500 px)
                driver.execute_cdp_cmd(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True},
                )
                driver.get(f"{url}/t/{submitted.query_token}")
                STATIC.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(STATIC / "web-customer.png"))
                driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
                driver.set_window_size(1280, 1300)
                driver.get(f"{url}/login?next=/dashboard%3Fmonth%3D{args.month}")
                driver.find_element("id", "user").send_keys("docs")
                driver.find_element("id", "password").send_keys("docs-only")
                driver.find_element("id", "sign-in").click()
                driver.save_screenshot(str(STATIC / "web-dashboard.png"))
        finally:
            driver.quit()
            svc.store.close()
    print(f"wrote {STATIC / 'web-customer.png'} and {STATIC / 'web-dashboard.png'}")


if __name__ == "__main__":
    main()
