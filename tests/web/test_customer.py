"""The customer status link (R9): what it shows, what it never shows, one 404, limits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.domain import OrderLine
from orderflow.exceptions import TransitionRefused
from orderflow.metrics import QueryKind
from orderflow.service import NO_SUCH_CODE, OrderService
from orderflow.service.orders import OrderDraft
from orderflow.testing.contracts import MAINLINE, draft
from tests.web.conftest import make_client, make_service


def _order(svc: OrderService) -> tuple[str, str]:
    submitted = svc.submit(draft(), actor="sales-zhang")
    assert submitted.query_token is not None
    return submitted.order.id, submitted.query_token


def test_the_page_shows_stage_departure_timeline_in_the_factory_zone(
    svc: OrderService, client: Any
) -> None:
    order_id, token = _order(svc)
    svc.fire(order_id, "lock_kitting", actor="planner")
    page = client.get(f"/t/{token}")
    assert page.status_code == 200
    text = page.text
    assert "齐套锁定 Kitting locked" in text and "待审核 Pending review" in text
    assert "2026-07-01" in text  # expected departure
    # submitted 01:00 UTC: 09:00 in Asia/Shanghai
    assert "2026-05-11 09:00" in text and "Asia/Shanghai" in text
    assert 'lang="zh-CN"' in text
    assert text.index("订单号") < text.index("Order <strong>")  # Chinese first


def test_json_twin_goes_through_the_converter(svc: OrderService, client: Any) -> None:
    _, token = _order(svc)
    body = client.get(f"/api/v1/t/{token}").json()
    assert body["stage"] == "pending_review"
    assert body["stage_label"] == "待审核 Pending review"
    assert body["expected_departure"] == "2026-07-01"
    assert body["history"] == [{"stage": "pending_review", "at": "2026-05-11T01:00:00+00:00"}]
    assert body["timezone"] == "Asia/Shanghai"
    assert set(body) == {
        "number",
        "stage",
        "stage_label",
        "since",
        "expected_departure",
        "history",
        "timezone",
    }


def test_unknown_wrong_and_malformed_codes_get_the_same_answer(
    svc: OrderService, client: Any
) -> None:
    _, token = _order(svc)
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    answers = [client.get(f"/t/{t}") for t in (wrong, "x" * 22, "not!a:token", "a" * 300)]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    assert NO_SUCH_CODE in answers[0].text
    api = [client.get(f"/api/v1/t/{t}") for t in (wrong, "x" * 22, "a" * 300)]
    assert {a.status_code for a in api} == {404}
    assert [a.json() for a in api] == [{"error": NO_SUCH_CODE}] * 3


def test_headers_forbid_caching_referrers_and_scripts(svc: OrderService, client: Any) -> None:
    _, token = _order(svc)
    for path in (f"/t/{token}", f"/api/v1/t/{token}", "/t/unknown-code-here"):
        headers = client.get(path).headers
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"


def test_each_view_is_a_query_event_with_the_stage_shown(svc: OrderService) -> None:
    order_id, token = _order(svc)
    with make_client(svc) as client:
        client.get(f"/t/{token}")
        client.get(f"/api/v1/t/{token}")
        client.get("/t/unknown-code-here")
    # leaving the client ran the app's shutdown, which stores the buffered views
    events = svc.query_events()
    assert [(e.order_id, e.kind, e.shown_stage) for e in events] == [
        (order_id, QueryKind.VIEWED, "pending_review")
    ] * 2


def test_a_client_over_its_budget_is_told_to_wait(svc: OrderService) -> None:
    _, token = _order(svc)
    with make_client(svc, customer_rate="3/minute") as client:
        codes = [client.get(f"/t/{token}").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/t/unknown-code-here")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_a_late_order_says_what_to_do(svc: OrderService) -> None:
    _, token = _order(svc)
    clock: Any = svc.clock
    clock.advance(dt.timedelta(days=60))  # past 2026-07-01
    with make_client(svc, support_contact="400-800-1234") as client:
        text = client.get(f"/t/{token}").text
    assert 'id="late"' in text and "400-800-1234" in text


def test_the_history_bundle_is_offered_only_when_enabled(svc: OrderService) -> None:
    _, token = _order(svc)
    with make_client(svc) as client:
        assert 'id="bundle"' not in client.get(f"/t/{token}").text
        assert client.get(f"/t/{token}/history.json").status_code == 404
    with make_client(svc, customer_bundle=True) as client:
        assert 'id="bundle"' in client.get(f"/t/{token}").text
        bundle = client.get(f"/t/{token}/history.json")
        assert bundle.status_code == 200
        assert bundle.json()["format"] == "orderflow-audit-bundle/1"
        assert client.get("/t/unknown-code-here/history.json").status_code == 404


def test_no_log_line_carries_the_query_code(
    svc: OrderService, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, token = _order(svc)
    with caplog.at_level(logging.INFO, logger="orderflow.web"):
        client.get(f"/t/{token}")
        client.get(f"/api/v1/t/{token}")
    assert caplog.records
    assert all(token not in r.getMessage() for r in caplog.records)
    assert "/t/<code>" in caplog.text


# internal values no customer response may contain: staff, customer, price, stock, supplier
SECRET_ACTOR = "operator-qian"
SECRET_PRICE = "98765.43"
INTERNAL = (
    "C001",
    "Ningbo Valves",
    SECRET_ACTOR,
    SECRET_PRICE,
    "Q23-7",
    "S1",
    "S2",
    "NB1",
    "credit",
    "HV-100",
    "sales-zhang",
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    qty=st.integers(min_value=1, max_value=2000),
    steps=st.integers(min_value=0, max_value=len(MAINLINE)),
    reason=st.text(alphabet="abcdefghijklmnopqrstuvwxyz缺料返工", min_size=6, max_size=20),
)
def test_no_customer_response_carries_an_internal_field(qty: int, steps: int, reason: str) -> None:
    svc = make_service()
    submitted = svc.submit(
        OrderDraft("C001", (OrderLine("HV-100", qty, SECRET_PRICE),), dt.date(2026, 7, 1), "NB1"),
        actor="sales-zhang",
    )
    assert submitted.query_token is not None
    order = submitted.order
    for event in MAINLINE[:steps]:
        try:
            svc.fire(order.id, event, actor=SECRET_ACTOR, reason="REASON-" + reason)
        except TransitionRefused:  # not enough seal rings for a large order: the walk ends
            break
    with make_client(svc) as client:
        for path in ("/t/", "/api/v1/t/"):
            body = client.get(path + submitted.query_token).text
            for value in (*INTERNAL, order.id, "REASON-"):
                assert value not in body, (path, value)
