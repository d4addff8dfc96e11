"""The parser on OCR-line fixtures: labels, tables, prose, skew, signature."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orderflow.intake.model import Region
from orderflow.intake.parser import NEIGHBOUR_FACTOR, SEAL_OVERLAP_FACTOR, parse_contract
from tests.intake.helpers import labelled_page, line, table_page

HEAD = [
    "合同编号：HT-2026-00123",
    "签订日期：2026年10月1日",
    "甲方（买方）：宁波华东阀门有限公司",
    "乙方（卖方）：浙江甬立液压阀门有限公司",
    "交货地址：浙江省宁波市北仑区明州路88号",
    "交货日期：2026年12月18日",
]
ROWS = [
    ["HV-012", "液压阀", "120", "台", "1,250.00", "150,000.00"],
    ["HV-007", "液压阀", "35", "套", "860.50", "30,117.50"],
]
SIGN = [line("甲方（盖章）：", 90, 1400), line("授权代表签字：", 90, 1490)]
#: A red seal over the signature block on page 0 / page 1.
SEAL = [Region(0, 150, 1350, 400, 1600)]
SEAL_P2 = [Region(1, 150, 1350, 400, 1600)]


def test_labelled_fields_and_table() -> None:
    c = parse_contract([labelled_page(HEAD) + table_page(ROWS) + SIGN], [SEAL])
    assert c.buyer.value == "宁波华东阀门有限公司"
    assert c.seller.value == "浙江甬立液压阀门有限公司"
    assert c.number.value == "HT-2026-00123"
    assert c.delivery_address.value == "浙江省宁波市北仑区明州路88号"
    assert c.requested_date.value == dt.date(2026, 12, 18)  # not the signing date
    assert [(ln.model.value, ln.qty.value, ln.unit.value) for ln in c.lines] == [
        ("HV-012", Decimal(120), "台"),
        ("HV-007", Decimal(35), "套"),
    ]
    assert c.lines[1].unit_price.value == Decimal("860.50")
    assert c.lines[1].amount.value == Decimal("30117.50")
    assert all(ln.amount_consistent for ln in c.lines)
    assert c.signature.value is True
    assert c.signature.confidence > 0.95


def test_each_field_keeps_its_source_text_and_region() -> None:
    c = parse_contract([labelled_page(HEAD)])
    assert c.buyer.source == "甲方（买方）：宁波华东阀门有限公司"
    assert c.buyer.region is not None
    assert c.buyer.region.page == 0
    assert c.buyer.region.y0 == 100 + 2 * 54


@pytest.mark.parametrize("angle", [-8.0, -3.5, 0.0, 4.0, 8.0])
def test_skewed_photo_keeps_rows_together(angle: float) -> None:
    page = labelled_page(HEAD, angle_deg=angle) + table_page(ROWS, angle_deg=angle)
    c = parse_contract([page])
    assert [ln.model.value for ln in c.lines] == ["HV-012", "HV-007"]
    assert [ln.amount.value for ln in c.lines] == [Decimal("150000.00"), Decimal("30117.50")]
    assert c.buyer.value == "宁波华东阀门有限公司"


def test_label_alone_in_its_box_takes_the_box_to_its_right() -> None:
    page = [line("需方：", 90, 100), line("宁波华东阀门有限公司", 250, 102, confidence=1.0)]
    c = parse_contract([page])
    assert c.buyer.value == "宁波华东阀门有限公司"
    assert c.buyer.confidence == pytest.approx(NEIGHBOUR_FACTOR)


def test_two_labels_run_together_without_spaces() -> None:
    page = [line("甲方：宁波华东阀门有限公司乙方：浙江甬立液压阀门有限公司", 90, 100)]
    c = parse_contract([page])
    assert c.buyer.value == "宁波华东阀门有限公司"
    assert c.seller.value == "浙江甬立液压阀门有限公司"


def test_signature_block_labels_are_not_the_buyer() -> None:
    c = parse_contract([[line("甲方（盖章）：", 90, 100), line("甲方向乙方订购下列产品", 90, 160)]])
    assert c.buyer.value is None
    assert c.buyer.confidence == 0


def test_prose_lines() -> None:
    page = [
        *labelled_page(HEAD),
        line("1.型号：HV-012，数量：120台，单价：1250.00元，金额：150000.00元", 110, 700),
        line("2.型号：HV-007，数量：35套，单价：860.50元，金额：30117.50元", 110, 760),
    ]
    c = parse_contract([page])
    assert [(ln.model.value, ln.qty.value, ln.unit.value) for ln in c.lines] == [
        ("HV-012", Decimal(120), "台"),
        ("HV-007", Decimal(35), "套"),
    ]
    assert c.lines[0].unit_price.value == Decimal("1250.00")


def test_value_confidence_comes_from_its_own_characters() -> None:
    text = "甲方（买方）：宁波华东阀门有限公司"
    chars = [0.5] * 7 + [0.99] * (len(text) - 7)  # a smudged label, a clean value
    base = line(text, 90, 100)
    sure = base.__class__(base.text, base.box, 0.5, 0, chars)
    assert parse_contract([[sure]]).buyer.confidence == pytest.approx(0.99)


def test_table_stops_at_the_total_row() -> None:
    page = table_page([*ROWS, ["合计", "", "155", "", "", "180,117.50"]])
    assert len(parse_contract([page]).lines) == 2


def test_merged_header_box_is_split_by_character_position() -> None:
    header = [line("型号", 90, 600), line("数量单位", 410, 600)]
    rows = [line("HV-012", 90, 656), line("120", 410, 656), line("台", 480, 656)]
    c = parse_contract([header + rows])
    assert c.lines[0].qty.value == Decimal(120)
    assert c.lines[0].unit.value == "台"


def test_signature_page_may_be_the_second_page() -> None:
    c = parse_contract([labelled_page(HEAD), SIGN], [[], SEAL_P2])
    assert c.signature.value is True


def test_no_signature_block_and_no_seal() -> None:
    c = parse_contract([labelled_page([*HEAD, "本合同一式两份，双方签字盖章后生效。"])], [[]])
    assert c.signature.value is False


def test_only_one_sign_of_signing_is_uncertain() -> None:
    unsealed = parse_contract([SIGN], [[]]).signature
    assert (unsealed.value, unsealed.confidence < 0.9) == (True, True)
    seal_only = parse_contract([labelled_page(HEAD)], [SEAL]).signature
    assert (seal_only.value, seal_only.confidence < 0.9) == (False, True)


def test_text_under_a_seal_loses_confidence() -> None:
    page = labelled_page(HEAD)
    buyer_box = page[2].region
    seal = Region(0, buyer_box.x0 + 200, buyer_box.y0 - 10, buyer_box.x0 + 420, buyer_box.y1 + 5)
    c = parse_contract([page], [[seal]])
    assert c.buyer.confidence == pytest.approx(0.99 * SEAL_OVERLAP_FACTOR)
    assert c.seller.confidence == pytest.approx(0.99)  # not under the seal
    assert c.signature.value is False  # a seal over the text is no signature page


def test_nothing_is_guessed_for_an_empty_page() -> None:
    c = parse_contract([[]])
    assert c.lines == ()
    assert all(f.value is None for f in (c.buyer, c.seller, c.number, c.requested_date))
