"""The app as a whole: error pages, template overrides, the extra, the commands."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from orderflow.cli import main
from orderflow.exceptions import MissingExtra
from orderflow.service import OrderService
from orderflow.testing.contracts import draft
from orderflow.web import create_app, load_users, verify_password
from orderflow.web.printing import barcode_svg, qr_svg
from orderflow.web.security import redact_path


def test_a_crash_is_a_plain_page_without_a_traceback(svc: OrderService, tmp_path: Path) -> None:
    (tmp_path / "customer.html").write_text("{{ no_such_variable.boom }}", encoding="utf-8")
    from starlette.testclient import TestClient

    token = svc.submit(draft(), actor="s").query_token
    app = create_app(svc, templates_dir=tmp_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get(f"/t/{token}")
    assert page.status_code == 500
    assert "Traceback" not in page.text and "no_such_variable" not in page.text
    assert "服务暂时出错" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_plant_overrides_a_template_by_name(svc: OrderService, tmp_path: Path) -> None:
    (tmp_path / "not_found.html").write_text(
        "{% extends 'base.html' %}{% block content %}<p id=plant>{{ message }}</p>{% endblock %}",
        encoding="utf-8",
    )
    from starlette.testclient import TestClient

    with TestClient(create_app(svc, templates_dir=tmp_path)) as client:
        page = client.get("/t/unknown-code-here")
    assert "<p id=plant>no order for this query code" in page.text
    assert "/static/site.css" in page.text  # the package's base template still serves


def test_templates_escape_what_they_show(svc: OrderService, client: Any) -> None:
    page = client.get("/slip?n=<script>alert(1)</script>")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


def test_unknown_paths_and_methods_get_the_error_page(client: Any) -> None:
    assert client.get("/nothing-here").status_code == 404
    assert "未找到" in client.get("/nothing-here").text
    assert client.delete("/slip").status_code == 405


def test_without_the_extra_the_error_names_the_install(
    svc: OrderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)
    with pytest.raises(MissingExtra, match=r'pip install "orderflow\[web\]"'):
        create_app(svc)


def test_static_files_may_be_cached_pages_may_not(client: Any) -> None:
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "max-age" in css.headers["cache-control"]
    assert client.get("/slip").headers["cache-control"] == "no-store"


def test_paths_are_redacted_for_logs() -> None:
    assert redact_path("/t/abcDEF123_-x") == "/t/<code>"
    assert redact_path("/api/v1/t/abc/extra") == "/api/v1/t/<code>/extra"
    assert redact_path("/slip") == "/slip"


def test_qr_and_barcode_are_inline_svg_without_styles() -> None:
    assert qr_svg("http://127.0.0.1:8000/slip?n=HY1").startswith("<svg")
    bar = barcode_svg("HV-100")
    assert bar.startswith("<svg") and "style=" not in bar and "<?xml" not in bar


def test_orderflow_slip_and_web_user_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import orderflow

    db = tmp_path / "plant.db"
    from orderflow.testing.contracts import seeded_service

    svc = seeded_service(orderflow.connect(f"sqlite:///{db}").store)
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    svc.store.close()
    out = tmp_path / "slip.html"
    assert main(["slip", order.number, "--db", str(db), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert code in html and "<style>" in html and "/static/" not in html
    assert main(["slip", "HY-NONE", "--db", str(db), "--out", str(out)]) == 1
    assert main(["slip", order.number, "--db", str(db), "--out", str(tmp_path / "s.png")]) == 1
    assert "no order numbered" in capsys.readouterr().err

    users = tmp_path / "users.toml"
    monkeypatch.setenv("ORDERFLOW_WEB_PASSWORD", "s3cret")
    assert main(["web-user", "li", "--users", str(users), "--factory", "NB1=manager"]) == 0
    stored = tomllib.loads(users.read_text(encoding="utf-8"))["users"]["li"]
    assert "s3cret" not in users.read_text(encoding="utf-8")
    assert verify_password("s3cret", stored["password"])
    assert load_users(users)["li"].actor.factory_ids == frozenset({"NB1"})
    assert main(["web-user", "zhao", "--users", str(users)]) == 1


@pytest.mark.browser
def test_orderflow_slip_prints_an_a5_pdf(tmp_path: Path) -> None:
    import orderflow
    from orderflow.testing.browser import missing_browser
    from orderflow.testing.contracts import seeded_service

    reason = missing_browser()
    if reason is not None:
        pytest.skip(reason)
    db = tmp_path / "plant.db"
    svc = seeded_service(orderflow.connect(f"sqlite:///{db}").store)
    order = svc.submit(draft(), actor="s").order
    svc.store.close()
    out = tmp_path / "slip.pdf"
    assert main(["slip", order.number, "--db", str(db), "--out", str(out)]) == 0
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    # A5 is 419.5 x 595.3 points (Chromium rounds to whole pixels); the slip fits one page
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) == 1
    width, height = (float(v) for v in boxes[0])
    assert abs(width - 419.5) < 2 and abs(height - 595.3) < 2
