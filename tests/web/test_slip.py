"""The paper-slip bridge page (R11): three facts at once, one answer, a clear lockout."""

from __future__ import annotations

from typing import Any

from orderflow.service import NO_SUCH_SLIP, OrderService
from orderflow.testing.contracts import MAINLINE, draft


def _post(client: Any, number: str, code: str, *, csrf: str | None = "cookie") -> Any:
    client.get("/slip")
    token = client.cookies.get("orderflow_form") if csrf == "cookie" else csrf
    data = {"number": number, "code": code}
    if token is not None:
        data["csrf"] = token
    return client.post("/slip", data=data)


def test_the_r11_example_shows_all_three_facts(svc: OrderService, client: Any) -> None:
    failed = svc.submit(draft(), actor="s").order
    for event in MAINLINE[:3]:
        svc.fire(failed.id, event, actor="p")
    svc.fire(
        failed.id, "fail_qc", actor="qc", reason="seal leak", context={"batch": "20260118-B03"}
    )
    svc.set_stock("Q23-7", 12)
    short = svc.submit(draft(), actor="s").order
    page = _post(client, short.number, svc.slip_code(short.id, actor="s"))
    assert page.status_code == 200
    text = page.text
    assert "seal ring Q23-7: 剩 12，需 105" in text and "(12 left, 105 needed)" in text
    assert "20260118-B03" in text
    assert '<p id="supplier">S2' in text


def test_wrong_code_and_unknown_number_get_the_same_page(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    wrong = _post(client, order.number, "000000" if code != "000000" else "111111")
    unknown = _post(client, "HY20990101-9", "123456")
    assert wrong.status_code == unknown.status_code == 404
    assert NO_SUCH_SLIP in wrong.text and NO_SUCH_SLIP in unknown.text
    assert wrong.text.replace(order.number, "N") == unknown.text.replace("HY20990101-9", "N")


def test_the_lockout_is_shown_with_its_end_in_factory_time(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    for _ in range(3):
        assert _post(client, order.number, "999999" if code != "999999" else "0").status_code == 404
    locked = _post(client, order.number, code)  # even the right code waits
    assert locked.status_code == 429
    assert 'id="locked"' in locked.text and "已锁定至" in locked.text
    # the service locks for 15 minutes from the first failure at 01:00 UTC: 09:15 local
    assert "2026-05-11 09:15" in locked.text
    assert 'id="facts"' not in locked.text


def test_a_post_without_the_form_token_is_refused(svc: OrderService, client: Any) -> None:
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    assert _post(client, order.number, code, csrf=None).status_code == 403
    assert _post(client, order.number, code, csrf="x" * 32).status_code == 403
    assert _post(client, order.number, code).status_code == 200


def test_the_qr_link_prefills_the_number(client: Any) -> None:
    page = client.get("/slip?n=HY20260511-1")
    assert 'value="HY20260511-1"' in page.text
    assert page.headers["cache-control"] == "no-store"
