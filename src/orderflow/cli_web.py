"""``orderflow serve``, ``orderflow slip`` and ``orderflow web-user`` (the ``web`` extra)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from orderflow._extras import require
from orderflow.exceptions import InputError

__all__ = ["add_web_commands"]

SECRET_ENV = "ORDERFLOW_WEB_SECRET"
"""Environment variable holding the session key (hex, >= 32 bytes); random if unset."""


def _config(args: argparse.Namespace) -> Any:
    from orderflow.web import WebConfig, load_users

    users = load_users(args.users) if args.users else {}
    secret = os.environ.get(SECRET_ENV, "")
    options: dict[str, Any] = {
        "users": users,
        "public_url": args.public_url,
        "secure_cookies": args.secure_cookies,
        "support_contact": args.support,
    }
    if secret:
        try:
            options["session_key"] = bytes.fromhex(secret)
        except ValueError:
            raise InputError(
                f"{SECRET_ENV} must be hex (e.g. python -c "
                "'import secrets; print(secrets.token_hex(32))')"
            ) from None
    return WebConfig(**options)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the customer, slip and staff web with uvicorn."""
    from orderflow.cli import open_service
    from orderflow.web import create_app

    uvicorn = require("uvicorn", "web")
    service = open_service(args.db)
    app = create_app(service, templates_dir=args.templates, config=_config(args))
    if not app.state.web.config.users:
        print(
            "no staff users (--users FILE): only the customer and slip pages work", file=sys.stderr
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # uvicorn's own access log prints full paths, which hold customer query codes: off;
    # orderflow.web logs each request with the code redacted instead
    uvicorn.run(
        app, host=args.host, port=args.port, access_log=False, log_level="info", server_header=False
    )
    service.store.close()
    return 0


def cmd_slip(args: argparse.Namespace) -> int:
    """Write an order's printable paper slip as one HTML file or an A5 PDF."""
    from orderflow.cli import open_service
    from orderflow.web import WebConfig, create_app
    from orderflow.web.printing import render_slip

    service = open_service(args.db)
    order = service.find(number=args.number)
    if order is None:
        raise InputError(f"no order numbered {args.number!r} in {args.db}")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".pdf"):
        raise InputError("--out must end in .html or .pdf")
    state = create_app(service, config=WebConfig()).state.web
    html = render_slip(state, order, actor="cli", public_url=args.public_url, standalone=True)
    if out.suffix.lower() == ".pdf":
        out.write_bytes(_pdf(html))
    else:
        out.write_text(html, encoding="utf-8")
    print(f"slip for {order.number} written to {out}")
    service.store.close()
    return 0


def _pdf(html: str) -> bytes:
    """The slip printed to an A5 PDF by headless Chromium (the testing extra and Debian's
    chromium + chromium-driver; nothing is downloaded)."""
    import base64
    import tempfile

    from orderflow.testing.browser import headless_chromium

    options = require("selenium.webdriver.common.print_page_options", "testing")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "slip.html"
        page.write_text(html, encoding="utf-8")
        driver = headless_chromium(Path(tmp) / "profile")
        try:
            driver.get(page.as_uri())
            printing = options.PrintOptions()
            printing.page_width, printing.page_height = 14.8, 21.0  # A5, in centimetres
            printing.margin_top = printing.margin_bottom = 0
            printing.margin_left = printing.margin_right = 0
            return base64.b64decode(driver.print_page(printing))
        finally:
            driver.quit()


def cmd_web_user(args: argparse.Namespace) -> int:
    """Add or replace a staff user (scrypt password hash) in a users TOML file."""
    import tomli_w

    from orderflow.web import hash_password

    path = Path(args.users)
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    factories: dict[str, str] = {}
    for item in args.factory:
        factory, _, role = item.partition("=")
        if not factory or not role:
            raise InputError(f"--factory {item!r}: expected FACTORY=ROLE, e.g. NB1=manager")
        factories[factory] = role
    if not factories and not args.group_admin:
        raise InputError("give at least one --factory FACTORY=ROLE, or --group-admin")
    password = os.environ.get("ORDERFLOW_WEB_PASSWORD") or getpass.getpass(
        f"password for {args.name}: "
    )
    entry: dict[str, Any] = {"password": hash_password(password), "factories": factories}
    if args.group_admin:
        entry["group_admin"] = True
    data.setdefault("users", {})[args.name] = entry
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    print(f"user {args.name} written to {path}")
    return 0


def add_web_commands(sub: Any) -> None:
    """Register ``serve``, ``slip`` and ``web-user`` on the ``orderflow`` parser."""
    from orderflow.cli import DEMO_DB

    def web_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--public-url",
            default="http://127.0.0.1:8000",
            help="address printed in slip QR codes (default %(default)s)",
        )

    serve = sub.add_parser("serve", help="serve the customer, slip and staff web (web extra)")
    serve.add_argument("--db", default=DEMO_DB)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--users", default="", help="staff users TOML (orderflow web-user)")
    serve.add_argument("--templates", default=None, help="folder of templates overriding ours")
    serve.add_argument("--secure-cookies", action="store_true", help="HTTPS-only cookies")
    serve.add_argument("--support", default="", help="customer service contact shown if late")
    web_options(serve)
    serve.set_defaults(func=cmd_serve)

    slip = sub.add_parser("slip", help="write an order's printable A5 paper slip (.html/.pdf)")
    slip.add_argument("number")
    slip.add_argument("--db", default=DEMO_DB)
    slip.add_argument("--out", default="slip.html")
    web_options(slip)
    slip.set_defaults(func=cmd_slip)

    user = sub.add_parser("web-user", help="add a staff user to a users TOML file")
    user.add_argument("name")
    user.add_argument("--users", default="users.toml")
    user.add_argument("--factory", action="append", default=[], help="FACTORY=ROLE, repeatable")
    user.add_argument("--group-admin", action="store_true", help="sees every factory")
    user.set_defaults(func=cmd_web_user)
