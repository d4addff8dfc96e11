"""Staff pages: login, sessions, CSRF, the R10 scope on every route, actions audited."""

from __future__ import annotations

import re
from typing import Any

import pytest

from orderflow.exceptions import AccessDenied
from orderflow.service import OrderService
from orderflow.testing.contracts import draft
from orderflow.web.auth import Session, open_session, seal_session
from tests.web.conftest import PASSWORD, login


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_staff_pages_need_a_login(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    for path in ("/dashboard", f"/orders/{order.number}", f"/orders/{order.number}/slip"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/")
    assert client.post(f"/orders/{order.number}/fire", data={"event": "cancel"}).status_code == 403


def test_wrong_password_and_unknown_user_get_the_same_answer(client: Any) -> None:
    client.get("/login")
    token = client.cookies.get("orderflow_form")
    wrong = client.post("/login", data={"user": "li", "password": "nope", "csrf": token})
    nobody = client.post("/login", data={"user": "nobody", "password": PASSWORD, "csrf": token})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.text == nobody.text
    assert "orderflow_session" not in client.cookies


def test_login_needs_its_form_token_and_goes_only_to_local_pages(client: Any) -> None:
    client.get("/login")
    token = client.cookies.get("orderflow_form")
    refused = client.post("/login", data={"user": "li", "password": PASSWORD})
    assert refused.status_code == 403
    response = client.post(
        "/login",
        data={"user": "li", "password": PASSWORD, "csrf": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_sessions_are_signed_and_expire() -> None:
    key = b"k" * 32
    sealed = seal_session(Session("li", 2_000_000_000, "c"), key)
    assert open_session(sealed, key, now=1_000_000_000) == Session("li", 2_000_000_000, "c")
    assert open_session(sealed, key, now=2_000_000_001) is None
    assert open_session(sealed, b"x" * 32, now=0) is None
    forged = seal_session(Session("zhao", 2_000_000_000, "c"), b"x" * 32)
    assert open_session(forged.split(".")[0] + "." + sealed.split(".")[1], key, now=0) is None
    assert open_session("garbage", key) is None


def test_every_post_needs_the_session_csrf_token(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    login(client)
    before = len(svc.history(order.id))
    for token in (None, "", "forged-token"):
        data = {"event": "lock_kitting"} | ({"csrf": token} if token is not None else {})
        assert client.post(f"/orders/{order.number}/fire", data=data).status_code == 403
    assert len(svc.history(order.id)) == before


def test_dashboard_draws_the_report_charts_and_links_orders(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    svc.open_incident(order.id, "stock_shortage", actor="qc", note="short")
    login(client)
    page = client.get("/dashboard?month=2026-05")
    assert page.status_code == 200
    for chart in ("chart-status", "chart-heatmap", "chart-funnel", "chart-closure"):
        assert f'id="{chart}"' in page.text
    assert "#d62728" in page.text  # stock shortage is red (R8)
    assert f'href="/orders/{order.number}"' in page.text
    assert client.get("/dashboard?month=2026-13").status_code == 400


def test_staff_actions_end_in_audit_entries(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    csrf = login(client)
    url = f"/orders/{order.number}"
    fired = client.post(
        f"{url}/fire", data={"csrf": csrf, "event": "lock_kitting", "reason": "stock checked"}
    )
    assert fired.status_code == 200 and 'id="done"' in fired.text
    last = svc.history(order.id)[-1]
    assert (last.actor, last.to_stage, last.context["reason"]) == (
        "li",
        "kitting_locked",
        "stock checked",
    )
    client.post(f"{url}/incidents", data={"csrf": csrf, "category": "logistics", "note": "late"})
    (incident,) = svc.incidents()
    assert incident.operator == "li"
    client.post(
        f"{url}/resolve", data={"csrf": csrf, "incident": incident.id, "root_cause": "truck"}
    )
    assert svc.incidents()[0].root_cause == "truck"
    scanned = client.post(
        f"{url}/scans", data={"csrf": csrf, "component": "Q23-7", "qty": "5", "direction": "in"}
    )
    assert scanned.status_code == 200
    assert svc.stock("Q23-7").on_hand == 1005
    assert [h.type.value for h in svc.history(order.id)][-3:] == [
        "state_change",
        "exception",
        "exception",
    ]


def test_a_refused_event_shows_every_failed_guard(svc: OrderService, client: Any) -> None:
    svc.set_stock("Q23-7", 12)
    order = svc.submit(draft(), actor="s").order
    csrf = login(client)
    refused = client.post(
        f"/orders/{order.number}/fire", data={"csrf": csrf, "event": "lock_kitting"}
    )
    assert refused.status_code == 409
    assert 'id="refusal"' in refused.text and "105" in refused.text
    assert svc.get(order.id).stage == "pending_review"


def test_a_factory_b_user_gets_the_r10_message_on_every_route(
    svc: OrderService, client: Any
) -> None:
    order = svc.submit(draft(), actor="s").order
    svc.open_incident(order.id, "logistics", actor="qc")
    (incident,) = svc.incidents()
    csrf = login(client, "wu")
    version = svc.get(order.id).version
    url = f"/orders/{order.number}"
    walks: list[tuple[str, str, dict[str, str]]] = [
        ("GET", url, {}),
        ("GET", f"{url}/slip", {}),
        ("POST", f"{url}/fire", {"event": "lock_kitting", "reason": "x"}),
        ("POST", f"{url}/incidents", {"category": "logistics"}),
        ("POST", f"{url}/resolve", {"incident": incident.id, "root_cause": "x"}),
        ("POST", f"{url}/scans", {"component": "Q23-7", "qty": "1", "direction": "out"}),
    ]
    for method, path, data in walks:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf": csrf, **data})
        assert response.status_code == 403, path
        assert AccessDenied.MESSAGE_ZH in response.text, path
        assert order.customer_id not in response.text, path
    assert svc.get(order.id).version == version
    assert svc.stock("Q23-7").on_hand == 1000
    dashboard = client.get("/dashboard?month=2026-05").text  # B's dashboard: no A order
    assert order.number not in dashboard


def test_every_staff_route_is_walked_by_the_access_test(client: Any) -> None:
    # a new staff route must be added to the walk above
    routes = {r.path for r in client.app.routes if hasattr(r, "methods")}
    staff = {p for p in routes if p.startswith("/orders")}
    assert staff == {
        "/orders/{number}",
        "/orders/{number}/slip",
        "/orders/{number}/fire",
        "/orders/{number}/incidents",
        "/orders/{number}/resolve",
        "/orders/{number}/scans",
    }


def test_the_printable_slip_has_code_qr_and_barcode(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    login(client)
    page = client.get(f"/orders/{order.number}/slip")
    assert page.status_code == 200
    text = page.text
    code = svc.slip_code(order.id, actor="s")
    assert re.search(rf'<div class="code" id="code"[^>]*>{code}</div>', text)
    assert 'class="segno"' in text and 'id="barcode_group"' in text
    assert "style=" not in text  # the CSP forbids inline styles
    assert "/static/slip.css" in text


@pytest.mark.parametrize("path", ["/orders/NO-SUCH-1", "/orders/NO-SUCH-1/slip"])
def test_unknown_order_numbers_are_404(client: Any, path: str) -> None:
    login(client)
    assert client.get(path).status_code == 404
