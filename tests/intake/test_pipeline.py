"""ContractIntake with a scripted OCR engine: the draft, the review items, the image hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal

import pytest

from orderflow.domain.master import Customer, Product
from orderflow.exceptions import InputError
from orderflow.geo import Factory, LatLon, Router, TableGeocoder
from orderflow.intake import ContractIntake, MasterData, OcrEngine, OcrLine
from orderflow.serialization import to_json
from tests.intake.helpers import labelled_page, line, table_page
from tests.intake.test_parser import HEAD, ROWS, SEAL, SIGN

MASTER = MasterData(
    [Customer("C1", "宁波华东阀门有限公司")],
    [Product("HV-012", "valve 12"), Product("HV-007", "valve 7")],
)


class Scripted:
    """An OcrEngine returning fixed lines per page, in call order."""

    def __init__(self, *pages: Sequence[OcrLine]) -> None:
        self.pages = list(pages)

    def read(self, image: bytes) -> Sequence[OcrLine]:
        return self.pages.pop(0)


def intake(*pages: Sequence[OcrLine], sealed: bool = True, **kw: object) -> ContractIntake:
    router = Router(
        [
            Factory("NB1", LatLon(29.8994, 121.8440), products={"HV-012", "HV-007"}),
            Factory("SZ1", LatLon(22.7209, 114.2468), products={"HV-012"}),
        ]
    )
    return ContractIntake(
        Scripted(*pages),
        MASTER,
        TableGeocoder.builtin(),
        router,
        seal_detector=lambda image, page: [SEAL[0]] if sealed else [],
        **kw,  # type: ignore[arg-type]
    )


def test_scripted_engine_satisfies_the_port() -> None:
    assert isinstance(Scripted(), OcrEngine)


def test_clean_contract_gives_a_draft_with_nothing_to_review() -> None:
    page = labelled_page(HEAD) + table_page(ROWS) + SIGN
    result = intake(page).read([b"page-1"])
    assert result.review == ()
    assert not result.needs_review
    draft = result.draft
    assert draft is not None
    assert draft.customer_id == "C1"
    assert draft.factory_id == "NB1"
    assert draft.requested_date == dt.date(2026, 12, 18)
    assert [(ln.product, ln.qty, ln.unit_price) for ln in draft.lines] == [
        ("HV-012", Decimal(120), Decimal("1250.00")),
        ("HV-007", Decimal(35), Decimal("860.50")),
    ]
    assert draft.delivery_address == "浙江省宁波市北仑区明州路88号"
    assert result.image_sha256 == (hashlib.sha256(b"page-1").hexdigest(),)
    assert "NB1" in result.route


def test_amount_that_is_not_qty_times_price_is_flagged() -> None:
    rows = [ROWS[0], ["HV-007", "液压阀", "35", "套", "860.50", "31,117.50"]]
    result = intake(labelled_page(HEAD) + table_page(rows) + SIGN).read([b"x"])
    assert [(r.field, r.reason) for r in result.review] == [("lines[1].amount", "amount_mismatch")]
    assert "35 x 860.50" in result.review[0].message


def test_missing_signature_page_is_flagged() -> None:
    result = intake(labelled_page(HEAD) + table_page(ROWS), sealed=False).read([b"x"])
    assert ("signature", "no_signature") in {(r.field, r.reason) for r in result.review}
    assert result.draft is not None  # the rest is usable; a person adds the page


def test_unknown_buyer_gives_no_draft_and_shows_candidates() -> None:
    head = [h if not h.startswith("甲方") else "甲方：上海新亚暖通有限公司" for h in HEAD]
    result = intake(labelled_page(head) + table_page(ROWS) + SIGN).read([b"x"])
    assert result.draft is None
    item = next(r for r in result.review if r.field == "buyer")
    assert item.reason == "no_match"
    assert "C1" in item.message
    assert item.region is not None


def test_low_confidence_field_is_flagged_with_its_region() -> None:
    page = labelled_page(HEAD) + table_page(ROWS) + SIGN
    page[4] = line(HEAD[4], 90, 100 + 4 * 54, confidence=0.6)
    result = intake(page).read([b"x"])
    item = next(r for r in result.review if r.field == "delivery_address")
    assert item.reason == "low_confidence"
    assert item.region == page[4].region
    assert result.draft is not None


def test_unknown_address_is_flagged() -> None:
    head = [h if not h.startswith("交货地址") else "交货地址：火星基地1号" for h in HEAD]
    result = intake(labelled_page(head) + table_page(ROWS) + SIGN).read([b"x"])
    assert ("delivery_address", "unknown_address") in {(r.field, r.reason) for r in result.review}
    assert result.draft is None  # no factory without a place


def test_pages_are_hashed_in_order() -> None:
    result = intake(labelled_page(HEAD) + table_page(ROWS), SIGN).read([b"one", b"two"])
    assert result.image_sha256 == tuple(hashlib.sha256(b).hexdigest() for b in (b"one", b"two"))
    assert result.contract.signature.value is True


def test_result_serialises_through_the_converter() -> None:
    result = intake(labelled_page(HEAD) + table_page(ROWS) + SIGN).read([b"x"])
    data = json.loads(to_json(result))
    assert data["draft"]["customer_id"] == "C1"
    assert data["draft"]["lines"][0]["qty"] == "120"
    assert data["contract"]["buyer"]["source"] == HEAD[2]


def test_no_pages_is_refused() -> None:
    with pytest.raises(InputError, match="at least one photo"):
        intake().read([])


def test_needs_a_router_or_a_default_factory() -> None:
    with pytest.raises(InputError, match="default_factory"):
        ContractIntake(Scripted(), MASTER, TableGeocoder.builtin())


def test_a_submitted_draft_records_the_photo_hash_not_the_photo() -> None:
    from orderflow.adapters.memory import MemoryStore
    from orderflow.audit import decode
    from orderflow.clock import FrozenClock
    from orderflow.service import OrderService

    page = labelled_page(HEAD) + table_page(ROWS) + SIGN
    result = intake(page).read([b"page-1"])
    assert result.draft is not None
    svc = OrderService(MemoryStore(), clock=FrozenClock(dt.datetime(2026, 11, 2, tzinfo=dt.UTC)))
    svc.put_customer(MASTER.customers[0])
    order = svc.submit(result.draft, actor="sales", context=result.audit_context).order
    (created,) = [decode(d) for _, d in svc.store.audit_chain(order.id)]
    ctx = created.context_map
    assert ctx["intake"] == "contract_photo"
    assert ctx["intake.sha256"] == hashlib.sha256(b"page-1").hexdigest()
    assert svc.history(order.id)[0].context["intake.sha256"] == ctx["intake.sha256"]
