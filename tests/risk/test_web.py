"""The staff order page shows the risk notices; the customer's status page never does."""

from __future__ import annotations

import datetime as dt

import pytest

from orderflow import OrderDraft, OrderLine
from tests.risk.conftest import ZHANJIANG, make_service

pytest.importorskip("starlette")


def test_order_page_shows_flags_and_customer_page_does_not() -> None:
    from tests.web.conftest import login, make_client

    svc = make_service()
    draft = OrderDraft("C1", (OrderLine("HV-1", 10, 100),), dt.date(2026, 9, 1), "NB1",
                       delivery_address=ZHANJIANG)  # fmt: skip
    sub = svc.submit(draft, actor="sales")
    assert sub.flags
    with make_client(svc) as client:
        login(client)
        page = client.get(f"/orders/{sub.order.number}").text
        assert 'id="risk-flags"' in page
        assert "建议：启用深圳保税仓直发" in page and "add 10% spares" in page
        client.cookies.clear()
        customer = client.get(f"/t/{sub.query_token}").text
        assert sub.order.number in customer
        for word in ("risk", "风险", "typhoon", "备品"):
            assert word not in customer
